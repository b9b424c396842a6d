package org.gpuagent.scheduler.testing;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import org.gpuagent.scheduler.Timers;

/**
 * Test time for every module: a wall clock ({@link InstantSource}), a nano ticker and
 * {@link Timers}, which move only when the test says. Shared through the scheduler's test jar.
 *
 * <p>{@link #advance} moves the clock and runs the timers that fall due, in order of their time
 * (then of scheduling), on the calling thread, each at its own time. {@link #fireNext} runs the
 * first pending timer at once, moving the clock to it; {@link #awaitScheduled} blocks until some
 * other thread has scheduled one (a failure that schedules a retry may be asynchronous I/O).
 *
 * <p>Thread-safe. The clock and the ticker are read without locking (a sampler thread reads them
 * while the test advances); timer actions run outside the lock, so they may schedule again.
 */
public final class ManualTime implements InstantSource, Timers {
    public static final Instant DEFAULT_START = Instant.parse("2026-01-15T12:00:00Z");
    /** How long {@link #awaitScheduled} waits in real time before it fails the test. */
    public static final Duration AWAIT_LIMIT = Duration.ofSeconds(30);

    /** A timer: when it is due, and what it runs. */
    public record Scheduled(Instant at, Runnable action) {
    }

    private record Task(Scheduled scheduled, long seq) {
    }

    private final Instant start;
    /** Nanoseconds since {@link #start}; written under the lock. */
    private final AtomicLong nanos = new AtomicLong();
    private final PriorityQueue<Task> tasks = new PriorityQueue<>(
            Comparator.comparing((Task t) -> t.scheduled().at()).thenComparingLong(Task::seq));
    private long seq;

    public ManualTime() {
        this(DEFAULT_START);
    }

    public ManualTime(Instant start) {
        this.start = start;
    }

    @Override
    public Instant instant() {
        return start.plusNanos(nanos.get());
    }

    /** Monotonic nanoseconds since this time was made. */
    public long nanoTime() {
        return nanos.get();
    }

    /** {@link #nanoTime()} as a ticker, for code that takes a {@code LongSupplier}. */
    public LongSupplier ticker() {
        return nanos::get;
    }

    @Override
    public synchronized Cancellable schedule(Instant at, Runnable action) {
        Task t = new Task(new Scheduled(at, action), seq++);
        tasks.add(t);
        notifyAll();
        return () -> {
            synchronized (this) {
                tasks.remove(t);
            }
        };
    }

    /** Moves the clock forward by {@code d}, running the timers that fall due on the way. */
    public void advance(Duration d) {
        if (d.isNegative()) {
            throw new IllegalArgumentException("time does not go backwards: " + d);
        }
        Instant target;
        synchronized (this) {
            target = instant().plus(d);
        }
        while (true) {
            Task due;
            synchronized (this) {
                due = tasks.peek();
                if (due == null || due.scheduled().at().isAfter(target)) {
                    moveTo(target);
                    return;
                }
                tasks.poll();
                moveTo(due.scheduled().at());
            }
            due.scheduled().action().run();
        }
    }

    public void advanceSeconds(double seconds) {
        advance(Duration.ofNanos(Math.round(seconds * 1e9)));
    }

    /** The timers not yet run or cancelled, first due first. */
    public synchronized List<Scheduled> pending() {
        List<Task> sorted = new ArrayList<>(tasks);
        sorted.sort(tasks.comparator());
        return sorted.stream().map(Task::scheduled).toList();
    }

    public synchronized int pendingTimers() {
        return tasks.size();
    }

    /**
     * The first pending timer; waits (at most {@link #AWAIT_LIMIT} of real time, on this object's
     * monitor, which {@link #schedule} notifies) until there is one.
     */
    public synchronized Scheduled awaitScheduled() throws InterruptedException {
        long end = System.nanoTime() + AWAIT_LIMIT.toNanos();
        while (tasks.isEmpty()) {
            long left = end - System.nanoTime();
            if (left <= 0) {
                throw new AssertionError("nothing was scheduled within " + AWAIT_LIMIT.toSeconds() + " s");
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
        return tasks.peek().scheduled();
    }

    /** Runs the first pending timer now, moving the clock to its time if that is later. */
    public void fireNext() {
        Task next;
        synchronized (this) {
            next = tasks.poll();
            if (next == null) {
                throw new IllegalStateException("no timer is pending");
            }
            moveTo(next.scheduled().at());
        }
        next.scheduled().action().run();
    }

    /** Never backwards: a timer due in the past runs at the current time. */
    private void moveTo(Instant at) {
        if (at.isAfter(instant())) {
            nanos.set(Duration.between(start, at).toNanos());
        }
    }
}
