package org.gpuagent.scheduler;

import static org.gpuagent.scheduler.Homelab.GIB;
import static org.gpuagent.scheduler.Homelab.MIB;
import static org.gpuagent.scheduler.Homelab.START;
import static org.gpuagent.scheduler.Homelab.now;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.SplittableRandom;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.gpuagent.scheduler.journal.LogCapture;
import org.gpuagent.scheduler.testing.ManualTime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The scheduler's value types and small parts: what they accept, refuse and answer. */
class SchedulerValuesTest {
    private static Lease lease(long id, long bytes) {
        return Lease.active(new LeaseId(id), "ollama", bytes, Optional.of("o"), List.of(), START);
    }

    @Test
    void requestsRefuseWhatCannotBeMeant() {
        assertThrows(IllegalArgumentException.class, () -> AdmissionRequest.of("a").withBytes(0));
        assertEquals("pid must be positive, got 0", assertThrows(IllegalArgumentException.class,
                () -> AdmissionRequest.of("a").withPids(List.of(0L))).getMessage());
        assertEquals(List.of(1L), AdmissionRequest.of("a").withPids(List.of(1L)).pids());
        assertEquals(OptionalLong.of(1), AdmissionRequest.of("a").withBytes(1).bytes());
        assertEquals(Optional.of("h".repeat(512)), AdmissionRequest.of("a").withHolder("h".repeat(512)).holder());
        assertThrows(IllegalArgumentException.class, () -> AdmissionRequest.of("a").withHolder("h".repeat(513)));
        assertThrows(IllegalArgumentException.class, () -> lease(1, 0));
        assertTrue(lease(1, 1).counted());
        assertFalse(lease(1, 1).released().counted());
        assertTrue(lease(1, 1).evicting(START).counted());
    }

    @Test
    void decisionsSayWhetherTheyAdmittedAndForWhom() {
        Lease l = lease(1, GIB);
        Decision.Final admitted = new Decision.Admitted(1, l, Duration.ZERO, "s");
        Decision.Final after = new Decision.AdmittedAfterPreemption(2, l, List.of(lease(9, MIB)), Duration.ZERO, "s");
        Decision.Final denied = new Decision.Denied(3, "immich", GIB, Decision.Reason.CANCELLED, 0, List.of(), "s");
        assertEquals(List.of(true, true, false), List.of(admitted.admitted(), after.admitted(), denied.admitted()));
        assertEquals(List.of("ollama", "ollama", "immich"), List.of(admitted.service(), after.service(),
                denied.service()));
        assertEquals("journal_unavailable", Decision.Reason.JOURNAL_UNAVAILABLE.label());
        assertEquals("critical", PriorityClass.CRITICAL.label());
    }

    @Test
    void theEvictorThatDoesNothingCompletes() {
        Evictor.Order order = new Evictor.Order(lease(1, GIB), Homelab.OLLAMA, "frigate", 1, START, "why");
        assertTrue(Evictor.none().evict(order).toCompletableFuture().isDone());
    }

    @Test
    void observationsRefuseWhatCannotBeSeen() {
        assertThrows(IllegalArgumentException.class, () -> Observation.builder(START, 0).build());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Observation.builder(START, GIB)
                .holder("s", "h", -1).used(GIB).build()).getMessage().contains("holder h"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Observation.builder(START, GIB)
                .service("s", -1).used(GIB).build()).getMessage().contains("service s"));
        Observation o = Observation.builder(START, GIB).service("s", MIB).used(0).build();
        assertEquals(0, o.deviceUsedBytes(), "an explicit 0 is taken as given");
        assertEquals(MIB, Observation.builder(START, GIB).service("s", MIB).build().deviceUsedBytes(),
                "without one, the sum of what is attributed");
    }

    @Test
    void configurationsAndServicesRefuseWhatCannotWork() {
        assertEquals("device total must be positive, got 0", assertThrows(IllegalArgumentException.class,
                () -> new SchedulerConfig(0, Headroom.auto(), List.of())).getMessage());
        SchedulerConfig c = Homelab.config(4 * GIB, 0);
        assertEquals(Optional.of(Homelab.OLLAMA), c.service("ollama"));
        assertEquals(Optional.empty(), c.service("nope"));
        assertEquals(List.of("frigate", "jellyfin", "immich", "ollama", "backup"),
                List.copyOf(c.servicesByName().keySet()));
        assertEquals(Homelab.IMMICH, c.servicesByName().get("immich"));

        assertThrows(IllegalArgumentException.class, () -> Service.of("f", PriorityClass.CRITICAL, GIB, true));
        Service.of("f", PriorityClass.CRITICAL, GIB, false);
        Service.of("b", PriorityClass.BATCH, GIB, true);
        Service s = Service.of("s", PriorityClass.BATCH, GIB, true);
        assertThrows(IllegalArgumentException.class, () -> s.withEvictionDeadline(Duration.ofSeconds(-1)));
        assertThrows(IllegalArgumentException.class, () -> s.withReconciliationGrace(Duration.ofSeconds(-1)));
        assertThrows(IllegalArgumentException.class, () -> s.withOverUseTolerance(-1));
        assertEquals(Duration.ofSeconds(7), s.withEvictionDeadline(Duration.ofSeconds(7)).evictionDeadline());
        assertEquals(Duration.ZERO, s.withReconciliationGrace(Duration.ZERO).reconciliationGrace());
        assertEquals(0, s.withOverUseTolerance(0).overUseToleranceBytes());
    }

    @Test
    void theViewAnswersPerServiceAndFree() {
        Homelab.Rig rig = Homelab.rig();
        rig.admit("ollama", 3 * GIB, "o");
        assertEquals(GIB, rig.view().freeBytes());
        assertEquals(3 * GIB, rig.view().service("ollama").orElseThrow().leasedBytes());
        assertEquals(Optional.empty(), rig.view().service("nope"));
        rig.observe(rig.observation().holder("ollama", "o", 5 * GIB).build());
        assertEquals(0, rig.view().freeBytes(), "over-committed: nothing free, not a negative amount");
    }

    /** Records the delays it is asked for instead of waiting. */
    private static final class RecordingExecutor extends ScheduledThreadPoolExecutor {
        final List<Long> delays = new ArrayList<>();

        RecordingExecutor() {
            super(1);
            setRemoveOnCancelPolicy(true);
        }

        @Override
        public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
            delays.add(unit.toNanos(delay));
            return super.schedule(command, 1, TimeUnit.DAYS);
        }
    }

    @Test
    void scheduledTimersComputeTheDelayFromTheInjectedClock() {
        RecordingExecutor executor = new RecordingExecutor();
        try {
            ManualTime time = new ManualTime(START);
            Timers timers = new ScheduledExecutorTimers(executor, time);
            timers.schedule(START.plusSeconds(3), () -> { }).cancel();
            timers.schedule(START.minusSeconds(3), () -> { }).cancel();
            timers.schedule(Instant.MAX, () -> { }).cancel();
            assertEquals(List.of(3_000_000_000L, 0L, Long.MAX_VALUE), executor.delays);
            assertEquals(0, executor.getQueue().size(), "cancelled");
        } finally {
            executor.shutdownNow();
        }
    }

    @Test
    void theBuilderTakesItsExecutorsAndRefusesABatchOfNone() {
        List<Runnable> completions = new ArrayList<>();
        Executor completing = completions::add;
        ManualTime time = new ManualTime(START);
        AdmissionController.Builder b = AdmissionController.builder(Homelab.config(4 * GIB, 0), time, time);
        assertThrows(IllegalArgumentException.class, () -> b.overflowExecutor(Runnable::run, 0));
        AdmissionController c = b.completionExecutor(completing).overflowExecutor(Runnable::run, 1).build();
        assertEquals(Homelab.config(4 * GIB, 0), c.config());
        Admission a = c.request(AdmissionRequest.of("ollama").withBytes(GIB));
        assertFalse(a.outcome().isDone(), "completed on the completion executor, not inline");
        completions.forEach(Runnable::run);
        assertTrue(now(a.outcome()).admitted());
    }

    @Test
    void aListenerOrACompletionThatFailsIsLoggedAndChangesNothing() {
        ManualTime time = new ManualTime(START);
        AdmissionController c = AdmissionController.builder(Homelab.config(4 * GIB, 0), time, time)
                .completionExecutor(r -> {
                    throw new IllegalStateException("executor gone");
                })
                .listener(e -> {
                    throw new IllegalStateException("listener bug");
                }).build();
        try (LogCapture log = new LogCapture(AdmissionController.class)) {
            c.request(AdmissionRequest.of("ollama").withBytes(GIB));
            assertEquals(List.of("SEVERE a ledger listener failed on Admitted; the ledger carries on",
                    "SEVERE completing a request failed"), log.lines().stream().distinct().toList());
        }
        assertEquals(1, c.view().leases().size());
    }

    /** The planner's stable sort by age against a comparator sort, over every kind of spread. */
    @ParameterizedTest(name = "spread {0}")
    @ValueSource(longs = {0, 3, 1_000, 1L << 42, 1L << 43, Long.MAX_VALUE})
    void candidatesAreSortedOldestFirstAndStably(long spread) {
        SplittableRandom random = new SplittableRandom(spread);
        for (int round = 0; round < 50; round++) {
            List<PreemptionPlannerTest.Unit> units = new ArrayList<>();
            int n = random.nextInt(1, 40);
            for (int i = 0; i < n; i++) {
                long age = spread == 0 ? 5 : spread == Long.MAX_VALUE ? random.nextLong()
                        : random.nextLong(-spread / 2, spread / 2 + 1);
                units.add(new PreemptionPlannerTest.Unit("u" + i, PriorityClass.BATCH, true, MIB, age));
            }
            List<PreemptionPlannerTest.Unit> expected = new ArrayList<>(units);
            expected.sort(Comparator.comparingLong(PreemptionPlannerTest.Unit::age));
            PreemptionPlanner.sortReprieveOrder(units);
            assertEquals(expected, units, "spread " + spread + ", round " + round);
        }
    }
}
