package org.gpuagent.nvml.sampler;

import java.util.Objects;
import java.util.OptionalInt;
import org.gpuagent.nvml.TemperatureThreshold;

/** The GPU's temperature thresholds in degrees Celsius, each absent when not reported. */
public record TemperatureThresholds(OptionalInt shutdown, OptionalInt slowdown, OptionalInt memMax, OptionalInt gpuMax) {
    public static final TemperatureThresholds NONE = new TemperatureThresholds(OptionalInt.empty(), OptionalInt.empty(),
            OptionalInt.empty(), OptionalInt.empty());

    public TemperatureThresholds {
        Objects.requireNonNull(shutdown, "shutdown");
        Objects.requireNonNull(slowdown, "slowdown");
        Objects.requireNonNull(memMax, "memMax");
        Objects.requireNonNull(gpuMax, "gpuMax");
    }

    public OptionalInt get(TemperatureThreshold threshold) {
        return switch (threshold) {
            case SHUTDOWN -> shutdown;
            case SLOWDOWN -> slowdown;
            case MEM_MAX -> memMax;
            case GPU_MAX -> gpuMax;
        };
    }
}
