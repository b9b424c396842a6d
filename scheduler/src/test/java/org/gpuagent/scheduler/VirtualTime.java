package org.gpuagent.scheduler;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.PriorityQueue;

/**
 * A clock and timer in virtual time: time moves only in {@link #advance}, which runs the timers
 * that fall due, in order, on the calling thread. Thread-safe.
 */
public final class VirtualTime implements InstantSource, Timers {
    private static final class Task {
        final Instant at;
        final long seq;
        final Runnable action;
        volatile boolean cancelled;

        Task(Instant at, long seq, Runnable action) {
            this.at = at;
            this.seq = seq;
            this.action = action;
        }
    }

    private final PriorityQueue<Task> tasks = new PriorityQueue<>((a, b) -> {
        int c = a.at.compareTo(b.at);
        return c != 0 ? c : Long.compare(a.seq, b.seq);
    });
    private Instant now;
    private long seq;

    public VirtualTime(Instant start) {
        this.now = start;
    }

    @Override
    public synchronized Instant instant() {
        return now;
    }

    @Override
    public synchronized Cancellable schedule(Instant at, Runnable action) {
        Task t = new Task(at, seq++, action);
        tasks.add(t);
        return () -> t.cancelled = true;
    }

    public synchronized int pendingTimers() {
        return (int) tasks.stream().filter(t -> !t.cancelled).count();
    }

    public void advance(Duration d) {
        Instant target;
        synchronized (this) {
            target = now.plus(d);
        }
        while (true) {
            Task t;
            synchronized (this) {
                t = tasks.peek();
                if (t == null || t.at.isAfter(target)) {
                    now = target;
                    return;
                }
                tasks.poll();
                if (t.at.isAfter(now)) {
                    now = t.at;
                }
            }
            if (!t.cancelled) {
                t.action.run();
            }
        }
    }
}
