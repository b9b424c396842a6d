package org.gpuagent.nvml.sampler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicInteger;
import org.gpuagent.nvml.ClockType;
import org.gpuagent.nvml.Nvml;
import org.gpuagent.nvml.NvmlDevice;
import org.gpuagent.nvml.NvmlLibraryNotFoundException;
import org.gpuagent.nvml.NvmlReturn;
import org.gpuagent.nvml.PcieCounter;
import org.gpuagent.nvml.ProcessInfo;
import org.gpuagent.nvml.TemperatureThreshold;
import org.gpuagent.nvml.sim.GpuProfile;
import org.gpuagent.nvml.sim.SimProcess;
import org.gpuagent.nvml.sim.SimulatedGpuHost;
import org.gpuagent.scheduler.testing.ManualTime;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The sampler over the simulator, driven by {@link Sampler#collectOnce()} in injected time (threads where named). */
class SamplerTest {
    private static final long MIB = 1024L * 1024L;
    private static final Duration WAIT = Duration.ofSeconds(20);

    private final ManualTime time = new ManualTime();
    private final SimulatedGpuHost host = SimulatedGpuHost.create(9, time, GpuProfile.QUADRO_P1000);
    private Sampler sampler = new Sampler(host, SamplerConfig.DEFAULTS.withSlowEveryTicks(3), time, time.ticker());

    @AfterEach
    void tearDown() {
        sampler.close();
        host.clearFaults();
    }

    /**
     * A collect asked for with processes reads the process list between slow ticks (what the agent
     * does while an eviction is under way), and leaves the regular cadence as it was.
     */
    @Test
    void aCollectWithProcessesReadsThemBetweenSlowTicks() {
        java.util.List<GpuSnapshot> published = new java.util.concurrent.CopyOnWriteArrayList<>();
        sampler.addListener(published::add);
        sampler.collectOnce();
        time.advanceSeconds(1);
        Instant fastTick = time.instant();
        assertEquals(sampler.collectOnce().devices().get(0).slowFieldsReadAt().plusSeconds(0),
                fastTick.minusSeconds(1), "a regular fast tick carries the slow fields forward");
        time.advanceSeconds(1);
        GpuSnapshot now = sampler.collectWithProcesses();
        assertEquals(time.instant(), now.devices().get(0).slowFieldsReadAt(), "read in this collect");
        assertSame(now, published.get(published.size() - 1), "published to the listeners");
        time.advanceSeconds(1);
        Instant third = time.instant();
        assertEquals(third, sampler.collectOnce().devices().get(0).slowFieldsReadAt(),
                "the cadence is unchanged: every 3rd collect is still a slow tick");
        time.advanceSeconds(1);
        assertEquals(third, sampler.collectOnce().devices().get(0).slowFieldsReadAt());
    }

    @Test
    void beforeAnyCollectTheLatestSnapshotIsUnavailableNotNull() {
        GpuSnapshot s = sampler.latest();
        assertEquals(GpuSnapshot.Status.UNAVAILABLE, s.status());
        assertEquals(0, s.sequence());
        assertEquals(List.of(), s.devices());
        assertEquals(Optional.empty(), s.backend());
    }

    @Test
    void theSnapshotMirrorsTheDevice() {
        host.device(0).startProcess(4242, "frigate.detector").allocate(348 * MIB).setLoad(35, 0, 20);
        host.device(0).startProcess(4343, "jellyfin-ffmpeg").setLoad(10, 40, 30);
        time.advanceSeconds(20);
        GpuSnapshot s = sampler.collectOnce();

        assertEquals(GpuSnapshot.Status.OK, s.status());
        assertEquals(1, s.sequence());
        assertEquals(time.instant(), s.collectedAt());
        assertEquals(time.instant(), s.publishedAt());
        assertTrue(s.collectDurationNanos() >= 0);
        assertEquals(Optional.of("sim"), s.backend());
        assertEquals(Optional.of("580.105.08"), s.driverVersion());
        assertEquals(Optional.of("13.580.105.08"), s.nvmlVersion());
        assertEquals(OptionalInt.of(13000), s.cudaDriverVersion());
        assertEquals(List.of(), s.errors());
        assertSame(s, sampler.latest());

        try (Nvml nvml = host.open()) {
            NvmlDevice d = nvml.device(0);
            DeviceSnapshot ds = s.devices().get(0);
            assertEquals(d.index(), ds.index());
            assertEquals(d.identity(), ds.identity());
            assertEquals(Optional.of(d.memory()), ds.memory());
            assertEquals(d.bar1Memory(), ds.bar1Memory());
            assertEquals(d.utilization(), ds.utilization());
            assertEquals(d.encoderUtilization(), ds.encoderUtilization());
            assertEquals(d.decoderUtilization(), ds.decoderUtilization());
            assertEquals(d.encoderStats(), ds.encoderStats());
            assertEquals(d.temperatureCelsius(), ds.temperatureCelsius());
            assertEquals(d.fanSpeedPercent(), ds.fanSpeedPercent());
            assertEquals(d.powerUsageMilliwatts(), ds.powerUsageMilliwatts());
            assertEquals(d.enforcedPowerLimitMilliwatts(), ds.enforcedPowerLimitMilliwatts());
            assertEquals(d.totalEnergyMillijoules(), ds.totalEnergyMillijoules());
            assertEquals(d.performanceState(), ds.performanceState());
            assertEquals(d.clockEventReasons(), ds.clockEventReasons());
            for (ClockType t : ClockType.values()) {
                assertEquals(d.clockMhz(t), ds.clockMhz(t), t.toString());
                assertEquals(d.maxClockMhz(t), ds.maxClockMhz(t), t.toString());
            }
            for (TemperatureThreshold t : TemperatureThreshold.values()) {
                assertEquals(d.temperatureThresholdCelsius(t), ds.temperatureThresholdCelsius(t), t.toString());
            }
            for (PcieCounter c : PcieCounter.values()) {
                assertEquals(d.pcieThroughputKiBps(c), ds.pcie().throughputKiBps(c), c.toString());
            }
            assertEquals(d.pcieLinkGeneration(), ds.pcie().linkGeneration());
            assertEquals(d.pcieLinkWidth(), ds.pcie().linkWidth());
            assertEquals(d.maxPcieLinkGeneration(), ds.pcie().maxLinkGeneration());
            assertEquals(d.maxPcieLinkWidth(), ds.pcie().maxLinkWidth());
            assertEquals(d.powerLimitConstraints().map(r -> r.minMilliwatts()).map(OptionalLong::of)
                    .orElse(OptionalLong.empty()), ds.powerLimits().minMilliwatts());
            assertEquals(d.powerLimitConstraints().map(r -> r.maxMilliwatts()).map(OptionalLong::of)
                    .orElse(OptionalLong.empty()), ds.powerLimits().maxMilliwatts());
            assertEquals(d.defaultPowerLimitMilliwatts(), ds.powerLimits().defaultMilliwatts());
            assertSame(GpuProfile.QUADRO_P1000.power().limitRange(), ds.powerLimits().range().orElseThrow(),
                    "the range as the device answered it, not copied into values (the answer would be garbage)");
            assertTrue(ds.powerLimits().defaultMilliwatts().isPresent(), "a P1000 reports its default limit");
            assertEquals(Optional.of(d.computeProcesses()), ds.computeProcesses());
            assertEquals(Optional.of(d.graphicsProcesses()), ds.graphicsProcesses());
            assertEquals(Optional.of(d.processUtilization(0)), ds.processUtilization());
            assertEquals(time.instant(), ds.slowFieldsReadAt());
        }
        assertEquals(2, s.devices().get(0).computeProcesses().orElseThrow().size());
        assertEquals(1, s.devices().get(0).encoderStats().orElseThrow().sessionCount(), "one process encodes");
    }

    @Test
    void absentFieldsStayAbsentWithoutAnError() {
        DeviceSnapshot p1000 = sampler.collectOnce().devices().get(0);
        assertEquals(OptionalLong.empty(), p1000.totalEnergyMillijoules(), "no energy counter before Volta");
        assertEquals(OptionalInt.empty(), p1000.temperatureThresholdCelsius(TemperatureThreshold.MEM_MAX));
        assertEquals(List.of(), sampler.latest().errors(), "NOT_SUPPORTED is not an error");

        ManualTime t = new ManualTime();
        try (Sampler h200 = new Sampler(SimulatedGpuHost.create(1, t, GpuProfile.H200), SamplerConfig.DEFAULTS, t,
                t.ticker())) {
            GpuSnapshot s = h200.collectOnce();
            DeviceSnapshot d = s.devices().get(0);
            assertEquals(OptionalInt.empty(), d.fanSpeedPercent());
            assertTrue(d.totalEnergyMillijoules().isPresent());
            assertEquals(Optional.of(List.of()), d.processUtilization(), "idle: no samples, and that is not an error");
            assertEquals(List.of(), s.errors());
        }
    }

    @Test
    void slowFieldsAreReadEveryNthTickAndCarriedForwardInBetween() {
        SimProcess early = host.device(0).startProcess(100, "early").setLoad(20, 0, 0);
        GpuSnapshot s1 = sampler.collectOnce();
        SlowFields slow1 = s1.devices().get(0).slow();
        assertEquals(List.of(100), pids(s1));

        time.advanceSeconds(1);
        host.device(0).startProcess(200, "late").allocate(64 * MIB);
        GpuSnapshot s2 = sampler.collectOnce();
        time.advanceSeconds(1);
        GpuSnapshot s3 = sampler.collectOnce();
        for (GpuSnapshot s : List.of(s2, s3)) {
            assertSame(slow1, s.devices().get(0).slow(), "carried forward, not re-read");
            assertEquals(s1.collectedAt(), s.devices().get(0).slowFieldsReadAt());
            assertEquals(List.of(100), pids(s), "the process list is as of the slow read");
            assertEquals(2 * GpuProfile.QUADRO_P1000.memory().contextCostBytes() + 64 * MIB,
                    s.devices().get(0).memory().orElseThrow().usedBytes(), "cheap fields are fresh");
        }
        assertTrue(s3.collectedAt().isAfter(s2.collectedAt()));

        time.advanceSeconds(1);
        GpuSnapshot s4 = sampler.collectOnce();
        DeviceSnapshot d4 = s4.devices().get(0);
        assertNotSame(slow1, d4.slow());
        assertEquals(s4.collectedAt(), d4.slowFieldsReadAt());
        assertEquals(List.of(100, 200), pids(s4));
        long lastStamp = slow1.processUtilization().orElseThrow().get(0).timestampMicros();
        assertFalse(d4.processUtilization().orElseThrow().isEmpty());
        for (var sample : d4.processUtilization().orElseThrow()) {
            assertTrue(sample.timestampMicros() > lastStamp, "only samples since the previous slow read");
        }
        early.exit();
    }

    private static List<Integer> pids(GpuSnapshot s) {
        return s.devices().get(0).computeProcesses().orElseThrow().stream().map(ProcessInfo::pid).toList();
    }

    @Test
    void aFailingCallIsRecordedAndTheRestOfTheCollectWorks() {
        host.failCall("nvmlDeviceGetTemperature", NvmlReturn.UNKNOWN);
        host.failCall("nvmlDeviceGetComputeRunningProcesses", NvmlReturn.NO_PERMISSION);
        GpuSnapshot s = sampler.collectOnce();
        assertEquals(GpuSnapshot.Status.OK, s.status());
        DeviceSnapshot d = s.devices().get(0);
        assertEquals(OptionalInt.empty(), d.temperatureCelsius());
        assertEquals(Optional.empty(), d.computeProcesses(), "a failed list is absent, not empty");
        assertTrue(d.powerUsageMilliwatts().isPresent() && d.memory().isPresent() && d.fanSpeedPercent().isPresent());
        assertEquals(Optional.of(List.of()), d.graphicsProcesses());
        assertEquals(2, s.errors().size(), s.errors().toString());
        CallError temp = s.errors().get(0);
        assertEquals(0, temp.deviceIndex());
        assertEquals("nvmlDeviceGetTemperature", temp.call());
        assertEquals(NvmlReturn.UNKNOWN, temp.code());
        assertTrue(temp.message().contains("NVML_ERROR_UNKNOWN"), temp.message());
        assertEquals("nvmlDeviceGetComputeRunningProcesses_v3", s.errors().get(1).call());

        GpuSnapshot s2 = sampler.collectOnce();
        assertEquals(List.of(temp.call()), s2.errors().stream().map(CallError::call).toList(),
                "the process list is not re-read until the slow tick");
        assertEquals(List.of(new CallErrorTotal("nvmlDeviceGetComputeRunningProcesses_v3", NvmlReturn.NO_PERMISSION, 1),
                new CallErrorTotal("nvmlDeviceGetTemperature", NvmlReturn.UNKNOWN, 2)), s2.errorTotals());

        host.clearFaults();
        GpuSnapshot s3 = sampler.collectOnce();
        assertEquals(List.of(), s3.errors());
        assertTrue(s3.devices().get(0).temperatureCelsius().isPresent());
        assertEquals(s2.errorTotals(), s3.errorTotals(), "totals are cumulative");
    }

    @Test
    void aQuietCollectHandsOnTheSameFaultsAndAFailureMakesNewOnes() {
        GpuSnapshot first = sampler.collectOnce();
        GpuSnapshot quiet = sampler.collectOnce();
        assertSame(first.faults(), quiet.faults(), "nothing failed: nothing new to allocate");
        host.failCall("nvmlDeviceGetTemperature", NvmlReturn.UNKNOWN, 1);
        GpuSnapshot failed = sampler.collectOnce();
        assertNotSame(quiet.faults(), failed.faults());
        GpuSnapshot after = sampler.collectOnce();
        assertNotSame(failed.faults(), after.faults(), "the failure was this collect's only");
        assertEquals(List.of(), after.errors());
        assertSame(failed.errorTotals(), after.errorTotals(), "the totals did not change");
        assertSame(after.faults(), sampler.collectOnce().faults());
    }

    @Test
    void xidEventsAreCountedPerGpuAndNumberAndTheLastFewKept() {
        sampler = new Sampler(host, SamplerConfig.DEFAULTS.withRecentXidLimit(2), time, time.ticker());
        sampler.collectOnce();
        host.device(0).raiseXid(13);
        host.device(0).raiseXid(13);
        time.advanceSeconds(1);
        host.device(0).raiseXid(31);
        GpuSnapshot s = sampler.collectOnce();
        String uuid = GpuProfile.QUADRO_P1000.identity().uuid();
        Instant first = time.instant();
        assertEquals(List.of(new XidCount(0, uuid, 13, 2, first), new XidCount(0, uuid, 31, 1, first)),
                s.xidCounts());
        assertEquals(List.of(new XidEvent(0, uuid, 13, first), new XidEvent(0, uuid, 31, first)),
                s.recentXids());
        time.advanceSeconds(5);
        GpuSnapshot quiet = sampler.collectOnce();
        assertEquals(s.xidCounts(), quiet.xidCounts(), "counts and their times are cumulative");
        host.device(0).raiseXid(31);
        GpuSnapshot later = sampler.collectOnce();
        assertEquals(List.of(new XidCount(0, uuid, 13, 2, first), new XidCount(0, uuid, 31, 2, time.instant())),
                later.xidCounts(), "each Xid keeps the time it was last seen");
    }

    @Test
    void aThrowingListenerDoesNotStopTheOthersOrTheSampler() throws Exception {
        AtomicInteger good = new AtomicInteger();
        sampler.addListener(s -> {
            throw new IllegalStateException("listener bug");
        });
        sampler.addListener(s -> good.incrementAndGet());
        GpuSnapshot s = sampler.collectOnce();
        assertEquals(GpuSnapshot.Status.OK, s.status());
        assertEquals(1, good.get());
        assertEquals(1, sampler.listenerFailures());

        sampler.close();
        ManualSleeper sleeper = new ManualSleeper(time);
        sampler = new Sampler(host, SamplerConfig.DEFAULTS.withInterval(Duration.ofMillis(5)), time, time.ticker(),
                sleeper);
        sampler.addListener(x -> {
            throw new AssertionError("listener bug");
        });
        SnapshotWaiter waiter = new SnapshotWaiter();
        sampler.addListener(waiter);
        sampler.start();
        for (int round = 0; round < 2; round++) {
            sleeper.awaitSleepers(2, WAIT);
            sleeper.advance(Duration.ofMillis(5));
        }
        waiter.await(2, GpuSnapshot::isOk, WAIT);
        assertTrue(sampler.listenerFailures() >= 3);
    }

    @Test
    void closeIsIdempotentStopsTheThreadsAndClosesTheSession() throws Exception {
        sampler = new Sampler(host, SamplerConfig.DEFAULTS.withInterval(Duration.ofMillis(5)), time, time.ticker(),
                new ManualSleeper(time));
        SnapshotWaiter waiter = new SnapshotWaiter();
        sampler.addListener(waiter);
        sampler.start();
        waiter.await(0, GpuSnapshot::isOk, WAIT);
        assertTrue(sampler.threadsAlive());
        assertThrows(IllegalStateException.class, sampler::start);
        assertEquals(1, host.openSessions());
        sampler.close();
        sampler.close();
        assertFalse(sampler.threadsAlive());
        assertEquals(0, host.openSessions());
        long published = sampler.latest().sequence();
        assertThrows(IllegalStateException.class, sampler::collectOnce);
        assertThrows(IllegalStateException.class, sampler::start);
        assertEquals(published, sampler.latest().sequence(), "nothing published after close");
    }

    @Test
    void whenNvmlCannotBeOpenedTheSnapshotIsUnavailableAndSaysWhy() {
        sampler = new Sampler(() -> {
            throw new NvmlLibraryNotFoundException(List.of("libnvidia-ml.so.1 (not found)", "/usr/lib64 (no such file)"));
        }, SamplerConfig.DEFAULTS, time, time.ticker());
        GpuSnapshot s = sampler.collectOnce();
        assertEquals(GpuSnapshot.Status.UNAVAILABLE, s.status());
        assertEquals(List.of(), s.devices());
        assertEquals(NvmlReturn.LIBRARY_NOT_FOUND, s.errors().get(0).code());
        assertTrue(s.statusDetail().orElseThrow().contains("/usr/lib64"), s.statusDetail().toString());
        assertSame(s, sampler.collectOnce(), "the next attempt waits for the backoff");
        time.advanceSeconds(1);
        assertEquals(2, sampler.collectOnce().sequence());
    }

    @Test
    void snapshotsAreImmutableAndTheirAgeGrows() {
        GpuSnapshot s = sampler.collectOnce();
        assertThrows(UnsupportedOperationException.class, () -> s.devices().clear());
        assertThrows(UnsupportedOperationException.class, () -> s.errors().add(null));
        assertEquals(Duration.ZERO, s.age(time.instant()));
        time.advanceSeconds(3);
        assertEquals(Duration.ofSeconds(3), s.age(time.instant()));
        assertEquals(Duration.ZERO, s.age(Instant.EPOCH), "never negative");
        assertEquals(Optional.of(s.devices().get(0)), s.deviceByUuid(GpuProfile.QUADRO_P1000.identity().uuid()));
        assertEquals(Optional.empty(), s.device(1));
    }

    @Test
    void sequenceNumbersIncreaseWithEveryPublish() {
        long last = sampler.latest().sequence();
        for (int i = 0; i < 5; i++) {
            time.advanceSeconds(1);
            long seq = sampler.collectOnce().sequence();
            assertEquals(last + 1, seq);
            last = seq;
        }
    }
}
