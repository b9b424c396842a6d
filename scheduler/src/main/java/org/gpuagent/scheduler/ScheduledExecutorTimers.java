package org.gpuagent.scheduler;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Objects;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * {@link Timers} on a {@link ScheduledExecutorService} owned by the caller. The delay is computed
 * from the injected clock when the action is scheduled.
 */
public final class ScheduledExecutorTimers implements Timers {
    private final ScheduledExecutorService executor;
    private final InstantSource clock;

    public ScheduledExecutorTimers(ScheduledExecutorService executor, InstantSource clock) {
        this.executor = Objects.requireNonNull(executor, "executor");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    @Override
    public Cancellable schedule(Instant at, Runnable action) {
        Duration delay = Duration.between(clock.instant(), at);
        long nanos = delay.isNegative() ? 0 : saturatedNanos(delay);
        ScheduledFuture<?> f = executor.schedule(action, nanos, TimeUnit.NANOSECONDS);
        return () -> f.cancel(false);
    }

    private static long saturatedNanos(Duration d) {
        try {
            return d.toNanos();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }
}
