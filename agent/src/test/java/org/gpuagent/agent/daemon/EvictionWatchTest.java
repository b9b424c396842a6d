package org.gpuagent.agent.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.gpuagent.scheduler.Admission;
import org.gpuagent.scheduler.AdmissionController;
import org.gpuagent.scheduler.AdmissionRequest;
import org.gpuagent.scheduler.Decision;
import org.gpuagent.scheduler.Headroom;
import org.gpuagent.scheduler.Observation;
import org.gpuagent.scheduler.PriorityClass;
import org.gpuagent.scheduler.SchedulerConfig;
import org.gpuagent.scheduler.Service;
import org.gpuagent.scheduler.testing.ManualTime;
import org.junit.jupiter.api.Test;

/**
 * The fast reads during an eviction, in virtual time: they start with the preemption, come every
 * interval, end when the victim's memory is back (or its deadline passes), and the waiting request
 * is admitted by the first read after the memory is free.
 */
class EvictionWatchTest {
    private static final long MIB = 1L << 20;
    private static final long GIB = 1L << 30;
    private static final Duration INTERVAL = Duration.ofMillis(150);
    private static final Service FRIGATE = Service.of("frigate", PriorityClass.CRITICAL, GIB, false);
    private static final Service OLLAMA = new Service("ollama", PriorityClass.OPPORTUNISTIC, 2560 * MIB, true,
            Duration.ofSeconds(10), Duration.ofSeconds(30), 64 * MIB);

    private final ManualTime time = new ManualTime();
    private final AdmissionController ledger = AdmissionController.builder(
            new SchedulerConfig(4 * GIB, Headroom.fixed(0), List.of(FRIGATE, OLLAMA)), time, time).build();
    private final List<Instant> reads = new ArrayList<>();
    /** When the simulated victim's memory is free; never until set. */
    private Instant ollamaFreeAt = Instant.MAX;
    private final EvictionWatch watch = new EvictionWatch(time, time, INTERVAL, ledger::view,
            s -> s.equals("ollama") ? OLLAMA.evictionDeadline() : FRIGATE.evictionDeadline(), this::read);

    /** What the sampler's collect would publish: ollama's process holds its memory until it is free. */
    private void read() {
        reads.add(time.instant());
        long ollama = time.instant().isBefore(ollamaFreeAt) ? 2560 * MIB : 0;
        ledger.observe(Observation.builder(time.instant(), 4 * GIB).holder("ollama", "o", ollama).build()).join();
    }

    private Admission preemptOllama() {
        ledger.addListener(watch);
        ledger.request(AdmissionRequest.of("ollama").withBytes(2560 * MIB).withHolder("o")).outcome().join();
        ledger.request(AdmissionRequest.of("frigate").withBytes(GIB).withHolder("f")).outcome();
        Admission frigate = ledger.request(AdmissionRequest.of("frigate").withBytes(GIB).withHolder("f2"));
        assertInstanceOf(Decision.Queued.class, frigate.firstDecision().join());
        return frigate;
    }

    @Test
    void readsEveryIntervalUntilTheMemoryIsBackThenStop() {
        Instant start = time.instant();
        ollamaFreeAt = start.plusMillis(500);
        Admission frigate = preemptOllama();
        assertTrue(watch.active(), "the preemption started the fast reads");
        assertTrue(reads.isEmpty());

        time.advance(Duration.ofSeconds(1));

        assertEquals(List.of(start.plusMillis(150), start.plusMillis(300), start.plusMillis(450),
                start.plusMillis(600)), reads, "every 150 ms, and none once the memory was seen back");
        Decision.AdmittedAfterPreemption a = assertInstanceOf(Decision.AdmittedAfterPreemption.class,
                frigate.outcome().join());
        assertEquals(Duration.ofMillis(600), a.waited(), "admitted by the first read after the memory was free");
        assertFalse(watch.active());
        time.advance(Duration.ofMinutes(1));
        assertEquals(4, reads.size(), "back to the normal cadence: no more fast reads");
    }

    @Test
    void aVictimThatNeverFreesIsWatchedUntilItsEvictionDeadlineOnly() {
        Instant start = time.instant();
        preemptOllama();

        time.advance(Duration.ofSeconds(30));

        assertFalse(watch.active());
        Instant deadline = start.plus(OLLAMA.evictionDeadline());
        assertTrue(reads.get(reads.size() - 1).isBefore(deadline), "the last read is before the deadline");
        assertEquals(66, reads.size(), "10 s / 150 ms reads, then none");
    }

    @Test
    void otherEventsStartNothing() {
        ledger.addListener(watch);
        ledger.request(AdmissionRequest.of("ollama").withBytes(GIB).withHolder("o")).outcome().join();
        time.advance(Duration.ofSeconds(5));
        assertFalse(watch.active());
        assertTrue(reads.isEmpty());
        assertEquals(0, watch.reads());
    }
}
