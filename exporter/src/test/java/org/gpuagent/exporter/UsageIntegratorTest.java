package org.gpuagent.exporter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.SplittableRandom;
import org.gpuagent.nvml.ClockEventReason;
import org.gpuagent.nvml.sampler.GpuSnapshot;
import org.junit.jupiter.api.Test;

class UsageIntegratorTest {
    private static final int DECODER = 0;
    private static final int ENCODER = 1;
    private static final int GPU = 2;
    private static final int MEMORY = 3;
    private static final double EPS = 1e-9;

    private final UsageIntegrator integrator = new UsageIntegrator(Duration.ofSeconds(10));

    private static GpuSnapshot at(long seq, double seconds, TestSnapshots.Device d) {
        return TestSnapshots.ok(seq, TestSnapshots.T0.plusNanos(Math.round(seconds * 1e9)), d.build());
    }

    private static TestSnapshots.Device gpu() {
        return TestSnapshots.device(0, TestSnapshots.UUID);
    }

    @Test
    void busySecondsAreEachReadingTimesTheTimeSinceThePreviousCollect() {
        integrator.accept(at(1, 0, gpu().utilization(50, 10).encoder(20).decoder(40)));
        UsageIntegrator.DeviceUsage first = integrator.usage(TestSnapshots.UUID);
        assertEquals(0, first.engineSeconds(GPU).getAsDouble(), EPS, "the first reading starts the counter at 0");

        integrator.accept(at(2, 2, gpu().utilization(25, 50).encoder(100).decoder(0)));
        integrator.accept(at(3, 2.5, gpu().utilization(100, 0).encoder(0).decoder(10)));
        UsageIntegrator.DeviceUsage u = integrator.usage(TestSnapshots.UUID);
        assertEquals(0.25 * 2 + 1.0 * 0.5, u.engineSeconds(GPU).getAsDouble(), EPS);
        assertEquals(0.5 * 2, u.engineSeconds(MEMORY).getAsDouble(), EPS);
        assertEquals(1.0 * 2, u.engineSeconds(ENCODER).getAsDouble(), EPS);
        assertEquals(0.1 * 0.5, u.engineSeconds(DECODER).getAsDouble(), EPS);
    }

    @Test
    void anEngineTheGpuNeverReportedIsAbsentNotZero() {
        integrator.accept(at(1, 0, gpu().utilization(50, 10)));
        integrator.accept(at(2, 1, gpu().utilization(50, 10)));
        UsageIntegrator.DeviceUsage u = integrator.usage(TestSnapshots.UUID);
        assertTrue(u.engineSeconds(GPU).isPresent());
        assertFalse(u.engineSeconds(ENCODER).isPresent());
        assertFalse(u.energyJoules().isPresent(), "no power and no energy counter: no energy series");
        assertNull(integrator.usage("GPU-unknown"));
    }

    @Test
    void eachClockEventReasonCountsTheTimeSinceThePreviousCollectWhileItHolds() {
        integrator.accept(at(1, 0, gpu().reasons(ClockEventReason.GPU_IDLE)));
        assertEquals(0, integrator.usage(TestSnapshots.UUID).reasonSeconds(ClockEventReason.SW_POWER_CAP)
                .getAsDouble(), EPS, "every reason starts at 0, so rate() sees its first second");
        integrator.accept(at(2, 2, gpu().reasons(ClockEventReason.SW_POWER_CAP)));
        integrator.accept(at(3, 2.5, gpu().reasons(ClockEventReason.SW_POWER_CAP,
                ClockEventReason.SW_THERMAL_SLOWDOWN)));
        integrator.accept(at(4, 3.5, gpu()));
        integrator.accept(at(5, 4, gpu().reasons()));
        UsageIntegrator.DeviceUsage u = integrator.usage(TestSnapshots.UUID);
        assertEquals(2.5, u.reasonSeconds(ClockEventReason.SW_POWER_CAP).getAsDouble(), EPS);
        assertEquals(0.5, u.reasonSeconds(ClockEventReason.SW_THERMAL_SLOWDOWN).getAsDouble(), EPS);
        assertEquals(0, u.reasonSeconds(ClockEventReason.GPU_IDLE).getAsDouble(), EPS,
                "the first reading stands for no time");
        assertEquals(0, u.reasonSeconds(ClockEventReason.HW_SLOWDOWN).getAsDouble(), EPS);
    }

    @Test
    void reasonsAreAbsentOnAGpuThatNeverReportedThem() {
        integrator.accept(at(1, 0, gpu().utilization(1, 1)));
        integrator.accept(at(2, 1, gpu().utilization(1, 1)));
        assertFalse(integrator.usage(TestSnapshots.UUID).reasonSeconds(ClockEventReason.SW_POWER_CAP).isPresent());
    }

    @Test
    void energyIsIntegratedFromPowerWithoutACounter() {
        integrator.accept(at(1, 0, gpu().power(30_000)));
        integrator.accept(at(2, 1, gpu().power(40_000)));
        integrator.accept(at(3, 3, gpu().power(10_000)));
        UsageIntegrator.DeviceUsage u = integrator.usage(TestSnapshots.UUID);
        assertEquals(40.0 * 1 + 10.0 * 2, u.energyJoules().getAsDouble(), EPS);
        assertEquals(UsageIntegrator.EnergySource.INTEGRATED_POWER, u.energySource());
    }

    @Test
    void nvmlsEnergyCounterIsUsedAsIsAndKeptWhenOneReadingFails() {
        integrator.accept(at(1, 0, gpu().power(30_000).energy(2_000_000)));
        integrator.accept(at(2, 1, gpu().power(30_000).energy(2_030_500)));
        assertEquals(2030.5, integrator.usage(TestSnapshots.UUID).energyJoules().getAsDouble(), EPS);
        integrator.accept(at(3, 2, gpu().power(30_000)));
        UsageIntegrator.DeviceUsage u = integrator.usage(TestSnapshots.UUID);
        assertEquals(2030.5, u.energyJoules().getAsDouble(), EPS);
        assertEquals(UsageIntegrator.EnergySource.NVML_COUNTER, u.energySource());
    }

    @Test
    void aGapLongerThanTheLimitAddsNothing() {
        integrator.accept(at(1, 0, gpu().utilization(100, 100).power(50_000)));
        integrator.accept(at(2, 60, gpu().utilization(100, 100).power(50_000)));
        UsageIntegrator.DeviceUsage u = integrator.usage(TestSnapshots.UUID);
        assertEquals(0, u.engineSeconds(GPU).getAsDouble(), EPS);
        assertEquals(0, u.energyJoules().getAsDouble(), EPS);
        integrator.accept(at(3, 61, gpu().utilization(100, 100).power(50_000)));
        assertEquals(1, integrator.usage(TestSnapshots.UUID).engineSeconds(GPU).getAsDouble(), EPS,
                "integration resumes after the gap");
    }

    @Test
    void republishedAndOutOfOrderSnapshotsAddNothing() {
        GpuSnapshot first = at(1, 0, gpu().utilization(100, 0));
        GpuSnapshot second = at(2, 1, gpu().utilization(100, 0));
        integrator.accept(first);
        integrator.accept(second);
        integrator.accept(second);
        integrator.accept(TestSnapshots.withStatus(second, 3, GpuSnapshot.Status.STALE, second.collectedAt().plusSeconds(5)));
        integrator.accept(TestSnapshots.withStatus(second, 4, GpuSnapshot.Status.LOST, second.collectedAt().plusSeconds(6)));
        integrator.accept(first);
        assertEquals(1, integrator.usage(TestSnapshots.UUID).engineSeconds(GPU).getAsDouble(), EPS);
        // a wall clock that stepped back: not positive, adds nothing
        integrator.accept(at(5, 0.5, gpu().utilization(100, 0)));
        assertEquals(1, integrator.usage(TestSnapshots.UUID).engineSeconds(GPU).getAsDouble(), EPS);
    }

    @Test
    void busySecondsMatchAReferenceSumForRandomReadings() {
        long seed = 20260115L;
        SplittableRandom random = new SplittableRandom(seed);
        double t = 0;
        double expected = 0;
        integrator.accept(at(1, t, gpu().utilization(random.nextInt(101), 0)));
        for (int i = 2; i < 500; i++) {
            double dt = random.nextInt(1, 3000) / 1000.0;
            int pct = random.nextInt(101);
            t += dt;
            expected += pct / 100.0 * dt;
            integrator.accept(at(i, t, gpu().utilization(pct, 0)));
        }
        assertEquals(expected, integrator.usage(TestSnapshots.UUID).engineSeconds(GPU).getAsDouble(), 1e-6,
                "seed " + seed);
    }

    @Test
    void theGapLimitMustBePositive() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new UsageIntegrator(Duration.ZERO));
        assertTrue(e.getMessage().contains("positive"), e.getMessage());
    }

    @Test
    void timeComesFromTheSnapshotsNotTheClock() {
        Instant far = Instant.parse("2030-01-01T00:00:00Z");
        integrator.accept(TestSnapshots.ok(1, far, gpu().utilization(100, 0).build()));
        integrator.accept(TestSnapshots.ok(2, far.plusSeconds(2), gpu().utilization(100, 0).build()));
        assertEquals(2, integrator.usage(TestSnapshots.UUID).engineSeconds(GPU).getAsDouble(), EPS);
    }
}
