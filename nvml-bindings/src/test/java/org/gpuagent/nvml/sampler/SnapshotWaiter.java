package org.gpuagent.nvml.sampler;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Predicate;

/** A listener that records every published snapshot and lets a test wait for one that matches. */
final class SnapshotWaiter implements Consumer<GpuSnapshot> {
    private final List<GpuSnapshot> seen = new ArrayList<>();

    @Override
    public synchronized void accept(GpuSnapshot s) {
        seen.add(s);
        notifyAll();
    }

    /** The first snapshot published after {@code afterSequence} that matches, or an AssertionError after {@code timeout}. */
    synchronized GpuSnapshot await(long afterSequence, Predicate<GpuSnapshot> match, Duration timeout)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            for (GpuSnapshot s : seen) {
                if (s.sequence() > afterSequence && match.test(s)) {
                    return s;
                }
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new AssertionError("no matching snapshot within " + timeout + "; seen: " + summary());
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
    }

    synchronized List<GpuSnapshot> seen() {
        return List.copyOf(seen);
    }

    private String summary() {
        StringBuilder b = new StringBuilder();
        for (GpuSnapshot s : seen) {
            b.append(s.sequence()).append(':').append(s.status()).append(' ');
        }
        return b.toString();
    }
}
