package org.gpuagent.nvml.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import org.gpuagent.nvml.ClockEventReason;
import org.gpuagent.nvml.ClockType;
import org.gpuagent.nvml.EncoderStats;
import org.gpuagent.nvml.Nvml;
import org.gpuagent.nvml.NvmlDevice;
import org.gpuagent.nvml.NvmlException;
import org.gpuagent.nvml.NvmlReturn;
import org.gpuagent.nvml.PcieCounter;
import org.gpuagent.nvml.ProcessInfo;
import org.gpuagent.nvml.ProcessInfo.ProcessKind;
import org.gpuagent.nvml.ProcessUtilizationSample;
import org.gpuagent.nvml.Utilization;
import org.gpuagent.scheduler.testing.ManualTime;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Processes, memory accounting and the physical model of the simulator, in injected time. */
class SimulatedGpuHostTest {
    private static final long MIB = 1024L * 1024L;

    private final ManualTime time = new ManualTime();
    private final SimulatedGpuHost host = SimulatedGpuHost.create(11, time, GpuProfile.QUADRO_P1000);
    private final SimulatedDevice gpu = host.device(0);
    private final long context = GpuProfile.QUADRO_P1000.memory().contextCostBytes();
    private Nvml nvml = host.open();
    private NvmlDevice dev = nvml.device(0);

    @AfterEach
    void close() {
        nvml.close();
    }

    // ---- processes and memory ----

    @Test
    void processesAreChargedTheirContextAndAllocations() {
        long usedBefore = dev.memory().usedBytes();
        SimProcess p = gpu.startProcess(4242, "frigate.detector");
        assertEquals(context, p.usedBytes());
        p.allocate(256 * MIB);
        assertEquals(context + 256 * MIB, p.usedBytes());
        assertEquals(usedBefore + context + 256 * MIB, dev.memory().usedBytes());
        assertEquals(List.of(new ProcessInfo(4242, OptionalLong.of(context + 256 * MIB), ProcessKind.COMPUTE)),
                dev.computeProcesses());
        p.free(56 * MIB);
        assertEquals(context + 200 * MIB, dev.computeProcesses().get(0).usedBytes().orElseThrow());
        p.exit();
        p.exit();
        assertFalse(p.isRunning());
        assertEquals(usedBefore, dev.memory().usedBytes());
        assertEquals(List.of(), dev.computeProcesses());
        assertThrows(IllegalStateException.class, () -> p.allocate(1));
    }

    @Test
    void graphicsProcessesAreListedApart() {
        gpu.startProcess(900, "Xorg", ProcessKind.GRAPHICS);
        gpu.startProcess(901, "ollama");
        assertEquals(List.of(900), dev.graphicsProcesses().stream().map(ProcessInfo::pid).toList());
        assertEquals(List.of(901), dev.computeProcesses().stream().map(ProcessInfo::pid).toList());
        assertEquals(ProcessKind.GRAPHICS, dev.graphicsProcesses().get(0).kind());
    }

    @Test
    void anAllocationBeyondFreeMemoryFailsLikeCudaAndChangesNothing() {
        SimProcess ollama = gpu.startProcess(7, "ollama");
        long free = gpu.freeBytes();
        long usedBefore = dev.memory().usedBytes();
        CudaOutOfMemoryException e = assertThrows(CudaOutOfMemoryException.class, () -> ollama.allocate(free + 1));
        assertTrue(e.getMessage().startsWith("CUDA_ERROR_OUT_OF_MEMORY"), e.getMessage());
        assertEquals(free + 1, e.requestedBytes());
        assertEquals(free, e.freeBytes());
        assertEquals(usedBefore, dev.memory().usedBytes());
        assertEquals(0, ollama.allocatedBytes());
        ollama.allocate(free);
        assertEquals(0, gpu.freeBytes());
        CudaOutOfMemoryException ctx = assertThrows(CudaOutOfMemoryException.class, () -> gpu.startProcess(8, "immich"));
        assertTrue(ctx.getMessage().contains("context"), ctx.getMessage());
        assertEquals(1, gpu.processes().size());
    }

    @Test
    void badRequestsAreRefusedWithTheReason() {
        SimProcess p = gpu.startProcess(1, "a");
        assertTrue(assertThrows(IllegalStateException.class, () -> gpu.startProcess(1, "b")).getMessage().contains("pid 1"));
        assertThrows(IllegalArgumentException.class, () -> gpu.startProcess(0, "zero"));
        assertThrows(IllegalArgumentException.class, () -> p.allocate(-1));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> p.free(1)).getMessage().contains("0 allocated"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> p.setLoad(101, 0, 0)).getMessage().contains("SM"));
    }

    @Test
    void processesOutliveSessions() {
        gpu.startProcess(4242, "frigate.detector").allocate(100 * MIB);
        nvml.close();
        nvml = host.open();
        dev = nvml.device(0);
        assertEquals(context + 100 * MIB, dev.computeProcesses().get(0).usedBytes().orElseThrow());
    }

    // ---- the model ----

    @Test
    void utilizationFollowsLoadCappedAtOneHundredAndMemoryUtilizationFollowsIt() {
        assertEquals(new Utilization(0, 0), dev.utilization().orElseThrow());
        SimProcess a = gpu.startProcess(1, "a").setLoad(30, 0, 0);
        Utilization u = dev.utilization().orElseThrow();
        assertTrue(Math.abs(u.gpuPercent() - 30) <= 2, u.toString());
        assertTrue(u.memoryPercent() > 0 && u.memoryPercent() < u.gpuPercent(), u.toString());
        gpu.startProcess(2, "b").setLoad(90, 0, 0);
        for (int i = 0; i < 20; i++) {
            time.advanceSeconds(0.5);
            Utilization full = dev.utilization().orElseThrow();
            assertTrue(full.gpuPercent() >= 98 && full.gpuPercent() <= 100, full.toString());
            assertTrue(full.memoryPercent() > u.memoryPercent(), full + " vs " + u);
        }
        a.exit();
        gpu.process(2).orElseThrow().exit();
        assertEquals(new Utilization(0, 0), dev.utilization().orElseThrow());
    }

    @Test
    void idleIsP8WithLowClocksAndBusyIsP0AtMaxClocks() {
        assertEquals(8, dev.performanceState().orElseThrow());
        assertEquals(Set.of(ClockEventReason.GPU_IDLE), ClockEventReason.decode(dev.clockEventReasons().orElseThrow()));
        assertEquals(139, dev.clockMhz(ClockType.GRAPHICS).orElseThrow());
        assertEquals(405, dev.clockMhz(ClockType.MEMORY).orElseThrow());
        gpu.startProcess(1, "a").setLoad(50, 0, 0);
        assertEquals(0, dev.performanceState().orElseThrow());
        assertEquals(0, dev.clockEventReasons().orElseThrow());
        for (ClockType t : ClockType.values()) {
            assertEquals(dev.maxClockMhz(t), dev.clockMhz(t), t.toString());
        }
        assertEquals(3, dev.pcieLinkGeneration().orElseThrow());
    }

    @Test
    void powerStaysBetweenIdleAndTheLimitAndFullLoadHitsThePowerCap() {
        GpuProfile p = GpuProfile.QUADRO_P1000;
        long idle = dev.powerUsageMilliwatts().orElseThrow();
        assertTrue(Math.abs(idle - p.power().idleMilliwatts()) <= p.power().idleMilliwatts() / 50, "idle " + idle);
        SimProcess a = gpu.startProcess(1, "a").setLoad(50, 0, 0);
        long half = dev.powerUsageMilliwatts().orElseThrow();
        assertTrue(half > idle * 2 && half < p.power().limitMilliwatts(), "half load " + half);
        a.setLoad(100, 0, 0);
        long full = dev.powerUsageMilliwatts().orElseThrow();
        assertTrue(full > half && full <= p.power().limitMilliwatts(), "full load " + full);
        long reasons = dev.clockEventReasons().orElseThrow();
        assertTrue(ClockEventReason.SW_POWER_CAP.isActiveIn(reasons), Long.toHexString(reasons));
        assertTrue(dev.clockMhz(ClockType.GRAPHICS).orElseThrow() < p.clocks().max(ClockType.GRAPHICS),
                "the power cap pulls the clock below its maximum");
    }

    @Test
    void temperatureLagsTowardsItsTargetInInjectedTimeNotInCalls() {
        SimulatedGpuHost quiet = SimulatedGpuHost.create(11, time, GpuProfile.QUADRO_P1000);
        int idle = dev.temperatureCelsius().orElseThrow();
        gpu.startProcess(1, "a").setLoad(100, 0, 0);
        quiet.device(0).startProcess(1, "a").setLoad(100, 0, 0);
        assertEquals(idle, dev.temperatureCelsius().orElseThrow(), "no time passed, no heat");
        List<Integer> rising = new ArrayList<>();
        for (int s = 0; s < 300; s += 5) {
            time.advanceSeconds(5);
            rising.add(dev.temperatureCelsius().orElseThrow());
        }
        for (int i = 1; i < rising.size(); i++) {
            assertTrue(rising.get(i) >= rising.get(i - 1), "monotonic rise: " + rising);
        }
        GpuProfile p = GpuProfile.QUADRO_P1000;
        double target = p.thermal().ambientCelsius() + p.thermal().celsiusPerWatt() * p.power().limitMilliwatts() / 1000.0;
        int end = rising.get(rising.size() - 1);
        assertTrue(Math.abs(end - target) <= 1.5, "after ~7 time constants near " + target + ": " + rising);
        int tenSeconds = rising.get(1);
        double expected = target + (idle - target) * Math.exp(-10.0 / p.thermal().timeConstant().toSeconds());
        assertTrue(Math.abs(tenSeconds - expected) <= 1, "first-order lag: " + tenSeconds + " vs " + expected);
        try (Nvml other = quiet.open()) {
            assertEquals(end, other.device(0).temperatureCelsius().orElseThrow(),
                    "a host read once at the end agrees with one read every 5 s");
        }
    }

    @Test
    void theFanFollowsTheTemperatureAndAHotClosetThrottles() {
        int idleFan = dev.fanSpeedPercent().orElseThrow();
        gpu.startProcess(1, "a").setLoad(100, 0, 0);
        time.advanceSeconds(600);
        int hotFan = dev.fanSpeedPercent().orElseThrow();
        assertTrue(hotFan > idleFan, idleFan + " -> " + hotFan);
        gpu.setAmbientCelsius(60);
        time.advanceSeconds(600);
        int t = dev.temperatureCelsius().orElseThrow();
        assertTrue(t >= GpuProfile.QUADRO_P1000.thermal().slowdownCelsius(), "hot closet " + t);
        long reasons = dev.clockEventReasons().orElseThrow();
        assertTrue(ClockEventReason.HW_THERMAL_SLOWDOWN.isActiveIn(reasons), Long.toHexString(reasons));
        assertTrue(ClockEventReason.SW_THERMAL_SLOWDOWN.isActiveIn(reasons), Long.toHexString(reasons));
        assertEquals(100, dev.fanSpeedPercent().orElseThrow());
        assertTrue(dev.clockMhz(ClockType.SM).orElseThrow() <= GpuProfile.QUADRO_P1000.clocks().max(ClockType.SM) / 2 + 1);
    }

    @Test
    void energyIntegratesPowerOverInjectedTime() {
        SimulatedGpuHost h200 = SimulatedGpuHost.create(5, time, GpuProfile.H200);
        try (Nvml s = h200.open()) {
            NvmlDevice d = s.device(0);
            long e0 = d.totalEnergyMillijoules().orElseThrow();
            time.advanceSeconds(10);
            long idleTen = d.totalEnergyMillijoules().orElseThrow() - e0;
            assertTrue(Math.abs(idleTen - 783_190) <= 2, "10 s at 78.319 W: " + idleTen);
            h200.device(0).startProcess(1, "train").setLoad(100, 0, 0);
            long e1 = d.totalEnergyMillijoules().orElseThrow();
            time.advanceSeconds(10);
            long busyTen = d.totalEnergyMillijoules().orElseThrow() - e1;
            assertTrue(Math.abs(busyTen - 7_000_000) <= 2, "10 s at the 700 W cap: " + busyTen);
        }
    }

    @Test
    void encoderSessionsComeFromProcessesWithEncoderLoad() {
        assertEquals(new EncoderStats(0, 0, 0), dev.encoderStats().orElseThrow());
        gpu.startProcess(1, "ffmpeg-a").setLoad(5, 30, 20);
        gpu.startProcess(2, "ffmpeg-b").setLoad(5, 30, 20);
        gpu.startProcess(3, "detector").setLoad(30, 0, 0);
        EncoderStats s = dev.encoderStats().orElseThrow();
        assertEquals(2, s.sessionCount());
        assertTrue(s.averageFps() >= 20 && s.averageFps() <= 60, s.toString());
        assertTrue(s.averageLatencyMicros() >= 500 && s.averageLatencyMicros() <= 10_000, s.toString());
        int enc = dev.encoderUtilization().orElseThrow().percent();
        int dec = dev.decoderUtilization().orElseThrow().percent();
        assertTrue(Math.abs(enc - 60) <= 2 && Math.abs(dec - 40) <= 2, enc + " " + dec);
        assertEquals(167_000, dev.encoderUtilization().orElseThrow().samplingPeriodMicros());
    }

    @Test
    void aCardWithoutNvencIgnoresEncoderLoad() {
        SimulatedGpuHost h200 = SimulatedGpuHost.create(5, time, GpuProfile.H200);
        h200.device(0).startProcess(1, "ffmpeg").setLoad(0, 50, 50);
        try (Nvml s = h200.open()) {
            NvmlDevice d = s.device(0);
            assertEquals(0, d.encoderUtilization().orElseThrow().percent());
            assertEquals(0, d.encoderStats().orElseThrow().sessionCount());
            assertTrue(d.decoderUtilization().orElseThrow().percent() > 40);
        }
    }

    @Test
    void processUtilizationSamplesAreStampedFromTheClockAndFilteredBySince() {
        gpu.startProcess(1, "a").setLoad(40, 10, 5);
        long nowMicros = time.instant().getEpochSecond() * 1_000_000 + time.instant().getNano() / 1000;
        long period = GpuProfile.QUADRO_P1000.engines().samplePeriodMicros();
        List<ProcessUtilizationSample> first = dev.processUtilization(0);
        assertEquals(1, first.size());
        ProcessUtilizationSample s = first.get(0);
        assertEquals(Math.floorDiv(nowMicros, period) * period, s.timestampMicros());
        assertEquals(40, s.smPercent());
        assertEquals(10, s.encoderPercent());
        assertEquals(5, s.decoderPercent());
        assertEquals(List.of(), dev.processUtilization(s.timestampMicros()), "nothing newer within the same period");
        time.advanceSeconds(1);
        List<ProcessUtilizationSample> later = dev.processUtilization(s.timestampMicros());
        assertEquals(1, later.size());
        assertTrue(later.get(0).timestampMicros() > s.timestampMicros());
    }

    @Test
    void pcieThroughputGrowsWithLoad() {
        int idleRx = dev.pcieThroughputKiBps(PcieCounter.RX).orElseThrow();
        gpu.startProcess(1, "a").setLoad(80, 0, 0);
        int busyRx = dev.pcieThroughputKiBps(PcieCounter.RX).orElseThrow();
        assertTrue(busyRx > 100 * idleRx, idleRx + " -> " + busyRx);
    }

    @Test
    void theSameSeedAndClockGiveTheSameReadingsAndAnotherSeedDiffers() {
        assertEquals(readings(42), readings(42));
        assertNotEquals(readings(42), readings(43));
    }

    private static List<String> readings(long seed) {
        ManualTime t = new ManualTime();
        SimulatedGpuHost h = SimulatedGpuHost.create(seed, t, GpuProfile.QUADRO_P1000);
        h.device(0).startProcess(1, "ffmpeg").setLoad(20, 40, 30);
        h.device(0).startProcess(2, "detector").allocate(100 * MIB).setLoad(35, 0, 10);
        List<String> out = new ArrayList<>();
        try (Nvml s = h.open()) {
            NvmlDevice d = s.device(0);
            for (int i = 0; i < 30; i++) {
                t.advanceSeconds(0.7);
                out.add(d.utilization() + " " + d.powerUsageMilliwatts() + " " + d.temperatureCelsius() + " "
                        + d.encoderStats() + " " + d.pcieThroughputKiBps(PcieCounter.TX) + " " + d.memory());
            }
        }
        return out;
    }

    @Test
    void aClosedSessionAnswersUninitializedAndItsEventSetsWithIt() {
        var set = nvml.createEventSet();
        nvml.close();
        assertEquals(NvmlReturn.UNINITIALIZED, assertThrows(NvmlException.class, dev::temperatureCelsius).code());
        assertEquals(NvmlReturn.UNINITIALIZED, assertThrows(NvmlException.class, () -> set.poll(0)).code());
        assertEquals(NvmlReturn.UNINITIALIZED, assertThrows(NvmlException.class, nvml::driverVersion).code());
        assertEquals(0, host.openSessions());
        nvml = host.open();
        assertEquals(1, host.openSessions());
    }
}
