package org.gpuagent.nvml.sampler;

import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.gpuagent.nvml.ClockType;
import org.gpuagent.nvml.ProcessInfo;
import org.gpuagent.nvml.ProcessUtilizationSample;
import org.gpuagent.nvml.TemperatureThreshold;

/**
 * The fields the sampler reads every Nth tick and carries forward in between (the same object in
 * every snapshot until the next read). A list is absent when its call failed, which is not the same
 * as empty (no process). {@code processUtilization} holds the samples newer than the previous slow
 * read. The power limit's range and default change only when an administrator changes them, so
 * they are read here too.
 */
public record SlowFields(Instant readAt,
                         Optional<List<ProcessInfo>> computeProcesses,
                         Optional<List<ProcessInfo>> graphicsProcesses,
                         Optional<List<ProcessUtilizationSample>> processUtilization,
                         PcieReadings pcie,
                         EnumReadings<TemperatureThreshold> temperatureThresholds,
                         EnumReadings<ClockType> maxClocks,
                         PowerLimitReadings powerLimits) {
    public SlowFields {
        Objects.requireNonNull(readAt, "readAt");
        computeProcesses = immutable(computeProcesses, "computeProcesses");
        graphicsProcesses = immutable(graphicsProcesses, "graphicsProcesses");
        processUtilization = immutable(processUtilization, "processUtilization");
        Objects.requireNonNull(pcie, "pcie");
        Objects.requireNonNull(temperatureThresholds, "temperatureThresholds");
        Objects.requireNonNull(maxClocks, "maxClocks");
        Objects.requireNonNull(powerLimits, "powerLimits");
    }

    /** Keeps the Optional as it is when its list is already unmodifiable (List.copyOf returns it), so carrying forward allocates nothing. */
    private static <T> Optional<List<T>> immutable(Optional<List<T>> list, String what) {
        Objects.requireNonNull(list, what);
        if (list.isEmpty()) {
            return list;
        }
        List<T> copy = List.copyOf(list.get());
        return copy == list.get() ? list : Optional.of(copy);
    }
}
