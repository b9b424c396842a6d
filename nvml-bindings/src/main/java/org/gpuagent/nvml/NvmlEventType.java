package org.gpuagent.nvml;

/** {@code nvmlEventType*} bits the agent registers for. */
public final class NvmlEventType {
    public static final long SINGLE_BIT_ECC_ERROR = 0x1L;
    public static final long DOUBLE_BIT_ECC_ERROR = 0x2L;
    public static final long PSTATE = 0x4L;
    public static final long XID_CRITICAL_ERROR = 0x8L;
    public static final long CLOCK = 0x10L;
    public static final long POWER_SOURCE_CHANGE = 0x80L;
    public static final long MIG_CONFIG_CHANGE = 0x100L;

    /** Xid 79: "GPU has fallen off the bus". */
    public static final long XID_GPU_FELL_OFF_BUS = 79;

    private NvmlEventType() {
    }
}
