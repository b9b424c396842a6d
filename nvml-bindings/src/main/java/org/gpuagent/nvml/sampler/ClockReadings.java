package org.gpuagent.nvml.sampler;

import java.util.Objects;
import java.util.OptionalInt;
import org.gpuagent.nvml.ClockType;

/** One value per {@link ClockType} in MHz (current or maximum), each absent when the GPU did not answer. */
public record ClockReadings(OptionalInt graphicsMhz, OptionalInt smMhz, OptionalInt memoryMhz, OptionalInt videoMhz) {
    public static final ClockReadings NONE = new ClockReadings(OptionalInt.empty(), OptionalInt.empty(),
            OptionalInt.empty(), OptionalInt.empty());

    public ClockReadings {
        Objects.requireNonNull(graphicsMhz, "graphicsMhz");
        Objects.requireNonNull(smMhz, "smMhz");
        Objects.requireNonNull(memoryMhz, "memoryMhz");
        Objects.requireNonNull(videoMhz, "videoMhz");
    }

    public OptionalInt get(ClockType type) {
        return switch (type) {
            case GRAPHICS -> graphicsMhz;
            case SM -> smMhz;
            case MEMORY -> memoryMhz;
            case VIDEO -> videoMhz;
        };
    }
}
