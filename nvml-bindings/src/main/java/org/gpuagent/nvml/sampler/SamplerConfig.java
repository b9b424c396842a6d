package org.gpuagent.nvml.sampler;

import java.time.Duration;
import java.util.Objects;

/**
 * How the {@link Sampler} polls.
 *
 * @param interval         time between collects
 * @param slowEveryTicks   process lists, per-process utilization, PCIe, thresholds and maximum
 *                         clocks are read on every Nth collect (1: every collect) and carried
 *                         forward in between
 * @param watchdogTimeout  a collect running longer than this is a call blocked in the driver: the
 *                         last snapshot is republished as STALE
 * @param backoffMin       first wait before re-opening NVML after a loss or a failed open; doubles
 *                         with each failed attempt
 * @param backoffMax       the longest wait between attempts
 * @param recentXidLimit   how many recent Xid events a snapshot keeps
 */
public record SamplerConfig(Duration interval, int slowEveryTicks, Duration watchdogTimeout, Duration backoffMin,
                            Duration backoffMax, int recentXidLimit) {

    public static final SamplerConfig DEFAULTS = new SamplerConfig(Duration.ofSeconds(1), 5, Duration.ofSeconds(5),
            Duration.ofSeconds(1), Duration.ofSeconds(60), 16);

    public SamplerConfig {
        positive(interval, "interval");
        positive(watchdogTimeout, "watchdogTimeout");
        positive(backoffMin, "backoffMin");
        positive(backoffMax, "backoffMax");
        if (backoffMax.compareTo(backoffMin) < 0) {
            throw new IllegalArgumentException("sampler backoffMax (" + backoffMax + ") is shorter than backoffMin ("
                    + backoffMin + ")");
        }
        if (slowEveryTicks < 1) {
            throw new IllegalArgumentException("sampler slowEveryTicks must be at least 1, got " + slowEveryTicks);
        }
        if (recentXidLimit < 0) {
            throw new IllegalArgumentException("sampler recentXidLimit must not be negative, got " + recentXidLimit);
        }
    }

    private static void positive(Duration d, String what) {
        Objects.requireNonNull(d, () -> "sampler " + what + " is missing");
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException("sampler " + what + " must be positive, got " + d);
        }
    }

    public SamplerConfig withInterval(Duration d) {
        return new SamplerConfig(d, slowEveryTicks, watchdogTimeout, backoffMin, backoffMax, recentXidLimit);
    }

    public SamplerConfig withSlowEveryTicks(int n) {
        return new SamplerConfig(interval, n, watchdogTimeout, backoffMin, backoffMax, recentXidLimit);
    }

    public SamplerConfig withWatchdogTimeout(Duration d) {
        return new SamplerConfig(interval, slowEveryTicks, d, backoffMin, backoffMax, recentXidLimit);
    }

    public SamplerConfig withBackoff(Duration min, Duration max) {
        return new SamplerConfig(interval, slowEveryTicks, watchdogTimeout, min, max, recentXidLimit);
    }

    public SamplerConfig withRecentXidLimit(int n) {
        return new SamplerConfig(interval, slowEveryTicks, watchdogTimeout, backoffMin, backoffMax, n);
    }
}
