package org.gpuagent.nvml.sampler;

import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * Notices a collect blocked in the driver: once the collect in flight has run past the timeout
 * (nano ticker), the latest snapshot is republished as STALE, once per collect, with the call it
 * is blocked in; when the collect returns, its publish is OK again. Runs on its own thread so that
 * a call that never returns cannot silence it; takes only the publisher's lock.
 */
final class Watchdog {

    private final SnapshotPublisher publisher;
    private final CallInProgress where;
    private final LongSupplier ticker;
    private final long timeoutNanos;

    Watchdog(SnapshotPublisher publisher, CallInProgress where, LongSupplier ticker, long timeoutNanos) {
        this.publisher = publisher;
        this.where = where;
        this.ticker = ticker;
        this.timeoutNanos = timeoutNanos;
    }

    /** One check; true when it published STALE. */
    boolean check() {
        SnapshotPublisher.InFlightCollect collect = publisher.unreportedCollect();
        if (collect == null) {
            return false;
        }
        long blockedNanos = ticker.getAsLong() - collect.startNanos();
        if (blockedNanos <= timeoutNanos) {
            return false;
        }
        String detail = String.format(Locale.ROOT, "a collect has been blocked for %.1f s in %s", blockedNanos / 1e9,
                where.describe());
        GpuSnapshot stale = publisher.publishStale(collect.number(), detail);
        if (stale == null) {
            return false; // the collect returned in the meantime
        }
        SamplerLog.LOG.log(System.Logger.Level.WARNING, detail);
        return true;
    }

    /** Checks a few times per timeout (between 1 ms and 1 s apart) until {@code stopped}. */
    void run(Sleeper sleeper, BooleanSupplier stopped) {
        long period = Math.max(TimeUnit.MILLISECONDS.toNanos(1), Math.min(TimeUnit.SECONDS.toNanos(1), timeoutNanos / 4));
        while (!stopped.getAsBoolean()) {
            try {
                check();
            } catch (RuntimeException e) {
                SamplerLog.LOG.log(System.Logger.Level.ERROR, "the sampler watchdog failed", e);
            }
            Sleeper.sleepUnlessStopped(sleeper, period, stopped);
        }
    }
}
