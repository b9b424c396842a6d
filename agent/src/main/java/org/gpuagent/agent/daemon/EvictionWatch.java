package org.gpuagent.agent.daemon;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;
import org.gpuagent.agent.logging.DaemonLog;
import org.gpuagent.scheduler.LeaseId;
import org.gpuagent.scheduler.LeaseState;
import org.gpuagent.scheduler.LedgerEvent;
import org.gpuagent.scheduler.LedgerListener;
import org.gpuagent.scheduler.LedgerView;
import org.gpuagent.scheduler.Timers;

/**
 * Preemption within a second: once an eviction starts, reads the GPU's process lists every
 * {@code interval} (default 150 ms) instead of on the sampler's slow ticks (every few seconds),
 * until every victim's memory is back (the ledger has released it) or its eviction deadline has
 * passed; then the sampler's normal cadence alone goes on. Each read is published like any
 * sample, so the ledger sees the memory back within about one interval of its being free, and
 * admits the waiting request in the same observation.
 *
 * <p>Contract: a {@link LedgerListener} (its {@code onEvent} runs on the ledger's writer and only
 * records the victim); the reads run on the {@link Timers} thread, one at a time. Thread-safe.
 */
final class EvictionWatch implements LedgerListener {
    private final Timers timers;
    private final InstantSource clock;
    private final Duration interval;
    private final Supplier<LedgerView> view;
    private final Function<String, Duration> evictionDeadline;
    private final Runnable readProcesses;
    /** Victims being watched, until when. Guarded by this. */
    private final Map<LeaseId, Instant> watched = new HashMap<>();
    /** Guarded by this. */
    private boolean scheduled;
    private long reads;

    /**
     * @param evictionDeadline a service's eviction deadline, by service name
     * @param readProcesses    collects with the process lists now and publishes (the sampler's
     *                         {@code collectWithProcesses})
     */
    EvictionWatch(Timers timers, InstantSource clock, Duration interval, Supplier<LedgerView> view,
            Function<String, Duration> evictionDeadline, Runnable readProcesses) {
        this.timers = Objects.requireNonNull(timers, "timers");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.interval = Objects.requireNonNull(interval, "interval");
        this.view = Objects.requireNonNull(view, "view");
        this.evictionDeadline = Objects.requireNonNull(evictionDeadline, "evictionDeadline");
        this.readProcesses = Objects.requireNonNull(readProcesses, "readProcesses");
    }

    @Override
    public void onEvent(LedgerEvent event) {
        if (!(event instanceof LedgerEvent.Preempted p)) {
            return;
        }
        Instant since = p.victim().evictingSince().orElse(p.at());
        synchronized (this) {
            watched.put(p.victim().id(), since.plus(evictionDeadline.apply(p.victim().service())));
            if (!scheduled) {
                scheduled = true;
                timers.schedule(clock.instant().plus(interval), this::tick);
            }
        }
    }

    /** How many fast reads were made (for tests and the log). */
    synchronized long reads() {
        return reads;
    }

    /** Whether a victim is being watched now. */
    synchronized boolean active() {
        return scheduled;
    }

    private void tick() {
        Instant now = clock.instant();
        LedgerView v = view.get();
        synchronized (this) {
            watched.entrySet().removeIf(e -> !now.isBefore(e.getValue()) || !evicting(v, e.getKey()));
            if (watched.isEmpty()) {
                scheduled = false;
                return;
            }
            reads++;
        }
        try {
            readProcesses.run();
        } catch (RuntimeException e) {
            DaemonLog.warn("reading the GPU's processes during an eviction failed; the sampler's own ticks go on", e);
        }
        synchronized (this) {
            timers.schedule(clock.instant().plus(interval), this::tick);
        }
    }

    private static boolean evicting(LedgerView v, LeaseId id) {
        Optional<org.gpuagent.scheduler.Lease> l = v.lease(id);
        return l.isPresent() && l.get().state() == LeaseState.EVICTING;
    }
}
