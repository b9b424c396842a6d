package org.gpuagent.nvml.sampler;

/**
 * Which NVML call the collect in flight is in, for the watchdog's message when it blocks. Written
 * by the collecting thread before each call, read by the watchdog: volatile, and constants only,
 * so keeping it up to date allocates nothing.
 */
final class CallInProgress {
    private volatile String call = "";
    private volatile int device = -1;

    /** Before calling {@code label} on GPU {@code deviceIndex} (-1: not a device call). */
    void enter(String label, int deviceIndex) {
        call = label;
        device = deviceIndex;
    }

    void clear() {
        enter("", -1);
    }

    /** e.g. {@code temperatureCelsius on GPU 0}, or {@code the driver} between calls. */
    String describe() {
        String c = call;
        int d = device;
        return (c.isEmpty() ? "the driver" : c) + (d >= 0 ? " on GPU " + d : "");
    }
}
