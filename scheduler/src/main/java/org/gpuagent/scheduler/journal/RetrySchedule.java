package org.gpuagent.scheduler.journal;

import java.time.Duration;
import java.time.InstantSource;
import java.util.Optional;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import org.gpuagent.scheduler.ScheduledExecutorTimers;
import org.gpuagent.scheduler.Timers;

/**
 * When a journal that cannot write tries again: after {@code first}, then twice as long each time,
 * up to {@code longest}; on the timers it was given, or on a timer thread of its own started when
 * first needed. Called on the sync thread, except {@link #cancel()} and {@link #shutdown()}.
 */
final class RetrySchedule {
    private final Optional<Timers> timers;
    private final Duration first;
    private final Duration longest;
    private final InstantSource clock;
    private final ThreadFactory ownThreadFactory;
    private Duration delay;
    private volatile Timers.Cancellable pending;
    private ScheduledThreadPoolExecutor ownThread;

    /** @param ownThreadFactory makes the timer thread of its own, when {@code timers} is empty */
    RetrySchedule(Optional<Timers> timers, Duration first, Duration longest, InstantSource clock,
            ThreadFactory ownThreadFactory) {
        this.timers = timers;
        this.first = first;
        this.longest = longest;
        this.clock = clock;
        this.ownThreadFactory = ownThreadFactory;
    }

    /** A run of failures begins: the next retry comes after the first delay. */
    void restart() {
        delay = first;
    }

    /** Another failure in the run: the next retry waits twice as long, at most the longest delay. */
    void backOff() {
        delay = delay.multipliedBy(2);
        if (delay.compareTo(longest) > 0) {
            delay = longest;
        }
    }

    /** Runs {@code retry} once the current delay has passed. */
    void schedule(Runnable retry) {
        Timers t = timers.orElseGet(this::ownTimers);
        pending = t.schedule(clock.instant().plus(delay), retry);
    }

    /** Cancels the retry pending, if any (best-effort, as {@link Timers} are). */
    void cancel() {
        Timers.Cancellable p = pending;
        if (p != null) {
            p.cancel();
        }
    }

    /** Stops the timer thread of its own, if it started one. */
    synchronized void shutdown() {
        if (ownThread != null) {
            ownThread.shutdownNow();
        }
    }

    private synchronized Timers ownTimers() {
        if (ownThread == null) {
            ownThread = new ScheduledThreadPoolExecutor(1, ownThreadFactory);
        }
        return new ScheduledExecutorTimers(ownThread, clock);
    }
}
