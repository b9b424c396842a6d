package org.gpuagent.bench.scheduler;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.gpuagent.scheduler.AdmissionController;
import org.gpuagent.scheduler.AdmissionRequest;
import org.gpuagent.scheduler.ByteSize;
import org.gpuagent.scheduler.Decision;
import org.gpuagent.scheduler.PreemptionPlanner;
import org.gpuagent.scheduler.PriorityClass;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Preemption planning at 1,000 leases.
 * <ul>
 *   <li>{@code planner}: {@link PreemptionPlanner#plan} over 1,000 units in shuffled age order
 *   (the sort's worst case), with a request that needs about half of them evicted, so the
 *   reprieve walk runs over every candidate.</li>
 *   <li>{@code controllerDecisionWithPlanning}: a critical request through the whole controller on
 *   a ledger of 1,000 leases, where even evicting every candidate would not be enough: it groups
 *   the leases into units, plans and answers, without changing the ledger.</li>
 * </ul>
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@State(Scope.Benchmark)
public class PreemptionPlanningBenchmark {
    static final int LEASES = 1000;

    record Unit(PriorityClass priority, boolean preemptible, long releasableBytes, long age)
            implements PreemptionPlanner.Candidate {
    }

    List<Unit> units;
    long request;
    AdmissionController controller;
    AdmissionRequest tooBig;

    @Setup(Level.Trial)
    public void setUp() {
        SplittableRandom random = new SplittableRandom(42);
        PriorityClass[] classes = {PriorityClass.CRITICAL, PriorityClass.INTERACTIVE, PriorityClass.BATCH,
            PriorityClass.OPPORTUNISTIC};
        List<Long> ages = new ArrayList<>();
        for (long i = 1; i <= LEASES; i++) {
            ages.add(i);
        }
        for (int i = ages.size() - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            Long t = ages.get(i);
            ages.set(i, ages.get(j));
            ages.set(j, t);
        }
        units = new ArrayList<>();
        long candidateBytes = 0;
        for (int i = 0; i < LEASES; i++) {
            PriorityClass c = classes[random.nextInt(classes.length)];
            Unit u = new Unit(c, c != PriorityClass.CRITICAL, random.nextLong(16, 512) * ByteSize.MIB, ages.get(i));
            units.add(u);
            if (c != PriorityClass.CRITICAL) {
                candidateBytes += u.releasableBytes();
            }
        }
        request = candidateBytes / 2;
        PreemptionPlanner.Plan<Unit> check = PreemptionPlanner.plan(PriorityClass.CRITICAL, request, 0, units);
        if (check.outcome() != PreemptionPlanner.Outcome.PREEMPT) {
            throw new IllegalStateException("set-up should need preemption: " + check.outcome());
        }

        // 1,000 leases of 64 MiB in a 64000 MiB budget: full. A critical request for more than
        // every lower-priority lease holds cannot be helped by preemption.
        controller = AdmissionController.builder(SchedulerFixtures.config(LEASES * 64 * ByteSize.MIB),
                SchedulerFixtures.CLOCK, SchedulerFixtures.NO_TIMERS).build();
        for (int i = 0; i < LEASES; i++) {
            String service = i % 4 == 0 ? "frigate" : SchedulerFixtures.NON_CRITICAL.get(i % 3);
            Decision.Final d = controller.request(AdmissionRequest.of(service).withBytes(64 * ByteSize.MIB)
                    .withHolder("lease-" + i)).outcome().join();
            if (!d.admitted()) {
                throw new IllegalStateException(d.sentence());
            }
        }
        tooBig = AdmissionRequest.of("frigate").withBytes(800 * 64 * ByteSize.MIB).withHolder("big");
        Decision.Final d = controller.request(tooBig).outcome().join();
        if (!(d instanceof Decision.Denied denied) || denied.reason() != Decision.Reason.INSUFFICIENT_VRAM) {
            throw new IllegalStateException("expected a denial after planning: " + d.sentence());
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        controller.close();
    }

    @Benchmark
    public PreemptionPlanner.Plan<Unit> planner() {
        return PreemptionPlanner.plan(PriorityClass.CRITICAL, request, 0, units);
    }

    @Benchmark
    public Decision.Final controllerDecisionWithPlanning() {
        return controller.request(tooBig).outcome().join();
    }
}
