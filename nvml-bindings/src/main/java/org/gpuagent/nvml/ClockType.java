package org.gpuagent.nvml;

/** {@code nvmlClockType_t}; {@link #label()} is the lower-case name used in metric labels. */
public enum ClockType {
    GRAPHICS(0, "graphics"), SM(1, "sm"), MEMORY(2, "memory"), VIDEO(3, "video");

    private final int code;
    private final String label;

    ClockType(int code, String label) {
        this.code = code;
        this.label = label;
    }

    public int code() {
        return code;
    }

    public String label() {
        return label;
    }
}
