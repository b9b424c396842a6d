package org.gpuagent.agent.sizing;

import java.util.Arrays;
import java.util.Collection;

/**
 * The p50, p99 and largest of a set of lease peaks, by the nearest-rank method (the value at rank
 * ceil(p * n) of the sorted peaks: always one of the observed peaks, never an interpolation), so
 * that {@code gpu-agent recommend}'s sentence and the {@code nvgpu_learned_*} metrics, both made
 * from this, agree to the byte.
 *
 * @param count how many peaks it summarises (at least one)
 */
public record PeakSummary(int count, long p50, long p99, long max) {

    /** @throws IllegalArgumentException when {@code peaks} is empty */
    public static PeakSummary of(Collection<LearnedSizes.Peak> peaks) {
        if (peaks.isEmpty()) {
            throw new IllegalArgumentException("no peaks to summarise");
        }
        long[] sorted = peaks.stream().mapToLong(LearnedSizes.Peak::bytes).toArray();
        Arrays.sort(sorted);
        return new PeakSummary(sorted.length, rank(sorted, 0.50), rank(sorted, 0.99), sorted[sorted.length - 1]);
    }

    private static long rank(long[] sorted, double p) {
        int r = (int) Math.ceil(p * sorted.length);
        return sorted[Math.max(0, r - 1)];
    }

    /** How many of the peaks exceed {@code bytes}. */
    public static int above(Collection<LearnedSizes.Peak> peaks, long bytes) {
        return (int) peaks.stream().filter(p -> p.bytes() > bytes).count();
    }
}
