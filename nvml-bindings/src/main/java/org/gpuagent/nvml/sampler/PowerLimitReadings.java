package org.gpuagent.nvml.sampler;

import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import org.gpuagent.nvml.PowerLimitConstraints;

/**
 * The power limit's range and default in milliwatts, each absent when the GPU does not report it
 * (the enforced limit itself is {@link DeviceSnapshot#enforcedPowerLimitMilliwatts()}). The range
 * is kept as the device answered it: copying it into two values would leave the answer behind as
 * garbage on every slow read.
 */
public record PowerLimitReadings(Optional<PowerLimitConstraints> range, OptionalLong defaultMilliwatts) {
    public static final PowerLimitReadings NONE = new PowerLimitReadings(Optional.empty(), OptionalLong.empty());

    public PowerLimitReadings {
        Objects.requireNonNull(range, "range");
        Objects.requireNonNull(defaultMilliwatts, "defaultMilliwatts");
    }

    public OptionalLong minMilliwatts() {
        return range.isPresent() ? OptionalLong.of(range.get().minMilliwatts()) : OptionalLong.empty();
    }

    public OptionalLong maxMilliwatts() {
        return range.isPresent() ? OptionalLong.of(range.get().maxMilliwatts()) : OptionalLong.empty();
    }
}
