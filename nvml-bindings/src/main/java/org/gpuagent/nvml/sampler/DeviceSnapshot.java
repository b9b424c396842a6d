package org.gpuagent.nvml.sampler;

import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import org.gpuagent.nvml.Bar1Memory;
import org.gpuagent.nvml.Brand;
import org.gpuagent.nvml.ClockEventReason;
import org.gpuagent.nvml.ClockType;
import org.gpuagent.nvml.ComputeCapability;
import org.gpuagent.nvml.EncoderStats;
import org.gpuagent.nvml.EngineUtilization;
import org.gpuagent.nvml.MemoryInfo;
import org.gpuagent.nvml.NvmlDevice;
import org.gpuagent.nvml.ProcessInfo;
import org.gpuagent.nvml.ProcessUtilizationSample;
import org.gpuagent.nvml.TemperatureThreshold;
import org.gpuagent.nvml.Utilization;

/**
 * One GPU as the sampler read it in one collect. Every field mirrors the {@link NvmlDevice} query
 * of the same name; a field is absent when the GPU does not support it or when its call failed in
 * this collect (the snapshot's {@link GpuSnapshot#errors()} then says which). Slow fields (process
 * lists, per-process utilization, PCIe, thresholds, maximum clocks, the power limit's range) come
 * from {@link #slow()}, read every Nth tick.
 */
public record DeviceSnapshot(DeviceIdentity identity,
                             Optional<MemoryInfo> memory,
                             Optional<Bar1Memory> bar1Memory,
                             Optional<Utilization> utilization,
                             Optional<EngineUtilization> encoderUtilization,
                             Optional<EngineUtilization> decoderUtilization,
                             Optional<EncoderStats> encoderStats,
                             OptionalInt temperatureCelsius,
                             OptionalInt fanSpeedPercent,
                             OptionalLong powerUsageMilliwatts,
                             OptionalLong enforcedPowerLimitMilliwatts,
                             OptionalLong totalEnergyMillijoules,
                             ClockReadings clocks,
                             OptionalInt performanceState,
                             OptionalLong clockEventReasons,
                             SlowFields slow) {

    public DeviceSnapshot {
        Objects.requireNonNull(identity, "identity");
        Objects.requireNonNull(memory, "memory");
        Objects.requireNonNull(bar1Memory, "bar1Memory");
        Objects.requireNonNull(utilization, "utilization");
        Objects.requireNonNull(encoderUtilization, "encoderUtilization");
        Objects.requireNonNull(decoderUtilization, "decoderUtilization");
        Objects.requireNonNull(encoderStats, "encoderStats");
        Objects.requireNonNull(temperatureCelsius, "temperatureCelsius");
        Objects.requireNonNull(fanSpeedPercent, "fanSpeedPercent");
        Objects.requireNonNull(powerUsageMilliwatts, "powerUsageMilliwatts");
        Objects.requireNonNull(enforcedPowerLimitMilliwatts, "enforcedPowerLimitMilliwatts");
        Objects.requireNonNull(totalEnergyMillijoules, "totalEnergyMillijoules");
        Objects.requireNonNull(clocks, "clocks");
        Objects.requireNonNull(performanceState, "performanceState");
        Objects.requireNonNull(clockEventReasons, "clockEventReasons");
        Objects.requireNonNull(slow, "slow");
    }

    public int index() {
        return identity.index();
    }

    public String uuid() {
        return identity.uuid();
    }

    public String name() {
        return identity.name();
    }

    public Brand brand() {
        return identity.brand();
    }

    public String pciBusId() {
        return identity.pciBusId();
    }

    public Optional<String> serial() {
        return identity.serial();
    }

    public Optional<String> vbiosVersion() {
        return identity.vbiosVersion();
    }

    public Optional<ComputeCapability> computeCapability() {
        return identity.computeCapability();
    }

    public OptionalInt clockMhz(ClockType type) {
        return clocks.get(type);
    }

    public OptionalInt maxClockMhz(ClockType type) {
        return slow.maxClocks().get(type);
    }

    public ClockReadings maxClocks() {
        return slow.maxClocks();
    }

    /** The named reasons among {@link #clockEventReasons()}; empty when absent. */
    public Set<ClockEventReason> clockEventReasonSet() {
        return clockEventReasons.isPresent() ? ClockEventReason.decode(clockEventReasons.getAsLong()) : Set.of();
    }

    public TemperatureThresholds temperatureThresholds() {
        return slow.temperatureThresholds();
    }

    public OptionalInt temperatureThresholdCelsius(TemperatureThreshold threshold) {
        return slow.temperatureThresholds().get(threshold);
    }

    public PcieReadings pcie() {
        return slow.pcie();
    }

    public PowerLimitReadings powerLimits() {
        return slow.powerLimits();
    }

    public Optional<List<ProcessInfo>> computeProcesses() {
        return slow.computeProcesses();
    }

    public Optional<List<ProcessInfo>> graphicsProcesses() {
        return slow.graphicsProcesses();
    }

    /** Per-process samples newer than the previous slow read. */
    public Optional<List<ProcessUtilizationSample>> processUtilization() {
        return slow.processUtilization();
    }

    /** When the slow fields were last read (at or before the snapshot's collect). */
    public Instant slowFieldsReadAt() {
        return slow.readAt();
    }
}
