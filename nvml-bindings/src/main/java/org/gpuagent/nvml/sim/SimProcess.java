package org.gpuagent.nvml.sim;

import org.gpuagent.nvml.ProcessInfo.ProcessKind;

/**
 * A process holding a context on a {@link SimulatedDevice}. Its used memory is the profile's
 * context cost plus what it allocated; its load drives the device's utilization, power and heat.
 * Thread-safe (every change goes through the host's lock).
 */
public final class SimProcess {
    private final SimulatedDevice device;
    private final int pid;
    private final String name;
    private final ProcessKind kind;
    private final long contextBytes;

    // guarded by the host's lock
    private long allocatedBytes;
    private int smPercent;
    private int encoderPercent;
    private int decoderPercent;
    private boolean running = true;

    SimProcess(SimulatedDevice device, int pid, String name, ProcessKind kind, long contextBytes) {
        this.device = device;
        this.pid = pid;
        this.name = name;
        this.kind = kind;
        this.contextBytes = contextBytes;
    }

    public int pid() {
        return pid;
    }

    public String name() {
        return name;
    }

    public ProcessKind kind() {
        return kind;
    }

    public SimulatedDevice device() {
        return device;
    }

    /** Context plus allocations: what NVML lists for this process. 0 once it exited. */
    public long usedBytes() {
        synchronized (device.lock()) {
            return running ? contextBytes + allocatedBytes : 0;
        }
    }

    public long allocatedBytes() {
        synchronized (device.lock()) {
            return allocatedBytes;
        }
    }

    public boolean isRunning() {
        synchronized (device.lock()) {
            return running;
        }
    }

    /**
     * Allocates {@code bytes} of frame buffer ({@code cuMemAlloc}).
     *
     * @throws CudaOutOfMemoryException when less than {@code bytes} is free; nothing changes
     * @throws IllegalStateException when the process has exited
     */
    public SimProcess allocate(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("cannot allocate a negative size: " + bytes);
        }
        device.allocate(this, bytes);
        return this;
    }

    /** Frees {@code bytes} of what this process allocated (not its context). */
    public SimProcess free(long bytes) {
        device.free(this, bytes);
        return this;
    }

    /**
     * Sets how busy this process keeps the SMs, NVENC and NVDEC, in percent of each engine. Loads
     * of all processes add up (capped at 100 per engine); a card without NVENC ignores encoder load.
     */
    public SimProcess setLoad(int smPercent, int encoderPercent, int decoderPercent) {
        checkPercent(smPercent, "SM");
        checkPercent(encoderPercent, "encoder");
        checkPercent(decoderPercent, "decoder");
        device.setLoad(this, smPercent, encoderPercent, decoderPercent);
        return this;
    }

    /** Ends the process: its context and allocations are freed. Idempotent. */
    public void exit() {
        device.exit(this);
    }

    public int smPercent() {
        synchronized (device.lock()) {
            return smPercent;
        }
    }

    public int encoderPercent() {
        synchronized (device.lock()) {
            return encoderPercent;
        }
    }

    public int decoderPercent() {
        synchronized (device.lock()) {
            return decoderPercent;
        }
    }

    @Override
    public String toString() {
        return "SimProcess[pid=" + pid + ", name=" + name + ", kind=" + kind + ", gpu=" + device.index() + "]";
    }

    private static void checkPercent(int v, String engine) {
        if (v < 0 || v > 100) {
            throw new IllegalArgumentException(engine + " load must be 0..100 percent, got " + v);
        }
    }

    // ---- state, called by SimulatedDevice under the host's lock ----

    long contextBytesLocked() {
        return contextBytes;
    }

    long allocatedLocked() {
        return allocatedBytes;
    }

    void allocatedLocked(long bytes) {
        this.allocatedBytes = bytes;
    }

    long usedLocked() {
        return contextBytes + allocatedBytes;
    }

    boolean runningLocked() {
        return running;
    }

    void stopLocked() {
        running = false;
    }

    int smLocked() {
        return smPercent;
    }

    int encoderLocked() {
        return encoderPercent;
    }

    int decoderLocked() {
        return decoderPercent;
    }

    void loadLocked(int sm, int enc, int dec) {
        this.smPercent = sm;
        this.encoderPercent = enc;
        this.decoderPercent = dec;
    }
}
