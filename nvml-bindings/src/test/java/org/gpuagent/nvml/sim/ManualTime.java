package org.gpuagent.nvml.sim;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Test time: an {@link InstantSource} and a nano ticker that move only when told, together.
 * Thread-safe.
 */
public final class ManualTime implements InstantSource {
    public static final Instant DEFAULT_START = Instant.parse("2026-01-15T12:00:00Z");

    private final Instant start;
    private final AtomicLong nanos = new AtomicLong();

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

    public LongSupplier ticker() {
        return nanos::get;
    }

    public void advance(Duration d) {
        if (d.isNegative()) {
            throw new IllegalArgumentException("time does not go backwards: " + d);
        }
        nanos.addAndGet(d.toNanos());
    }

    public void advanceSeconds(double seconds) {
        advance(Duration.ofNanos(Math.round(seconds * 1e9)));
    }
}
