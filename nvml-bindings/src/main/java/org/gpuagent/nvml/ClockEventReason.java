package org.gpuagent.nvml;

import java.util.EnumSet;
import java.util.Set;

/**
 * Bits of {@code nvmlClocksEventReasons} (called throttle reasons before driver 535).
 * {@link #label()} is the metric label value.
 */
public enum ClockEventReason {
    GPU_IDLE(0x1L, "gpu_idle"),
    APPLICATIONS_CLOCKS_SETTING(0x2L, "applications_clocks_setting"),
    SW_POWER_CAP(0x4L, "sw_power_cap"),
    HW_SLOWDOWN(0x8L, "hw_slowdown"),
    SYNC_BOOST(0x10L, "sync_boost"),
    SW_THERMAL_SLOWDOWN(0x20L, "sw_thermal_slowdown"),
    HW_THERMAL_SLOWDOWN(0x40L, "hw_thermal_slowdown"),
    HW_POWER_BRAKE_SLOWDOWN(0x80L, "hw_power_brake_slowdown"),
    DISPLAY_CLOCK_SETTING(0x100L, "display_clock_setting");

    private final long mask;
    private final String label;

    ClockEventReason(long mask, String label) {
        this.mask = mask;
        this.label = label;
    }

    public long mask() {
        return mask;
    }

    public String label() {
        return label;
    }

    public boolean isActiveIn(long bits) {
        return (bits & mask) != 0;
    }

    /** The named reasons set in {@code bits}; bits this enum does not name are ignored. */
    public static Set<ClockEventReason> decode(long bits) {
        EnumSet<ClockEventReason> set = EnumSet.noneOf(ClockEventReason.class);
        for (ClockEventReason r : values()) {
            if (r.isActiveIn(bits)) {
                set.add(r);
            }
        }
        return set;
    }
}
