package org.gpuagent.agent.notify;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import org.gpuagent.scheduler.Timers;

/** Timers that fire when the test says, on a clock the test moves: retries without sleeping. */
final class ManualTimers implements Timers, InstantSource {
    record Scheduled(Instant at, Runnable action) {
    }

    private Instant now = Instant.parse("2026-01-15T12:00:00Z");
    private final List<Scheduled> pending = new ArrayList<>();

    @Override
    public synchronized Instant instant() {
        return now;
    }

    @Override
    public synchronized Cancellable schedule(Instant at, Runnable action) {
        Scheduled s = new Scheduled(at, action);
        pending.add(s);
        return () -> {
            synchronized (this) {
                pending.remove(s);
            }
        };
    }

    synchronized List<Scheduled> pending() {
        return List.copyOf(pending);
    }

    /** Waits (bounded) until an action is scheduled: the failure that schedules it is asynchronous I/O. */
    Scheduled awaitScheduled() throws InterruptedException {
        long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < end) {
            List<Scheduled> p = pending();
            if (!p.isEmpty()) {
                return p.get(0);
            }
            Thread.sleep(10);
        }
        throw new AssertionError("nothing was scheduled within 30 s");
    }

    /** Moves the clock to the first pending action's time and runs it. */
    void fireNext() {
        Scheduled s;
        synchronized (this) {
            s = pending.remove(0);
            if (s.at().isAfter(now)) {
                now = s.at();
            }
        }
        s.action().run();
    }
}
