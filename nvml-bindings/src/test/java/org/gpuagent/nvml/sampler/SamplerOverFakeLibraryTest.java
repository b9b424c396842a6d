package org.gpuagent.nvml.sampler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.gpuagent.nvml.NvmlReturn;
import org.gpuagent.nvml.jna.FakeNvmlControl;
import org.gpuagent.scheduler.testing.ManualTime;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The sampler's fault handling end to end through the JNA binding and the fake libnvidia-ml
 * (real dlopen, real marshalling): a call blocked inside the library, a GPU that falls off the
 * bus and comes back, Xid events from the driver's event set. The same behaviours are tested in
 * detail over the simulator in {@link SamplerFaultTest}.
 */
class SamplerOverFakeLibraryTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    private final ManualTime time = new ManualTime();
    private FakeNvmlControl fake;
    private Sampler sampler;

    @BeforeEach
    void loadScenario() {
        fake = FakeNvmlControl.r580().loadScenario("p1000");
    }

    @AfterEach
    void tearDown() {
        if (fake != null) {
            fake.reset();
        }
        if (sampler != null) {
            sampler.close();
        }
    }

    @Test
    void aCallBlockedInTheLibraryMakesTheSnapshotStaleAndTheLastOneStaysReadable() throws Exception {
        SamplerConfig config = SamplerConfig.DEFAULTS.withInterval(Duration.ofMillis(10))
                .withWatchdogTimeout(Duration.ofMillis(200));
        ManualSleeper sleeper = new ManualSleeper(time);
        sampler = new Sampler(fake.opener(), config, time, time.ticker(), sleeper);
        SnapshotWaiter waiter = new SnapshotWaiter();
        sampler.addListener(waiter);
        sampler.start();
        GpuSnapshot first = waiter.await(0, GpuSnapshot::isOk, WAIT);
        assertEquals("nvml", first.backend().orElseThrow());

        fake.blockUntilReleased("nvmlDeviceGetTemperature");
        sleeper.awaitSleepers(2, WAIT);
        sleeper.wakeAll(); // another round, no time passing: the sampling thread collects into the blocked call
        assertTrue(fake.awaitBlocked("nvmlDeviceGetTemperature", WAIT), "the sampler should reach the blocked call");
        GpuSnapshot lastGood = sampler.latest();

        sleeper.awaitSleepers(1, WAIT); // the watchdog
        sleeper.advance(Duration.ofSeconds(1));
        GpuSnapshot stale = waiter.await(lastGood.sequence(), s -> s.status() == GpuSnapshot.Status.STALE, WAIT);
        assertSame(lastGood.devices(), stale.devices(), "the data is the last good one");
        assertEquals(4096L << 20, stale.devices().get(0).memory().orElseThrow().totalBytes(), "and still readable");
        assertEquals(Duration.ofSeconds(1), stale.age(time.instant()));
        time.advanceSeconds(2);
        assertEquals(Duration.ofSeconds(3), sampler.latest().age(time.instant()), "its age keeps growing");

        fake.release("nvmlDeviceGetTemperature");
        GpuSnapshot back = waiter.await(stale.sequence(), GpuSnapshot::isOk, WAIT);
        assertTrue(back.devices().get(0).temperatureCelsius().isPresent());
    }

    @Test
    void aLostGpuIsReportedAndTheSamplerRecoversWhenTheDriverDoes() {
        SamplerConfig config = SamplerConfig.DEFAULTS.withBackoff(Duration.ofSeconds(1), Duration.ofSeconds(4));
        sampler = new Sampler(fake.opener(), config, time, time.ticker());
        GpuSnapshot good = sampler.collectOnce();
        assertEquals(GpuSnapshot.Status.OK, good.status());
        long initsBefore = fake.callCount("nvmlInit_v2");

        fake.loseGpuAfter(0, 0);
        time.advanceSeconds(1);
        GpuSnapshot lost = sampler.collectOnce();
        assertEquals(GpuSnapshot.Status.LOST, lost.status());
        assertSame(good.devices(), lost.devices(), "the last good data stays readable");
        assertEquals(NvmlReturn.GPU_IS_LOST, lost.errors().get(lost.errors().size() - 1).code());

        time.advanceSeconds(1.5);
        GpuSnapshot stillLost = sampler.collectOnce();
        assertEquals(GpuSnapshot.Status.LOST, stillLost.status(), "re-opening a lost GPU fails");
        assertTrue(fake.callCount("nvmlInit_v2") > initsBefore, "the sampler tried to re-initialise NVML");

        fake.recoverGpu(0);
        GpuSnapshot recovered = stillLost;
        for (int i = 0; i < 20 && recovered.status() != GpuSnapshot.Status.OK; i++) {
            time.advanceSeconds(1);
            recovered = sampler.collectOnce();
        }
        assertEquals(GpuSnapshot.Status.OK, recovered.status(), "back after the backoff");
        assertEquals(good.devices().get(0).uuid(), recovered.devices().get(0).uuid());
        assertTrue(recovered.collectedAt().isAfter(good.collectedAt()));
    }

    @Test
    void xidEventsFromTheDriverAreCounted() {
        sampler = new Sampler(fake.opener(), SamplerConfig.DEFAULTS, time, time.ticker());
        sampler.collectOnce();
        fake.queueXid(0, 79);
        fake.queueXid(0, 13);
        fake.queueXid(0, 13);
        time.advanceSeconds(1);
        GpuSnapshot s = sampler.collectOnce();
        assertEquals(3, s.xidCounts().stream().mapToLong(XidCount::count).sum(), s.xidCounts().toString());
        assertEquals(2, s.xidCounts().stream().filter(x -> x.xid() == 13).mapToLong(XidCount::count).sum());
        assertEquals(79, s.recentXids().get(0).xid());
    }
}
