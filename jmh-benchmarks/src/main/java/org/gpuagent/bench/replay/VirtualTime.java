package org.gpuagent.bench.replay;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Comparator;
import java.util.PriorityQueue;
import org.gpuagent.scheduler.Timers;

/**
 * The replay's clock and timers: time moves only in {@link #runUntil}, which runs every timer due
 * on the way in order of its time (then of scheduling), on the calling thread. Single-threaded by
 * contract (the replay drives everything from one thread), so a day replays deterministically.
 */
final class VirtualTime implements InstantSource, Timers {
    private record Task(Instant at, long seq, Runnable action) {
    }

    private final PriorityQueue<Task> tasks = new PriorityQueue<>(
            Comparator.comparing(Task::at).thenComparingLong(Task::seq));
    private Instant now;
    private long seq;

    VirtualTime(Instant start) {
        this.now = start;
    }

    @Override
    public Instant instant() {
        return now;
    }

    @Override
    public Cancellable schedule(Instant at, Runnable action) {
        Task t = new Task(at, seq++, action);
        tasks.add(t);
        return () -> tasks.remove(t);
    }

    void after(Duration delay, Runnable action) {
        schedule(now.plus(delay), action);
    }

    /** Runs every timer due up to {@code end} (those its actions schedule too), then stops there. */
    void runUntil(Instant end) {
        while (!tasks.isEmpty() && !tasks.peek().at().isAfter(end)) {
            Task t = tasks.poll();
            if (t.at().isAfter(now)) {
                now = t.at();
            }
            t.action().run();
        }
        if (end.isAfter(now)) {
            now = end;
        }
    }
}
