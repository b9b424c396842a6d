package org.gpuagent.bench.scheduler;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.gpuagent.scheduler.AdmissionController;
import org.gpuagent.scheduler.AdmissionRequest;
import org.gpuagent.scheduler.ByteSize;
import org.gpuagent.scheduler.Decision;
import org.gpuagent.scheduler.Lease;
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
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One in-memory admission decision through the whole controller (command queue, single writer,
 * ledger, sentence, event, view publication; journal {@code none}) with 100 leases standing.
 * Each thread alternates: admit a lease, then release it, so the ledger stays at 100 (+ one per
 * thread) and every operation is one decision. {@code denied} is a request that does not fit and
 * may preempt nobody (plans and answers, changes nothing). Sample time, for p50/p99.
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@State(Scope.Benchmark)
public class LedgerDecisionBenchmark {
    static final int STANDING_LEASES = 100;

    AdmissionController controller;
    final AtomicInteger threadIds = new AtomicInteger();

    @Setup(Level.Trial)
    public void setUp() {
        // 64 GiB card, 100 leases of 256 MiB (25 GiB): every admission fits.
        controller = AdmissionController.builder(SchedulerFixtures.config(64 * ByteSize.GIB), SchedulerFixtures.CLOCK,
                SchedulerFixtures.NO_TIMERS).build();
        for (int i = 0; i < STANDING_LEASES; i++) {
            String service = SchedulerFixtures.NON_CRITICAL.get(i % 3);
            Decision.Final d = controller.request(AdmissionRequest.of(service).withBytes(256 * ByteSize.MIB)
                    .withHolder("standing-" + i)).outcome().join();
            if (!d.admitted()) {
                throw new IllegalStateException(d.sentence());
            }
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        controller.close();
    }

    /** Per thread: the lease it holds between an admit and the next release. */
    @State(Scope.Thread)
    public static class Requester {
        Lease held;
        AdmissionRequest admit;
        AdmissionRequest denied;

        @Setup(Level.Trial)
        public void setUp(LedgerDecisionBenchmark b) {
            int id = b.threadIds.incrementAndGet();
            admit = AdmissionRequest.of("jellyfin").withBytes(128 * ByteSize.MIB).withHolder("bench-" + id);
            // Opportunistic: nobody it may preempt, so a plain denial.
            denied = AdmissionRequest.of("ollama").withBytes(48 * ByteSize.GIB).withHolder("bench-big-" + id);
        }
    }

    private Object decide(Requester r) {
        if (r.held == null) {
            Decision.Final d = controller.request(r.admit).outcome().join();
            r.held = ((Decision.Admitted) d).lease();
            return d;
        }
        Boolean released = controller.release(r.held.id()).join();
        r.held = null;
        return released;
    }

    @Benchmark
    @Threads(1)
    public Object decision1Thread(Requester r) {
        return decide(r);
    }

    @Benchmark
    @Threads(4)
    public Object decision4Threads(Requester r) {
        return decide(r);
    }

    @Benchmark
    @Threads(1)
    public Object denied1Thread(Requester r) {
        return controller.request(r.denied).outcome().join();
    }
}
