package org.gpuagent.nvml.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
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
import org.gpuagent.nvml.Nvml;
import org.gpuagent.nvml.NvmlDevice;
import org.gpuagent.nvml.PcieCounter;
import org.gpuagent.nvml.PowerLimitConstraints;
import org.gpuagent.nvml.TemperatureThreshold;
import org.gpuagent.nvml.Utilization;
import org.gpuagent.scheduler.testing.ManualTime;
import org.junit.jupiter.api.Test;

/** The profiles read back their sources: the H200 reference dump, the P1000 facts the contract does not pin. */
class GpuProfileTest {
    private static final long MIB = 1024L * 1024L;

    private final ManualTime time = new ManualTime();

    @Test
    void h200ReadsBackTheReferenceDumpWhenIdle() {
        SimulatedGpuHost host = SimulatedGpuHost.create(1, time, GpuProfile.H200);
        try (Nvml nvml = host.open()) {
            assertEquals("580.159.04", nvml.driverVersion());
            assertEquals("13.580.159.04", nvml.nvmlVersion());
            assertEquals(OptionalInt.of(13000), nvml.cudaDriverVersion());
            NvmlDevice d = nvml.device(0);
            assertEquals("NVIDIA H200", d.name());
            assertEquals("GPU-18cb343f-5c18-c7cf-5ca0-1d49553d8855", d.uuid());
            assertEquals(Brand.NVIDIA, d.identity().brand());
            assertEquals("00000000:00:06.0", d.identity().pciBusId());
            assertEquals(Optional.of("1654124044076"), d.identity().serial());
            assertEquals(Optional.of("96.00.A5.00.1A"), d.identity().vbiosVersion());
            assertEquals(Optional.of(new ComputeCapability(9, 0)), d.identity().computeCapability());

            assertEquals(new MemoryInfo(143_771 * MIB, 0, (143_771 - 616) * MIB, OptionalLong.of(616 * MIB)), d.memory());
            assertEquals(Optional.of(new Bar1Memory(262_144 * MIB, 1_703_936, 262_144 * MIB - 1_703_936)), d.bar1Memory());
            assertEquals(Optional.of(new Utilization(0, 0)), d.utilization());
            assertEquals(Optional.of(new EngineUtilization(0, 100_000)), d.encoderUtilization());
            assertEquals(Optional.of(new EngineUtilization(0, 100_000)), d.decoderUtilization());
            assertEquals(Optional.of(new EncoderStats(0, 0, 0)), d.encoderStats());

            assertEquals(OptionalInt.of(36), d.temperatureCelsius());
            assertEquals(OptionalInt.of(89), d.temperatureThresholdCelsius(TemperatureThreshold.SLOWDOWN));
            assertEquals(OptionalInt.of(95), d.temperatureThresholdCelsius(TemperatureThreshold.SHUTDOWN));
            assertEquals(OptionalInt.empty(), d.fanSpeedPercent(), "fan speed is NOT_SUPPORTED on the H200");
            assertEquals(OptionalLong.of(700_000), d.enforcedPowerLimitMilliwatts());
            // nvidia-smi-q.xml: min_power_limit 200.00 W, max_power_limit 700.00 W, default_power_limit 700.00 W.
            assertEquals(Optional.of(new PowerLimitConstraints(200_000, 700_000)), d.powerLimitConstraints());
            assertEquals(OptionalLong.of(700_000), d.defaultPowerLimitMilliwatts());
            long power = d.powerUsageMilliwatts().orElseThrow();
            assertTrue(Math.abs(power - 78_319) <= 78_319 / 50, "idle power near the measured 78.3 W: " + power);
            assertEquals(OptionalLong.of(2_371_174), d.totalEnergyMillijoules());

            assertEquals(OptionalInt.of(0), d.performanceState(), "the H200 idles in P0");
            assertEquals(OptionalLong.of(ClockEventReason.GPU_IDLE.mask()), d.clockEventReasons());
            assertEquals(OptionalInt.of(345), d.clockMhz(ClockType.GRAPHICS));
            assertEquals(OptionalInt.of(345), d.clockMhz(ClockType.SM));
            assertEquals(OptionalInt.of(3201), d.clockMhz(ClockType.MEMORY));
            assertEquals(OptionalInt.of(765), d.clockMhz(ClockType.VIDEO));
            assertEquals(OptionalInt.of(1980), d.maxClockMhz(ClockType.GRAPHICS));
            assertEquals(OptionalInt.of(1980), d.maxClockMhz(ClockType.SM));
            assertEquals(OptionalInt.of(3201), d.maxClockMhz(ClockType.MEMORY));
            assertEquals(OptionalInt.of(1545), d.maxClockMhz(ClockType.VIDEO));

            assertEquals(OptionalInt.of(5), d.pcieLinkGeneration());
            assertEquals(OptionalInt.of(16), d.pcieLinkWidth());
            assertEquals(OptionalInt.of(5), d.maxPcieLinkGeneration());
            assertEquals(OptionalInt.of(16), d.maxPcieLinkWidth());

            assertEquals(List.of(), d.computeProcesses());
            assertEquals(List.of(), d.graphicsProcesses());
            assertEquals(List.of(), d.processUtilization(0), "NOT_FOUND when idle reads as no samples");
        }
    }

    @Test
    void h200ContextCostIsTheMeasured526MiB() {
        SimulatedGpuHost host = SimulatedGpuHost.create(1, time, GpuProfile.H200);
        host.device(0).startProcess(100, "jcuda-probe").allocate(1024 * MIB);
        try (Nvml nvml = host.open()) {
            assertEquals(OptionalLong.of((526 + 1024) * MIB), nvml.device(0).computeProcesses().get(0).usedBytes());
            assertEquals((526 + 1024) * MIB, nvml.device(0).memory().usedBytes());
        }
    }

    @Test
    void p1000IsAPascalCardWithVideoEnginesAndNoEnergyCounter() {
        GpuProfile p = GpuProfile.QUADRO_P1000;
        assertTrue(p.engines().nvenc() && p.engines().nvdec());
        assertTrue(p.power().energyAtStartMillijoules().isEmpty() && p.fan().isPresent());
        assertTrue(p.allUnsupportedCalls().contains("nvmlDeviceGetTotalEnergyConsumption"),
                p.allUnsupportedCalls().toString());
        long context = p.memory().contextCostBytes();
        assertTrue(context >= 100 * MIB && context <= 300 * MIB);
        SimulatedGpuHost host = SimulatedGpuHost.create(1, time, p);
        try (Nvml nvml = host.open()) {
            NvmlDevice d = nvml.device(0);
            assertEquals(Optional.of(new Bar1Memory(256 * MIB, 2 * MIB, 254 * MIB)), d.bar1Memory());
            assertEquals(OptionalInt.of(8), d.performanceState(), "an idle Pascal card sits in P8");
            assertEquals(OptionalInt.of(1), d.pcieLinkGeneration(), "and trains its link down to gen 1");
            assertEquals(OptionalInt.of(3), d.maxPcieLinkGeneration());
            assertEquals(OptionalLong.empty(), d.totalEnergyMillijoules());
        }
    }

    @Test
    void aDriverWithoutMemoryInfoV2CountsReservedAsUsed() {
        GpuProfile p1000 = GpuProfile.QUADRO_P1000;
        GpuProfile old = p1000.withMemory(p1000.memory().withReservedReported(false));
        SimulatedGpuHost host = SimulatedGpuHost.create(1, time, old);
        try (Nvml nvml = host.open()) {
            MemoryInfo m = nvml.device(0).memory();
            assertEquals(OptionalLong.empty(), m.reservedBytes());
            assertEquals(old.memory().reservedBytes(), m.usedBytes());
            assertEquals(old.memory().totalBytes(), m.usedBytes() + m.freeBytes());
        }
    }

    @Test
    void implausibleProfilesAreRefusedWithTheReason() {
        GpuProfile p1000 = GpuProfile.QUADRO_P1000;
        GpuProfile.Power power = p1000.power();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> p1000.withPower(new GpuProfile.Power(50_000, 47_000, 1.05, power.limitRange(),
                        power.defaultLimitMilliwatts(), power.energyAtStartMillijoules())));
        assertTrue(e.getMessage().contains("must be below the limit"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> p1000.withPower(new GpuProfile.Power(power.idleMilliwatts(), power.limitMilliwatts(),
                        power.peakDemandRatio(), new PowerLimitConstraints(40_000, 47_000), 50_000,
                        power.energyAtStartMillijoules())));
        assertTrue(e.getMessage().contains("power limit range"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> p1000.withUnsupportedCalls(Set.of("nvmlDeviceGetWhatever")));
        assertTrue(e.getMessage().contains("nvmlDeviceGetWhatever") && e.getMessage().contains("nvmlDeviceGetTemperature"),
                e.getMessage());
        NullPointerException npe = assertThrows(NullPointerException.class,
                () -> p1000.withIdentity(null, "00000000:02:00.0"));
        assertTrue(npe.getMessage().contains("uuid"), npe.getMessage());
    }

    @Test
    void eachSmallRecordRefusesItsOwnImplausibleValues() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new GpuProfile.Clocks(Map.of(ClockType.GRAPHICS, 2000, ClockType.SM, 139, ClockType.MEMORY, 405,
                        ClockType.VIDEO, 544), GpuProfile.QUADRO_P1000.clocks().maxMhz(), 8));
        assertTrue(e.getMessage().contains("GRAPHICS idle clock above its maximum"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new GpuProfile.Clocks(Map.of(ClockType.GRAPHICS, 139), Map.of(), 8));
        assertTrue(e.getMessage().contains("idle SM clock"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new GpuProfile.Pcie(3, 16, 4, new GpuProfile.Traffic(0, 0), new GpuProfile.Traffic(0, 0)));
        assertTrue(e.getMessage().contains("implausible PCIe link: gen 4/3"), e.getMessage());
        GpuProfile.Memory m = GpuProfile.QUADRO_P1000.memory();
        e = assertThrows(IllegalArgumentException.class,
                () -> new GpuProfile.Memory(m.totalBytes(), m.reservedBytes(), true, m.totalBytes(), m.bar1()));
        assertTrue(e.getMessage().contains("contextCostBytes must fit"), e.getMessage());
    }

    @Test
    void unsupportedCallsAreStoredByTheirExactNamesAndReadAsAbsent() {
        GpuProfile p = GpuProfile.QUADRO_P1000.withUnsupportedCalls(Set.of("nvmlDeviceGetComputeRunningProcesses",
                "nvmlDeviceGetPcieThroughput"));
        assertEquals(Set.of("nvmlDeviceGetComputeRunningProcesses_v3", "nvmlDeviceGetPcieThroughput"),
                p.unsupportedCalls());
        assertEquals(Set.of("nvmlDeviceGetComputeRunningProcesses_v3", "nvmlDeviceGetPcieThroughput",
                "nvmlDeviceGetTotalEnergyConsumption"), p.allUnsupportedCalls(), "and what the records imply");
        assertTrue(GpuProfile.H200.allUnsupportedCalls().contains("nvmlDeviceGetFanSpeed"), "no fan");
        try (Nvml nvml = SimulatedGpuHost.create(1, time, p).open()) {
            assertEquals(OptionalInt.empty(), nvml.device(0).pcieThroughputKiBps(PcieCounter.TX));
            assertEquals(List.of(), nvml.device(0).computeProcesses());
        }
    }

    @Test
    void twoCardsOnOneHostNeedTheirOwnIdentity() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SimulatedGpuHost.create(1, time, GpuProfile.QUADRO_P1000, GpuProfile.QUADRO_P1000));
        assertTrue(e.getMessage().contains("withIdentity"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> SimulatedGpuHost.create(1, time, GpuProfile.QUADRO_P1000, GpuProfile.H200));
        assertTrue(e.getMessage().contains("one driver"), e.getMessage());
        SimulatedGpuHost two = SimulatedGpuHost.create(1, time, GpuProfile.QUADRO_P1000,
                GpuProfile.QUADRO_P1000.withIdentity("GPU-00000000-0000-4000-8000-000000000002", "00000000:02:00.0"));
        try (Nvml nvml = two.open()) {
            assertEquals(2, nvml.deviceCount());
            assertEquals("00000000:02:00.0", nvml.device(1).identity().pciBusId());
        }
    }
}
