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
import org.gpuagent.nvml.DeviceIdentity;
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
 * from {@link #slow()}, read every Nth tick. Made by a {@link #builder(int, DeviceIdentity)}, which
 * names each reading and leaves the rest absent.
 */
public record DeviceSnapshot(int index,
                             DeviceIdentity identity,
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
                             EnumReadings<ClockType> clocks,
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

    /** A snapshot of GPU {@code index}, every reading absent until set. */
    public static Builder builder(int index, DeviceIdentity identity) {
        return new Builder(index, identity);
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

    public EnumReadings<ClockType> maxClocks() {
        return slow.maxClocks();
    }

    /** The named reasons among {@link #clockEventReasons()}; empty when absent. */
    public Set<ClockEventReason> clockEventReasonSet() {
        return clockEventReasons.isPresent() ? ClockEventReason.decode(clockEventReasons.getAsLong()) : Set.of();
    }

    public EnumReadings<TemperatureThreshold> temperatureThresholds() {
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

    /**
     * Names each reading of a {@link DeviceSnapshot}; what is not set is absent. Reusable: the
     * sampler keeps one per GPU and {@link #reset()}s it every collect, so building allocates only
     * the snapshot. Not thread-safe.
     */
    public static final class Builder {
        private final int index;
        private final DeviceIdentity identity;
        private final EnumReadings<ClockType> noClocks = EnumReadings.none(ClockType.class);
        private Optional<MemoryInfo> memory;
        private Optional<Bar1Memory> bar1Memory;
        private Optional<Utilization> utilization;
        private Optional<EngineUtilization> encoderUtilization;
        private Optional<EngineUtilization> decoderUtilization;
        private Optional<EncoderStats> encoderStats;
        private OptionalInt temperatureCelsius;
        private OptionalInt fanSpeedPercent;
        private OptionalLong powerUsageMilliwatts;
        private OptionalLong enforcedPowerLimitMilliwatts;
        private OptionalLong totalEnergyMillijoules;
        private EnumReadings<ClockType> clocks;
        private OptionalInt performanceState;
        private OptionalLong clockEventReasons;
        private SlowFields slow;

        private Builder(int index, DeviceIdentity identity) {
            this.index = index;
            this.identity = Objects.requireNonNull(identity, "identity");
            reset();
        }

        /** Every reading absent again, the slow fields unset. */
        public Builder reset() {
            memory = Optional.empty();
            bar1Memory = Optional.empty();
            utilization = Optional.empty();
            encoderUtilization = Optional.empty();
            decoderUtilization = Optional.empty();
            encoderStats = Optional.empty();
            temperatureCelsius = OptionalInt.empty();
            fanSpeedPercent = OptionalInt.empty();
            powerUsageMilliwatts = OptionalLong.empty();
            enforcedPowerLimitMilliwatts = OptionalLong.empty();
            totalEnergyMillijoules = OptionalLong.empty();
            clocks = noClocks;
            performanceState = OptionalInt.empty();
            clockEventReasons = OptionalLong.empty();
            slow = null;
            return this;
        }

        public Builder memory(Optional<MemoryInfo> v) {
            memory = v;
            return this;
        }

        public Builder bar1Memory(Optional<Bar1Memory> v) {
            bar1Memory = v;
            return this;
        }

        public Builder utilization(Optional<Utilization> v) {
            utilization = v;
            return this;
        }

        public Builder encoderUtilization(Optional<EngineUtilization> v) {
            encoderUtilization = v;
            return this;
        }

        public Builder decoderUtilization(Optional<EngineUtilization> v) {
            decoderUtilization = v;
            return this;
        }

        public Builder encoderStats(Optional<EncoderStats> v) {
            encoderStats = v;
            return this;
        }

        public Builder temperatureCelsius(OptionalInt v) {
            temperatureCelsius = v;
            return this;
        }

        public Builder fanSpeedPercent(OptionalInt v) {
            fanSpeedPercent = v;
            return this;
        }

        public Builder powerUsageMilliwatts(OptionalLong v) {
            powerUsageMilliwatts = v;
            return this;
        }

        public Builder enforcedPowerLimitMilliwatts(OptionalLong v) {
            enforcedPowerLimitMilliwatts = v;
            return this;
        }

        public Builder totalEnergyMillijoules(OptionalLong v) {
            totalEnergyMillijoules = v;
            return this;
        }

        public Builder clocks(EnumReadings<ClockType> v) {
            clocks = v;
            return this;
        }

        public Builder performanceState(OptionalInt v) {
            performanceState = v;
            return this;
        }

        public Builder clockEventReasons(OptionalLong v) {
            clockEventReasons = v;
            return this;
        }

        /** Required: the slow fields as of this collect (read now, or carried forward). */
        public Builder slow(SlowFields v) {
            slow = v;
            return this;
        }

        public DeviceSnapshot build() {
            return new DeviceSnapshot(index, identity, memory, bar1Memory, utilization, encoderUtilization,
                    decoderUtilization, encoderStats, temperatureCelsius, fanSpeedPercent, powerUsageMilliwatts,
                    enforcedPowerLimitMilliwatts, totalEnergyMillijoules, clocks, performanceState, clockEventReasons,
                    Objects.requireNonNull(slow, "a device snapshot needs its slow fields"));
        }
    }
}
