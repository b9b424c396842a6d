package org.gpuagent.nvml.sampler;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.gpuagent.scheduler.testing.ManualTime;

/**
 * A {@link Sleeper} on a test's {@link ManualTime}: the sampler's threads sleep in virtual time and
 * wake only when the test {@link #advance advances} the clock past their deadline, or lets every
 * sleeper go at once ({@link #wakeAll()}, a round with no time passing). So a test decides each
 * round of the sampler's threads; nothing waits on the wall clock but the bounded waits for a
 * thread to arrive. Advance the clock through this object while threads sleep on it (advancing the
 * {@link ManualTime} directly wakes no one).
 */
final class ManualSleeper implements Sleeper {
    private final ManualTime time;
    /** The sleeps not yet released, oldest first. Guarded by this. */
    private final List<Sleep> sleeping = new ArrayList<>();
    /** Every duration asked for, in order. Guarded by this. */
    private final List<Duration> asked = new ArrayList<>();

    ManualSleeper(ManualTime time) {
        this.time = time;
    }

    @Override
    public synchronized void sleep(long nanos) throws InterruptedException {
        Sleep s = new Sleep(time.nanoTime() + nanos);
        asked.add(Duration.ofNanos(nanos));
        sleeping.add(s);
        notifyAll();
        try {
            while (!s.released) {
                wait();
            }
        } finally {
            sleeping.remove(s);
            notifyAll();
        }
    }

    /** Advances the clock and releases the sleeps whose deadline it passed. */
    synchronized void advance(Duration d) {
        time.advance(d);
        long now = time.nanoTime();
        for (Sleep s : List.copyOf(sleeping)) {
            if (now - s.deadlineNanos >= 0) {
                release(s);
            }
        }
        notifyAll();
    }

    /** Releases every sleep now, the clock unmoved (a timer that fires early: the sampler must not mind). */
    synchronized void wakeAll() {
        for (Sleep s : List.copyOf(sleeping)) {
            release(s);
        }
        notifyAll();
    }

    /** Waits until {@code count} threads sleep here, or fails after {@code timeout}. */
    synchronized void awaitSleepers(int count, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (sleeping.size() < count) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new AssertionError(sleeping.size() + " thread(s) asleep after " + timeout + ", expected "
                        + count);
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
    }

    /** Every duration a thread asked to sleep, in order. */
    synchronized List<Duration> asked() {
        return List.copyOf(asked);
    }

    private void release(Sleep s) {
        s.released = true;
        sleeping.remove(s);
    }

    private static final class Sleep {
        final long deadlineNanos;
        boolean released;

        Sleep(long deadlineNanos) {
            this.deadlineNanos = deadlineNanos;
        }
    }
}
