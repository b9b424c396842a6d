package org.gpuagent.scheduler.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.gpuagent.scheduler.Timers;
import org.junit.jupiter.api.Test;

/** The one test clock: its clock, ticker and timers move together, and only when told. */
class ManualTimeTest {
    private final ManualTime time = new ManualTime();
    private final List<String> ran = new ArrayList<>();

    private Runnable note(String name) {
        return () -> ran.add(name + "@" + time.instant());
    }

    @Test
    void clockAndTickerMoveTogetherOnlyForward() {
        assertEquals(ManualTime.DEFAULT_START, time.instant());
        time.advance(Duration.ofMillis(1500));
        time.advanceSeconds(0.5);
        assertEquals(ManualTime.DEFAULT_START.plusSeconds(2), time.instant());
        assertEquals(2_000_000_000L, time.nanoTime());
        assertEquals(2_000_000_000L, time.ticker().getAsLong());
        assertThrows(IllegalArgumentException.class, () -> time.advance(Duration.ofNanos(-1)));
    }

    @Test
    void advanceRunsWhatFallsDueInOrderEachAtItsTime() {
        Instant t0 = time.instant();
        time.schedule(t0.plusSeconds(3), note("c"));
        time.schedule(t0.plusSeconds(1), note("a"));
        time.schedule(t0.plusSeconds(1), note("b"));
        Timers.Cancellable d = time.schedule(t0.plusSeconds(2), note("cancelled"));
        time.schedule(t0.plusSeconds(9), note("later"));
        d.cancel();
        assertEquals(4, time.pendingTimers());
        time.advance(Duration.ofSeconds(5));
        assertEquals(List.of("a@" + t0.plusSeconds(1), "b@" + t0.plusSeconds(1), "c@" + t0.plusSeconds(3)), ran);
        assertEquals(t0.plusSeconds(5), time.instant());
        assertEquals(List.of(t0.plusSeconds(9)), time.pending().stream().map(ManualTime.Scheduled::at).toList());
    }

    @Test
    void aTimerMayScheduleAnotherThatTheSameAdvanceRuns() {
        Instant t0 = time.instant();
        time.schedule(t0.plusSeconds(1), () -> time.schedule(time.instant().plusSeconds(1), note("again")));
        time.advance(Duration.ofSeconds(3));
        assertEquals(List.of("again@" + t0.plusSeconds(2)), ran);
    }

    @Test
    void fireNextRunsTheFirstDueNowAndNeverMovesTimeBack() {
        Instant t0 = time.instant();
        time.schedule(t0.plusSeconds(4), note("b"));
        time.schedule(t0.minusSeconds(1), note("past"));
        time.fireNext();
        time.fireNext();
        assertEquals(List.of("past@" + t0, "b@" + t0.plusSeconds(4)), ran);
        assertThrows(IllegalStateException.class, time::fireNext);
    }

    /** Another thread schedules; the test blocks on the clock's monitor, not on a sleep. */
    @Test
    void awaitScheduledWaitsForAnotherThread() throws Exception {
        CountDownLatch waiting = new CountDownLatch(1);
        Thread other = new Thread(() -> {
            try {
                waiting.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            time.schedule(time.instant().plusSeconds(7), note("retry"));
        });
        other.start();
        waiting.countDown();
        ManualTime.Scheduled s = time.awaitScheduled();
        assertEquals(ManualTime.DEFAULT_START.plusSeconds(7), s.at());
        other.join();
    }
}
