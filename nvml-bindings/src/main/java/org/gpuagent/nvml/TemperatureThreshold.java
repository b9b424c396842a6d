package org.gpuagent.nvml;

/** {@code nvmlTemperatureThresholds_t} values the agent reads. */
public enum TemperatureThreshold {
    SHUTDOWN(0), SLOWDOWN(1), MEM_MAX(2), GPU_MAX(3);

    private final int code;

    TemperatureThreshold(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }
}
