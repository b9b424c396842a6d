package org.gpuagent.nvml.sampler;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.gpuagent.nvml.ClockType;
import org.gpuagent.nvml.DeviceIdentity;
import org.gpuagent.nvml.MemoryInfo;
import org.gpuagent.nvml.NvmlDevice;
import org.gpuagent.nvml.NvmlException;
import org.gpuagent.nvml.PcieCounter;
import org.gpuagent.nvml.ProcessInfo;
import org.gpuagent.nvml.ProcessUtilizationSample;
import org.gpuagent.nvml.TemperatureThreshold;

/**
 * Reads one GPU of an open session into {@link DeviceSnapshot}s, one NVML query per field: a query
 * that fails leaves its field absent and is recorded in the {@link CallErrorLog}; one whose code
 * requires re-initialisation ends the collect ({@link NvmlException} propagates). Carries the slow
 * fields forward between slow ticks, and the newest per-process sample seen. Guarded by the
 * sampler's collect lock.
 *
 * <p>Allocates only what the snapshot holds: the method references passed to {@code read} capture
 * nothing, the builder and the key arrays are reused.
 */
final class DeviceReader {
    private static final ClockType[] CLOCK_TYPES = ClockType.values();
    private static final TemperatureThreshold[] THRESHOLDS = TemperatureThreshold.values();

    private final NvmlDevice device;
    private final int index;
    private final DeviceIdentity identity;
    private final CallErrorLog errors;
    private final CallInProgress where;
    private final DeviceSnapshot.Builder snapshot;
    private SlowFields slow;
    private long lastUtilizationTimestampMicros;

    DeviceReader(NvmlDevice device, CallErrorLog errors, CallInProgress where) {
        this.device = device;
        this.index = device.index();
        this.identity = device.identity();
        this.errors = errors;
        this.where = where;
        this.snapshot = DeviceSnapshot.builder(index, identity);
    }

    NvmlDevice device() {
        return device;
    }

    int index() {
        return index;
    }

    DeviceIdentity identity() {
        return identity;
    }

    /** The device now; the slow fields re-read when {@code slowTick} (or never read yet), else carried forward. */
    DeviceSnapshot read(boolean slowTick, Instant now) {
        MemoryInfo memory = read("memory", NvmlDevice::memory, null);
        EnumReadings<ClockType> clocks = readEach("clockMhz", NvmlDevice::clockMhz, ClockType.class, CLOCK_TYPES);
        return snapshot.reset()
                .memory(memory == null ? Optional.empty() : Optional.of(memory))
                .bar1Memory(read("bar1Memory", NvmlDevice::bar1Memory, Optional.empty()))
                .utilization(read("utilization", NvmlDevice::utilization, Optional.empty()))
                .encoderUtilization(read("encoderUtilization", NvmlDevice::encoderUtilization, Optional.empty()))
                .decoderUtilization(read("decoderUtilization", NvmlDevice::decoderUtilization, Optional.empty()))
                .encoderStats(read("encoderStats", NvmlDevice::encoderStats, Optional.empty()))
                .temperatureCelsius(read("temperatureCelsius", NvmlDevice::temperatureCelsius, OptionalInt.empty()))
                .fanSpeedPercent(read("fanSpeedPercent", NvmlDevice::fanSpeedPercent, OptionalInt.empty()))
                .powerUsageMilliwatts(read("powerUsageMilliwatts", NvmlDevice::powerUsageMilliwatts,
                        OptionalLong.empty()))
                .enforcedPowerLimitMilliwatts(read("enforcedPowerLimitMilliwatts",
                        NvmlDevice::enforcedPowerLimitMilliwatts, OptionalLong.empty()))
                .totalEnergyMillijoules(read("totalEnergyMillijoules", NvmlDevice::totalEnergyMillijoules,
                        OptionalLong.empty()))
                .clocks(clocks)
                .performanceState(read("performanceState", NvmlDevice::performanceState, OptionalInt.empty()))
                .clockEventReasons(read("clockEventReasons", NvmlDevice::clockEventReasons, OptionalLong.empty()))
                .slow(slowTick || slow == null ? readSlow(now) : slow)
                .build();
    }

    private SlowFields readSlow(Instant now) {
        List<ProcessInfo> compute = read("computeProcesses", NvmlDevice::computeProcesses, null);
        List<ProcessInfo> graphics = read("graphicsProcesses", NvmlDevice::graphicsProcesses, null);
        List<ProcessUtilizationSample> samples = readProcessUtilization();
        PcieReadings pcie = new PcieReadings(
                read("pcieThroughputKiBps", NvmlDevice::pcieThroughputKiBps, PcieCounter.TX, OptionalInt.empty()),
                read("pcieThroughputKiBps", NvmlDevice::pcieThroughputKiBps, PcieCounter.RX, OptionalInt.empty()),
                read("pcieLinkGeneration", NvmlDevice::pcieLinkGeneration, OptionalInt.empty()),
                read("pcieLinkWidth", NvmlDevice::pcieLinkWidth, OptionalInt.empty()),
                read("maxPcieLinkGeneration", NvmlDevice::maxPcieLinkGeneration, OptionalInt.empty()),
                read("maxPcieLinkWidth", NvmlDevice::maxPcieLinkWidth, OptionalInt.empty()));
        EnumReadings<TemperatureThreshold> thresholds = readEach("temperatureThresholdCelsius",
                NvmlDevice::temperatureThresholdCelsius, TemperatureThreshold.class, THRESHOLDS);
        PowerLimitReadings powerLimits = new PowerLimitReadings(
                read("powerLimitConstraints", NvmlDevice::powerLimitConstraints, Optional.empty()),
                read("defaultPowerLimitMilliwatts", NvmlDevice::defaultPowerLimitMilliwatts, OptionalLong.empty()));
        EnumReadings<ClockType> maxClocks = readEach("maxClockMhz", NvmlDevice::maxClockMhz, ClockType.class,
                CLOCK_TYPES);
        slow = new SlowFields(now,
                compute == null ? Optional.empty() : Optional.of(compute),
                graphics == null ? Optional.empty() : Optional.of(graphics),
                samples == null ? Optional.empty() : Optional.of(samples),
                pcie, thresholds, maxClocks, powerLimits);
        return slow;
    }

    /** The samples newer than the last slow read's; null when the call failed. */
    private List<ProcessUtilizationSample> readProcessUtilization() {
        where.enter("processUtilization", index);
        try {
            List<ProcessUtilizationSample> samples = device.processUtilization(lastUtilizationTimestampMicros);
            for (int i = 0; i < samples.size(); i++) {
                long ts = samples.get(i).timestampMicros();
                if (ts > lastUtilizationTimestampMicros) {
                    lastUtilizationTimestampMicros = ts;
                }
            }
            return samples;
        } catch (NvmlException e) {
            errors.recordOrRethrow(index, e);
        } catch (RuntimeException e) {
            errors.recordUnexpected(index, "processUtilization", e);
        }
        return null;
    }

    /** One query: its value, or {@code absent} after recording why it failed. */
    private <T> T read(String label, Function<NvmlDevice, T> query, T absent) {
        where.enter(label, index);
        try {
            return query.apply(device);
        } catch (NvmlException e) {
            errors.recordOrRethrow(index, e);
        } catch (RuntimeException e) {
            errors.recordUnexpected(index, label, e);
        }
        return absent;
    }

    private <A, T> T read(String label, BiFunction<NvmlDevice, A, T> query, A arg, T absent) {
        where.enter(label, index);
        try {
            return query.apply(device, arg);
        } catch (NvmlException e) {
            errors.recordOrRethrow(index, e);
        } catch (RuntimeException e) {
            errors.recordUnexpected(index, label, e);
        }
        return absent;
    }

    /** One query per constant of {@code kind}, in the enum's order. */
    private <K extends Enum<K>> EnumReadings<K> readEach(String label, BiFunction<NvmlDevice, K, OptionalInt> query,
                                                         Class<K> kind, K[] keys) {
        OptionalInt[] values = new OptionalInt[keys.length];
        for (int i = 0; i < keys.length; i++) {
            values[i] = read(label, query, keys[i], OptionalInt.empty());
        }
        return new EnumReadings<>(kind, values);
    }
}
