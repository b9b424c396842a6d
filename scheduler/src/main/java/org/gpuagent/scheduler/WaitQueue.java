package org.gpuagent.scheduler;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Requests waiting for VRAM, ordered by priority, then arrival. Writer-only.
 *
 * <p>Only the head is ever admitted or allowed to preempt: a request never overtakes an earlier
 * one of equal or higher priority, even when it would fit (head-of-line blocking, so the head
 * cannot starve; deadlines bound every wait). A new request of higher priority than everything
 * waiting becomes the head.
 *
 * <p>Each waiting request has a timer for its deadline that hands it back to the writer
 * ({@code onDeadline}). A timer may fire early ({@link Timers}): whoever it calls re-checks the
 * deadline and {@linkplain #schedule schedules} again.
 */
final class WaitQueue {
    /** One set per priority class, most important first; each in arrival order. */
    private final List<LinkedHashSet<Pending>> byClass = new ArrayList<>();
    private final Timers timers;
    private final Completions completions;
    private final Consumer<Pending> onDeadline;
    private long version;

    WaitQueue(Timers timers, Completions completions, Consumer<Pending> onDeadline) {
        this.timers = timers;
        this.completions = completions;
        this.onDeadline = onDeadline;
        for (PriorityClass ignored : PriorityClass.values()) {
            byClass.add(new LinkedHashSet<>());
        }
    }

    /** How many requests of {@code priority} or higher are waiting. */
    int ahead(PriorityClass priority) {
        int n = 0;
        for (int c = 0; c <= priority.ordinal(); c++) {
            n += byClass.get(c).size();
        }
        return n;
    }

    boolean isEmpty() {
        return ahead(PriorityClass.OPPORTUNISTIC) == 0;
    }

    /** The request first in line; null when none waits. */
    Pending head() {
        for (LinkedHashSet<Pending> cls : byClass) {
            if (!cls.isEmpty()) {
                return cls.iterator().next();
            }
        }
        return null;
    }

    /** Every waiting request, in queue order. */
    List<Pending> all() {
        List<Pending> all = new ArrayList<>();
        byClass.forEach(all::addAll);
        return all;
    }

    /** The waiting requests of {@code holder}, in queue order. */
    List<Pending> heldBy(String holder) {
        List<Pending> held = new ArrayList<>();
        for (LinkedHashSet<Pending> cls : byClass) {
            for (Pending p : cls) {
                if (p.heldBy(holder)) {
                    held.add(p);
                }
            }
        }
        return held;
    }

    /** Adds {@code p} until {@code deadline} and starts its timer; returns its 1-based position. */
    int add(Pending p, Instant deadline) {
        p.deadline = deadline;
        p.queued = true;
        byClass.get(p.priority().ordinal()).add(p);
        version++;
        schedule(p);
        return position(p);
    }

    /** Takes {@code p} out, if it waits, and cancels its timer. */
    void remove(Pending p) {
        if (p.queued) {
            byClass.get(p.priority().ordinal()).remove(p);
            p.queued = false;
            version++;
        }
        if (p.timer != null) {
            p.timer.cancel();
            p.timer = null;
        }
    }

    /** (Re)starts {@code p}'s timer for its deadline. */
    void schedule(Pending p) {
        if (p.timer != null) {
            p.timer.cancel();
        }
        p.timer = timers.schedule(p.deadline, () -> completions.onWriter(() -> onDeadline.accept(p)));
    }

    /** The waiting requests as the view shows them, each with the victims it still waits for. */
    List<LedgerView.QueuedRequest> view(Function<Pending, List<Lease>> awaitedVictims) {
        if (isEmpty()) {
            return List.of();
        }
        List<LedgerView.QueuedRequest> waiting = new ArrayList<>();
        int position = 0;
        for (LinkedHashSet<Pending> cls : byClass) {
            for (Pending p : cls) {
                List<LeaseId> awaited = new ArrayList<>();
                for (Lease v : awaitedVictims.apply(p)) {
                    awaited.add(v.id());
                }
                waiting.add(new LedgerView.QueuedRequest(p.requestId, p.name(), p.priority(), p.bytes,
                        p.request.holder(), ++position, p.submittedAt, p.deadline, awaited));
            }
        }
        return waiting;
    }

    /** Changes with every request added or removed. */
    long version() {
        return version;
    }

    private int position(Pending p) {
        int n = 0;
        for (int c = 0; c < p.priority().ordinal(); c++) {
            n += byClass.get(c).size();
        }
        for (Pending q : byClass.get(p.priority().ordinal())) {
            n++;
            if (q == p) {
                return n;
            }
        }
        throw new IllegalStateException("request " + p.requestId + " is not queued");
    }
}
