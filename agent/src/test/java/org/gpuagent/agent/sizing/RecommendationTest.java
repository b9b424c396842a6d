package org.gpuagent.agent.sizing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The sentence `recommend` prints reads as English whatever the count. */
class RecommendationTest {
    static final long MIB = 1024L * 1024;

    @Test
    void oneLeaseIsSingular() {
        Recommendation r = Recommendation.of("jellyfin", 768 * MIB,
                Map.of("", List.of(new LearnedSizes.Peak(Instant.EPOCH, 700 * MIB))));
        assertEquals("jellyfin: request 768 MiB; 1 lease: p50 700 MiB, p99 700 MiB, max 700 MiB; keep it: "
                + "it fits: 0 of 1 lease peaked above it", r.sentence());
    }

    @Test
    void twoLeasesArePlural() {
        Recommendation r = Recommendation.of("jellyfin", 768 * MIB, Map.of("", List.of(
                new LearnedSizes.Peak(Instant.EPOCH, 700 * MIB), new LearnedSizes.Peak(Instant.EPOCH, 710 * MIB))));
        assertEquals("jellyfin: request 768 MiB; 2 leases: p50 700 MiB, p99 710 MiB, max 710 MiB; keep it: "
                + "it fits: 0 of 2 leases peaked above it", r.sentence());
    }
}
