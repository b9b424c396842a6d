package org.gpuagent.exporter;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import org.gpuagent.nvml.Brand;
import org.gpuagent.nvml.ClockEventReason;
import org.gpuagent.nvml.ClockType;
import org.gpuagent.nvml.DeviceIdentity;
import org.gpuagent.nvml.EngineUtilization;
import org.gpuagent.nvml.MemoryInfo;
import org.gpuagent.nvml.ProcessInfo;
import org.gpuagent.nvml.ProcessUtilizationSample;
import org.gpuagent.nvml.TemperatureThreshold;
import org.gpuagent.nvml.Utilization;
import org.gpuagent.nvml.sampler.DeviceSnapshot;
import org.gpuagent.nvml.sampler.EnumReadings;
import org.gpuagent.nvml.sampler.Faults;
import org.gpuagent.nvml.sampler.GpuSnapshot;
import org.gpuagent.nvml.sampler.PcieReadings;
import org.gpuagent.nvml.sampler.PowerLimitReadings;
import org.gpuagent.nvml.sampler.SessionInfo;
import org.gpuagent.nvml.sampler.SlowFields;

/** Hand-made snapshots with exactly the fields a test names; everything else absent. */
final class TestSnapshots {
    static final Instant T0 = Instant.parse("2026-01-15T12:00:00Z");
    static final String UUID = "GPU-00000000-0000-0000-0000-000000000001";

    private TestSnapshots() {
    }

    /** A device builder starting with every optional field absent. */
    static Device device(int index, String uuid) {
        return new Device(index, uuid);
    }

    static GpuSnapshot ok(long sequence, Instant at, DeviceSnapshot... devices) {
        return GpuSnapshot.ok(sequence, at, at, 0, new SessionInfo(Optional.of("test"), Optional.of("580.105.08"),
                Optional.empty(), OptionalInt.of(12040)), List.of(devices), Faults.NONE);
    }

    /** {@code s}'s data republished as STALE or LOST. */
    static GpuSnapshot withStatus(GpuSnapshot s, long sequence, GpuSnapshot.Status status, Instant publishedAt) {
        String detail = "test: " + status;
        return switch (status) {
            case STALE -> s.stale(sequence, detail, publishedAt);
            case LOST -> GpuSnapshot.lost(sequence, detail, publishedAt, s, s.faults());
            default -> throw new IllegalArgumentException("republishes as STALE or LOST only, not " + status);
        };
    }

    static final class Device {
        private final int index;
        private final String uuid;
        private Optional<MemoryInfo> memory = Optional.empty();
        private Optional<Utilization> utilization = Optional.empty();
        private Optional<EngineUtilization> encoder = Optional.empty();
        private Optional<EngineUtilization> decoder = Optional.empty();
        private OptionalLong powerMilliwatts = OptionalLong.empty();
        private OptionalLong clockEventReasons = OptionalLong.empty();
        private OptionalLong energyMillijoules = OptionalLong.empty();
        private Optional<List<ProcessInfo>> compute = Optional.empty();
        private Optional<List<ProcessInfo>> graphics = Optional.empty();
        private Optional<List<ProcessUtilizationSample>> samples = Optional.empty();

        private Device(int index, String uuid) {
            this.index = index;
            this.uuid = uuid;
        }

        Device memory(long total, long used) {
            memory = Optional.of(new MemoryInfo(total, used, total - used, OptionalLong.empty()));
            return this;
        }

        Device utilization(int gpu, int mem) {
            utilization = Optional.of(new Utilization(gpu, mem));
            return this;
        }

        Device encoder(int percent) {
            encoder = Optional.of(new EngineUtilization(percent, 167_000));
            return this;
        }

        Device decoder(int percent) {
            decoder = Optional.of(new EngineUtilization(percent, 167_000));
            return this;
        }

        Device power(long milliwatts) {
            powerMilliwatts = OptionalLong.of(milliwatts);
            return this;
        }

        Device reasons(ClockEventReason... active) {
            long bits = 0;
            for (ClockEventReason r : active) {
                bits |= r.mask();
            }
            clockEventReasons = OptionalLong.of(bits);
            return this;
        }

        Device energy(long millijoules) {
            energyMillijoules = OptionalLong.of(millijoules);
            return this;
        }

        Device compute(ProcessInfo... p) {
            compute = Optional.of(List.of(p));
            return this;
        }

        Device graphics(ProcessInfo... p) {
            graphics = Optional.of(List.of(p));
            return this;
        }

        Device samples(ProcessUtilizationSample... s) {
            samples = Optional.of(List.of(s));
            return this;
        }

        DeviceSnapshot build() {
            DeviceIdentity id = new DeviceIdentity(uuid, "Test GPU", Brand.QUADRO, "00000000:0" + index + ":00.0",
                    Optional.empty(), Optional.empty(), Optional.empty());
            PcieReadings pcie = new PcieReadings(OptionalInt.empty(), OptionalInt.empty(), OptionalInt.empty(),
                    OptionalInt.empty(), OptionalInt.empty(), OptionalInt.empty());
            SlowFields slow = new SlowFields(T0, compute, graphics, samples, pcie,
                    EnumReadings.none(TemperatureThreshold.class), EnumReadings.none(ClockType.class),
                    PowerLimitReadings.NONE);
            return DeviceSnapshot.builder(index, id).memory(memory).utilization(utilization).encoderUtilization(encoder)
                    .decoderUtilization(decoder).powerUsageMilliwatts(powerMilliwatts)
                    .totalEnergyMillijoules(energyMillijoules).clockEventReasons(clockEventReasons).slow(slow).build();
        }
    }
}
