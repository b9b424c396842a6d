package org.gpuagent.nvml.sampler;

/**
 * When to try opening NVML again after a lost session or a failed open, on the nano ticker: the
 * first wait is the minimum, each failed attempt doubles it, up to the maximum; a successful open
 * resets it. Guarded by the sampler's collect lock.
 */
final class Backoff {
    private final long minNanos;
    private final long maxNanos;
    private long delayNanos;
    private long nextAttemptAtNanos;
    private boolean active;

    Backoff(long minNanos, long maxNanos) {
        this.minNanos = minNanos;
        this.maxNanos = maxNanos;
    }

    /** True while the next attempt is not yet due. */
    boolean waiting(long nowNanos) {
        return active && nowNanos - nextAttemptAtNanos < 0;
    }

    /** How long until the next attempt is due; {@link Long#MAX_VALUE} when not backing off. */
    long nanosUntilNextAttempt(long nowNanos) {
        return active ? nextAttemptAtNanos - nowNanos : Long.MAX_VALUE;
    }

    /** An open session broke: the next attempt after the shortest wait. */
    void sessionLost(long nowNanos) {
        delayNanos = minNanos;
        schedule(nowNanos);
    }

    /** An attempt to open failed: twice the previous wait (the minimum the first time), at most the maximum. */
    void openFailed(long nowNanos) {
        delayNanos = delayNanos == 0 ? minNanos : Math.min(maxNanos, saturatedDouble(delayNanos));
        schedule(nowNanos);
    }

    void opened() {
        active = false;
        delayNanos = 0;
    }

    private void schedule(long nowNanos) {
        nextAttemptAtNanos = nowNanos + delayNanos;
        active = true;
    }

    private static long saturatedDouble(long v) {
        return v > Long.MAX_VALUE / 2 ? Long.MAX_VALUE : v * 2;
    }
}
