package org.gpuagent.nvml;

/** {@code nvmlPcieUtilCounter_t}: the direction of {@link NvmlDevice#pcieThroughputKiBps}. */
public enum PcieCounter {
    TX(0), RX(1);

    private final int code;

    PcieCounter(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }
}
