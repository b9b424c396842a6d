package org.gpuagent.bench.scheduler;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.gpuagent.scheduler.AdmissionController;
import org.gpuagent.scheduler.AdmissionRequest;
import org.gpuagent.scheduler.ByteSize;
import org.gpuagent.scheduler.Decision;
import org.gpuagent.scheduler.journal.FileJournal;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Durable admissions per second with 32 concurrent requesters, on this machine's disk: every
 * admission is acknowledged only after its journal record is fsynced, and group commit lets
 * concurrent requests share one fsync. Each operation is one acknowledged admission; the lease is
 * then released without waiting (its record joins a later group). The state directory is a fresh
 * temporary directory under {@code dir} (default: java.io.tmpdir); the tear-down prints
 * admissions per fsync.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@State(Scope.Benchmark)
public class DurableAdmissionBenchmark {
    @Param("")
    public String dir;

    Path stateDir;
    FileJournal journal;
    AdmissionController controller;
    final AtomicInteger threadIds = new AtomicInteger();
    final AtomicLong admissions = new AtomicLong();
    long syncsAtStart;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        Path parent = Path.of(dir.isEmpty() ? System.getProperty("java.io.tmpdir") : dir);
        stateDir = Files.createTempDirectory(parent, "gpu-agent-bench-journal-");
        journal = FileJournal.open(stateDir, SchedulerFixtures.CLOCK);
        controller = AdmissionController.builder(SchedulerFixtures.config(1L << 50), SchedulerFixtures.CLOCK,
                SchedulerFixtures.NO_TIMERS).journal(journal).build();
    }

    @Setup(Level.Iteration)
    public void startCounting() {
        admissions.set(0);
        syncsAtStart = journal.syncCount();
    }

    @TearDown(Level.Iteration)
    public void report() {
        long syncs = journal.syncCount() - syncsAtStart;
        System.out.printf("  [%d admissions, %d fsyncs: %.1f admissions per fsync, file %s]%n", admissions.get(),
                syncs, syncs == 0 ? 0.0 : (double) admissions.get() / syncs, journal.file());
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        controller.close();
        try (Stream<Path> files = Files.walk(stateDir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    @State(Scope.Thread)
    public static class Requester {
        AdmissionRequest request;

        @Setup(Level.Trial)
        public void setUp(DurableAdmissionBenchmark b) {
            int id = b.threadIds.incrementAndGet();
            request = AdmissionRequest.of(SchedulerFixtures.NON_CRITICAL.get(id % 3)).withBytes(256 * ByteSize.MIB)
                    .withHolder("requester-" + id);
        }
    }

    @Benchmark
    @Threads(32)
    public Decision.Final durableAdmission32Requesters(Requester r) {
        Decision.Final d = controller.request(r.request).outcome().join();
        admissions.incrementAndGet();
        controller.release(((Decision.Admitted) d).lease().id());
        return d;
    }
}
