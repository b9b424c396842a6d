package org.gpuagent.nvml.sim;

/**
 * A simulated process asked for more frame-buffer memory than is free: what CUDA reports as
 * {@code CUDA_ERROR_OUT_OF_MEMORY}. Nothing changed on the device.
 */
public final class CudaOutOfMemoryException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int deviceIndex;
    private final int pid;
    private final long requestedBytes;
    private final long freeBytes;

    CudaOutOfMemoryException(int deviceIndex, int pid, String what, long requestedBytes, long freeBytes) {
        super("CUDA_ERROR_OUT_OF_MEMORY: pid " + pid + " " + what + " needs " + mib(requestedBytes) + " but GPU "
                + deviceIndex + " has " + mib(freeBytes) + " free");
        this.deviceIndex = deviceIndex;
        this.pid = pid;
        this.requestedBytes = requestedBytes;
        this.freeBytes = freeBytes;
    }

    private static String mib(long bytes) {
        return String.format(java.util.Locale.ROOT, "%.1f MiB", bytes / 1048576.0);
    }

    public int deviceIndex() {
        return deviceIndex;
    }

    public int pid() {
        return pid;
    }

    public long requestedBytes() {
        return requestedBytes;
    }

    public long freeBytes() {
        return freeBytes;
    }
}
