package org.gpuagent.nvml.sampler;

import java.util.Objects;
import java.util.OptionalLong;

/**
 * The power limit's range and default in milliwatts, each absent when the GPU does not report it
 * (the enforced limit itself is {@link DeviceSnapshot#enforcedPowerLimitMilliwatts()}).
 */
public record PowerLimitReadings(OptionalLong minMilliwatts, OptionalLong maxMilliwatts,
                                 OptionalLong defaultMilliwatts) {
    public static final PowerLimitReadings NONE = new PowerLimitReadings(OptionalLong.empty(), OptionalLong.empty(),
            OptionalLong.empty());

    public PowerLimitReadings {
        Objects.requireNonNull(minMilliwatts, "minMilliwatts");
        Objects.requireNonNull(maxMilliwatts, "maxMilliwatts");
        Objects.requireNonNull(defaultMilliwatts, "defaultMilliwatts");
    }
}
