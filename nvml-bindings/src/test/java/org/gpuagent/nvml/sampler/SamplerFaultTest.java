package org.gpuagent.nvml.sampler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.gpuagent.nvml.NvmlOpener;
import org.gpuagent.nvml.NvmlReturn;
import org.gpuagent.nvml.sim.BlockedCall;
import org.gpuagent.nvml.sim.GpuProfile;
import org.gpuagent.nvml.sim.SimulatedGpuHost;
import org.gpuagent.scheduler.testing.ManualTime;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The sampler's fault handling: a call blocked in the driver (STALE), a lost GPU or driver error (LOST, backoff). */
class SamplerFaultTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    private final ManualTime time = new ManualTime();
    private final ManualSleeper sleeper = new ManualSleeper(time);
    private final SimulatedGpuHost host = SimulatedGpuHost.create(5, time, GpuProfile.QUADRO_P1000);
    private final ExecutorService pool = Executors.newSingleThreadExecutor();
    private Sampler sampler;

    @AfterEach
    void tearDown() {
        host.clearFaults();
        host.recover();
        if (sampler != null) {
            sampler.close();
        }
        pool.shutdownNow();
    }

    /** Lets both threads go round once with no time passing: the sampling thread collects again. */
    private void nextRound() throws InterruptedException {
        sleeper.awaitSleepers(2, WAIT);
        sleeper.wakeAll();
    }

    @Test
    void aBlockedCallMakesTheSnapshotStaleWhileTheLastOneStaysReadableThenRecovers() throws Exception {
        SamplerConfig config = SamplerConfig.DEFAULTS.withInterval(Duration.ofMillis(10))
                .withWatchdogTimeout(Duration.ofMillis(200));
        sampler = new Sampler(host, config, time, time.ticker(), sleeper);
        SnapshotWaiter waiter = new SnapshotWaiter();
        sampler.addListener(waiter);
        sampler.start();
        waiter.await(0, GpuSnapshot::isOk, WAIT);

        BlockedCall blocked = host.blockCall("nvmlDeviceGetTemperature");
        nextRound();
        assertTrue(blocked.awaitBlocked(WAIT), "the sampler should reach the blocked call");
        GpuSnapshot lastGood = sampler.latest();
        assertEquals(GpuSnapshot.Status.OK, lastGood.status());

        sleeper.awaitSleepers(1, WAIT); // the watchdog; the sampling thread is in the blocked call
        sleeper.advance(Duration.ofSeconds(1));
        GpuSnapshot stale = waiter.await(lastGood.sequence(), s -> s.status() == GpuSnapshot.Status.STALE, WAIT);
        assertSame(stale, sampler.latest());
        assertEquals(lastGood.collectedAt(), stale.collectedAt(), "the data is the last good one");
        assertSame(lastGood.devices(), stale.devices());
        assertEquals(time.instant(), stale.publishedAt());
        assertTrue(stale.statusDetail().orElseThrow().contains("temperatureCelsius on GPU 0"), stale.statusDetail().toString());
        assertEquals(Duration.ofSeconds(1), stale.age(time.instant()));
        time.advanceSeconds(2);
        assertEquals(Duration.ofSeconds(3), sampler.latest().age(time.instant()), "its age keeps growing");
        assertEquals(1, blocked.waitingThreads(), "one collect in flight, no second one");
        assertEquals(1, waiter.seen().stream().filter(s -> s.status() == GpuSnapshot.Status.STALE).count(),
                "STALE is published once per blocked collect");

        blocked.release();
        GpuSnapshot back = waiter.await(stale.sequence(), GpuSnapshot::isOk, WAIT);
        assertEquals(lastGood.collectedAt(), back.collectedAt(), "stamped when the blocked collect began");
        assertEquals(time.instant(), back.publishedAt());
        assertTrue(back.collectDurationNanos() >= Duration.ofSeconds(3).toNanos(), "the collect took the blocked time");
        assertTrue(back.devices().get(0).temperatureCelsius().isPresent());
        assertEquals(List.of(), back.errors());
    }

    @Test
    void closingWhileACallIsBlockedStopsTheSamplerAndClosesTheSession() throws Exception {
        sampler = new Sampler(host, SamplerConfig.DEFAULTS.withInterval(Duration.ofMillis(10)), time, time.ticker(),
                sleeper);
        SnapshotWaiter waiter = new SnapshotWaiter();
        sampler.addListener(waiter);
        sampler.start();
        waiter.await(0, GpuSnapshot::isOk, WAIT);
        BlockedCall blocked = host.blockCall("nvmlDeviceGetFanSpeed");
        nextRound();
        assertTrue(blocked.awaitBlocked(WAIT));
        long sequence = sampler.latest().sequence();
        sampler.close();
        assertFalse(sampler.threadsAlive(), "the simulator's blocked call gives up when interrupted");
        assertEquals(0, host.openSessions());
        assertEquals(sequence, sampler.latest().sequence(), "nothing published after close");
        assertFalse(blocked.isReleased());
    }

    @Test
    void theWatchdogReportsABlockedCollectOnceAndOnlyPastTheTimeout() throws Exception {
        SamplerConfig config = SamplerConfig.DEFAULTS.withWatchdogTimeout(Duration.ofSeconds(5));
        sampler = new Sampler(host, config, time, time.ticker());
        GpuSnapshot good = sampler.collectOnce();
        BlockedCall blocked = host.blockCall("nvmlDeviceGetPowerUsage");
        Future<GpuSnapshot> stuck = pool.submit(sampler::collectOnce);
        assertTrue(blocked.awaitBlocked(WAIT));
        time.advanceSeconds(5);
        assertFalse(sampler.checkWatchdog(), "5 s is not past a 5 s timeout");
        time.advanceSeconds(0.5);
        assertTrue(sampler.checkWatchdog());
        assertFalse(sampler.checkWatchdog(), "reported once");
        assertEquals(GpuSnapshot.Status.STALE, sampler.latest().status());
        assertEquals(good.sequence() + 1, sampler.latest().sequence());
        blocked.release();
        GpuSnapshot after = stuck.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertEquals(GpuSnapshot.Status.OK, after.status());
        assertEquals(good.sequence() + 2, after.sequence());
        assertFalse(sampler.checkWatchdog(), "nothing in flight");
    }

    @Test
    void aBlockedOpenIsReportedStaleToo() throws Exception {
        sampler = new Sampler(host, SamplerConfig.DEFAULTS, time, time.ticker());
        BlockedCall blocked = host.blockCall("nvmlInit_v2");
        Future<GpuSnapshot> stuck = pool.submit(sampler::collectOnce);
        assertTrue(blocked.awaitBlocked(WAIT));
        time.advanceSeconds(6);
        assertTrue(sampler.checkWatchdog());
        GpuSnapshot stale = sampler.latest();
        assertEquals(GpuSnapshot.Status.STALE, stale.status());
        assertTrue(stale.statusDetail().orElseThrow().contains("open"), stale.statusDetail().toString());
        blocked.release();
        assertEquals(GpuSnapshot.Status.OK, stuck.get(WAIT.toSeconds(), TimeUnit.SECONDS).status());
    }

    @Test
    void aLostGpuIsPublishedAsLostAndNvmlIsReopenedWithExponentialBackoff() {
        List<Long> attempts = Collections.synchronizedList(new ArrayList<>());
        NvmlOpener recorded = () -> {
            attempts.add(time.nanoTime());
            return host.open();
        };
        SamplerConfig config = SamplerConfig.DEFAULTS.withSlowEveryTicks(1)
                .withBackoff(Duration.ofSeconds(1), Duration.ofSeconds(8));
        sampler = new Sampler(recorded, config, time, time.ticker());
        sampler.collectOnce();
        host.device(0).raiseXid(13);
        time.advanceSeconds(1);
        GpuSnapshot good = sampler.collectOnce();
        assertEquals(1, good.xidCounts().get(0).count());

        host.loseGpus();
        time.advanceSeconds(1);
        long lostAt = time.nanoTime();
        GpuSnapshot lost = sampler.collectOnce();
        assertEquals(GpuSnapshot.Status.LOST, lost.status());
        assertSame(good.devices(), lost.devices(), "the last good data stays readable");
        assertEquals(good.collectedAt(), lost.collectedAt());
        assertEquals(NvmlReturn.GPU_IS_LOST, lost.errors().get(lost.errors().size() - 1).code());
        assertEquals(0, host.openSessions(), "the broken session was closed");
        attempts.clear();

        long previousSequence = lost.sequence();
        GpuSnapshot last = lost;
        for (int step = 1; step <= 320; step++) {
            time.advance(Duration.ofMillis(100));
            if (step == 250) {
                host.recover();
            }
            GpuSnapshot s = sampler.collectOnce();
            if (s.sequence() == previousSequence) {
                assertSame(last, s, "between attempts nothing is published");
            } else if (s.status() == GpuSnapshot.Status.LOST) {
                assertTrue(s.statusDetail().orElseThrow().contains("cannot open NVML"), s.statusDetail().toString());
                assertEquals(good.collectedAt(), s.collectedAt());
            }
            previousSequence = s.sequence();
            last = s;
        }
        List<Long> secondsAfterLoss = new ArrayList<>();
        for (long at : attempts) {
            secondsAfterLoss.add(Math.round((at - lostAt) / 1e9));
        }
        assertEquals(List.of(1L, 3L, 7L, 15L, 23L, 31L), secondsAfterLoss, "backoff 1, 2, 4, 8, 8, 8 s");
        assertEquals(GpuSnapshot.Status.OK, last.status());
        assertTrue(last.collectedAt().isAfter(good.collectedAt()));
        assertEquals(1, host.openSessions());
        assertEquals(good.xidCounts(), last.xidCounts(), "Xid counts survive re-initialisation");
        host.device(0).raiseXid(13);
        assertEquals(2, sampler.collectOnce().xidCounts().get(0).count(), "and the new session's events count on");
    }

    @Test
    void aDriverErrorMidCollectReinitialisesAfterTheShortestBackoff() {
        SamplerConfig config = SamplerConfig.DEFAULTS.withBackoff(Duration.ofMillis(500), Duration.ofSeconds(30));
        sampler = new Sampler(host, config, time, time.ticker());
        sampler.collectOnce();
        host.failCall("nvmlDeviceGetPowerUsage", NvmlReturn.DRIVER_NOT_LOADED, 1);
        GpuSnapshot lost = sampler.collectOnce();
        assertEquals(GpuSnapshot.Status.LOST, lost.status());
        assertEquals("nvmlDeviceGetPowerUsage", lost.errors().get(0).call());
        assertTrue(lost.statusDetail().orElseThrow().contains("re-initialised"), lost.statusDetail().toString());
        time.advance(Duration.ofMillis(499));
        assertSame(lost, sampler.collectOnce());
        time.advance(Duration.ofMillis(1));
        assertEquals(GpuSnapshot.Status.OK, sampler.collectOnce().status());
    }

    @Test
    void theSamplingThreadRecoversFromALostGpuOnItsOwn() throws Exception {
        SamplerConfig config = SamplerConfig.DEFAULTS.withInterval(Duration.ofMillis(5))
                .withBackoff(Duration.ofMillis(1), Duration.ofMillis(2));
        sampler = new Sampler(host, config, time, time.ticker(), sleeper);
        SnapshotWaiter waiter = new SnapshotWaiter();
        sampler.addListener(waiter);
        sampler.start();
        GpuSnapshot ok = waiter.await(0, GpuSnapshot::isOk, WAIT);
        host.loseGpus();
        sleeper.awaitSleepers(2, WAIT);
        sleeper.advance(Duration.ofMillis(5));
        GpuSnapshot lost = waiter.await(ok.sequence(), s -> s.status() == GpuSnapshot.Status.LOST, WAIT);
        host.recover();
        sleeper.awaitSleepers(2, WAIT);
        sleeper.advance(Duration.ofMillis(1));
        waiter.await(lost.sequence(), GpuSnapshot::isOk, WAIT);
        assertEquals(1, host.openSessions(), "the lost session was closed, a new one opened");
        assertEquals(List.of(Duration.ofMillis(5), Duration.ofMillis(1)), sleeper.asked().stream()
                        .filter(d -> d.compareTo(Duration.ofMillis(5)) <= 0).limit(2).toList(),
                "a round after the interval, the re-open after the shortest backoff");
    }
}
