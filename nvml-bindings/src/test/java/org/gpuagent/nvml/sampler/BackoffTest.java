package org.gpuagent.nvml.sampler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** When the sampler tries to open NVML again: the waits double from the minimum up to the maximum. */
class BackoffTest {
    private final Backoff backoff = new Backoff(100, 800);

    @Test
    void notBackingOffByDefault() {
        assertFalse(backoff.waiting(0));
        assertEquals(Long.MAX_VALUE, backoff.nanosUntilNextAttempt(0));
    }

    @Test
    void failedOpensDoubleTheWaitUpToTheMaximum() {
        List<Long> waits = new ArrayList<>();
        long now = 0;
        for (int i = 0; i < 6; i++) {
            backoff.openFailed(now);
            long wait = backoff.nanosUntilNextAttempt(now);
            waits.add(wait);
            assertTrue(backoff.waiting(now + wait - 1), "not due one nanosecond early");
            assertFalse(backoff.waiting(now + wait), "due on time");
            now += wait;
        }
        assertEquals(List.of(100L, 200L, 400L, 800L, 800L, 800L), waits);
    }

    @Test
    void aLostSessionWaitsTheMinimumAndTheDoublingStartsFromThere() {
        backoff.openFailed(0);
        backoff.openFailed(0);
        backoff.openFailed(0);
        backoff.sessionLost(1_000);
        assertEquals(100, backoff.nanosUntilNextAttempt(1_000));
        backoff.openFailed(1_100);
        assertEquals(200, backoff.nanosUntilNextAttempt(1_100));
    }

    @Test
    void anOpenEndsTheBackoffAndTheNextFailureStartsAtTheMinimum() {
        backoff.openFailed(0);
        backoff.openFailed(0);
        backoff.opened();
        assertFalse(backoff.waiting(0));
        assertEquals(Long.MAX_VALUE, backoff.nanosUntilNextAttempt(0));
        backoff.openFailed(5);
        assertEquals(100, backoff.nanosUntilNextAttempt(5));
    }

    @Test
    void theWaitSaturatesInsteadOfOverflowing() {
        Backoff wide = new Backoff(Long.MAX_VALUE / 2 + 1, Long.MAX_VALUE);
        wide.openFailed(0);
        wide.openFailed(0);
        assertEquals(Long.MAX_VALUE, wide.nanosUntilNextAttempt(0));
    }
}
