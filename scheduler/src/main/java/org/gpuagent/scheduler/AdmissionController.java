package org.gpuagent.scheduler;

import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.gpuagent.scheduler.journal.Journal;

/**
 * The VRAM ledger's front door: admits, queues, denies or preempts requests, takes releases and
 * observations, and publishes immutable {@link LedgerView}s. Thread-safe and asynchronous: every
 * method returns at once; the ledger is changed by one writer at a time (see
 * {@link SingleWriter}: a lock-free command queue drained by whichever caller finds it idle), so
 * concurrent requests are serialised and Σ leases never exceeds the budget under any interleaving.
 *
 * <p>The rules are those of the architecture's "Scheduling policy"; {@link VramLedger} says how the
 * ledger is built from its parts ({@link Accounts}, {@link WaitQueue}, ...), {@link PreemptionPlanner}
 * how victims are chosen.
 *
 * <p>Durability: an admission's futures complete only after the journal has synced the lease
 * (group commit); a release's future after its record is synced. Denials and queue positions are
 * not journaled (a waiting request does not survive a restart; its caller sees the connection
 * drop and asks again). While the journal cannot be written, new requests are denied
 * ({@link Decision.Reason#JOURNAL_UNAVAILABLE}), waiting ones keep waiting, and admissions and
 * releases in flight fail with {@link JournalUnavailableException}; when it recovers, waiting
 * requests are admitted again.
 */
public final class AdmissionController implements AutoCloseable {
    private static final Logger LOG = System.getLogger(AdmissionController.class.getName());

    private final SchedulerConfig config;
    private final Journal journal;
    private final SingleWriter writer;
    private final VramLedger ledger;
    private final List<LedgerListener> listeners = new CopyOnWriteArrayList<>();
    private final AtomicReference<LedgerView> view = new AtomicReference<>();
    private final AtomicLong requestIds = new AtomicLong();
    private final Executor completionExecutor;
    /** Completions decided in the current batch, run once its view is published. Writer-owned. */
    private final List<Runnable> settled = new ArrayList<>();
    private long publishedVersion = -1;
    private volatile boolean closed;

    private AdmissionController(Builder b) {
        this.config = b.config;
        this.journal = b.journal;
        this.listeners.addAll(b.listeners);
        this.completionExecutor = b.completionExecutor;
        this.writer = new SingleWriter(b.overflowExecutor, b.batchLimit, this::afterBatch);
        this.ledger = new VramLedger(b.config, b.clock, b.timers, b.journal, b.evictor, this::dispatch,
                new Completions() {
                    @Override
                    public void afterBatch(Runnable completion) {
                        settled.add(completion);
                    }

                    @Override
                    public void afterStore(Runnable completion) {
                        if (writer.onWriter()) {
                            settled.add(completion);
                        } else {
                            completionExecutor.execute(completion);
                        }
                    }

                    @Override
                    public void onWriter(Runnable command) {
                        writer.submit(command);
                    }
                }, new Sentences(b.zone));
        publish();
        journal.onHealthChange(() -> writer.submit(ledger::journalHealthChanged));
    }

    /**
     * @param clock  wall time for grant times, deadlines and sentences
     * @param timers fires queue deadlines; in tests a virtual clock
     */
    public static Builder builder(SchedulerConfig config, InstantSource clock, Timers timers) {
        return new Builder(config, clock, timers);
    }

    public SchedulerConfig config() {
        return config;
    }

    /**
     * Asks for VRAM. Never blocks. An unknown service is {@link Decision.Reason#UNKNOWN_SERVICE},
     * not an exception.
     */
    public Admission request(AdmissionRequest request) {
        Objects.requireNonNull(request, "request");
        long id = requestIds.incrementAndGet();
        CompletableFuture<Decision> first = new CompletableFuture<>();
        CompletableFuture<Decision.Final> outcome = new CompletableFuture<>();
        Pending pending = new Pending(id, request, first, outcome);
        writer.submit(() -> ledger.request(pending));
        return new Admission(id, first, outcome, () -> writer.submit(() -> ledger.cancel(pending)));
    }

    /**
     * What {@link #request} would decide for {@code request} now, without deciding it: no lease, no
     * queue entry, no eviction, no journal record, no event, no request id. See {@link Forecast}.
     */
    public CompletableFuture<Forecast> dryRun(AdmissionRequest request) {
        Objects.requireNonNull(request, "request");
        CompletableFuture<Forecast> f = new CompletableFuture<>();
        writer.submit(() -> {
            try {
                Forecast forecast = ledger.forecast(request);
                settled.add(() -> f.complete(forecast));
            } catch (RuntimeException e) {
                settled.add(() -> f.completeExceptionally(e));
            }
        });
        return f;
    }

    /**
     * Changes a counted lease's size to {@code bytes}; it keeps its id, holder, grant time and
     * state. Never blocks.
     * <ul>
     * <li>Shrinking (or the same size) always succeeds, also for an EVICTING lease, and may admit
     *     requests waiting; the decision is {@link Decision.Admitted} with the lease as it is now,
     *     acknowledged once durable (when it cannot be stored, the lease stays smaller and the
     *     future fails with {@link JournalUnavailableException}, as a release does).</li>
     * <li>Growing is an admission of the difference for the lease's service and holder: it may be
     *     admitted at once, wait up to {@code wait} (queued as any request), preempt lower-priority
     *     leases ({@link Decision.AdmittedAfterPreemption}), or be {@link Decision.Denied} with its
     *     sentence (prefixed "growing S lease N to SIZE: "). A growth the journal cannot store is
     *     rolled back. A lease that is EVICTING may not grow ({@link Decision.Reason#LEASE_EVICTING});
     *     one released while its growth waits ends it with {@link Decision.Reason#LEASE_NOT_FOUND}.</li>
     * <li>An unknown or released lease: {@link Decision.Reason#LEASE_NOT_FOUND} (service empty).</li>
     * </ul>
     *
     * @throws IllegalArgumentException when {@code bytes} is not positive or {@code wait} negative
     */
    public Admission resize(LeaseId id, long bytes, Duration wait) {
        Objects.requireNonNull(id, "id");
        if (bytes <= 0) {
            throw new IllegalArgumentException("a lease's size must be positive, got " + bytes + " bytes");
        }
        long requestId = requestIds.incrementAndGet();
        CompletableFuture<Decision> first = new CompletableFuture<>();
        CompletableFuture<Decision.Final> outcome = new CompletableFuture<>();
        // The service and holder are the lease's, filled in on the writer.
        Pending pending = new Pending(requestId, AdmissionRequest.of("").withWait(wait), first, outcome);
        pending.resizing = id;
        pending.resizeTo = bytes;
        writer.submit(() -> ledger.request(pending));
        return new Admission(requestId, first, outcome, () -> writer.submit(() -> ledger.cancel(pending)));
    }

    /**
     * Releases one lease. Idempotent: completes with {@code true} if the lease was counted,
     * {@code false} if it was unknown or already released; either only once the ledger's state
     * without the lease is durable (a lease released a moment ago by someone else may not be).
     * Completes exceptionally with {@link JournalUnavailableException} when the journal cannot
     * store that: the lease is no longer counted, but the release is not acknowledged; asking again
     * once the journal is writable returns {@code false}.
     */
    public CompletableFuture<Boolean> release(LeaseId id) {
        Objects.requireNonNull(id, "id");
        CompletableFuture<Boolean> f = new CompletableFuture<>();
        writer.submit(() -> {
            boolean counted = ledger.release(id);
            ledger.afterDurable(() -> f.complete(counted), f::completeExceptionally);
        });
        return f;
    }

    /**
     * Releases every lease of {@code holder} (e.g. an OCI {@code poststop}) and withdraws its
     * waiting requests ({@link Decision.Reason#CANCELLED}). Idempotent: completes with how many
     * leases were released, 0 when none, once that is durable; exceptionally with
     * {@link JournalUnavailableException} as {@link #release} does.
     */
    public CompletableFuture<Integer> releaseHolder(String holder) {
        Objects.requireNonNull(holder, "holder");
        CompletableFuture<Integer> f = new CompletableFuture<>();
        writer.submit(() -> {
            int n = ledger.releaseHolder(holder);
            ledger.afterDurable(() -> f.complete(n), f::completeExceptionally);
        });
        return f;
    }

    /**
     * Records that {@code id} was used at {@code lastUsed}: within a priority class, preemption
     * evicts the least recently used first (see {@link PreemptionPlanner}). Cheap, for every
     * request a holder serves (the Ollama proxy calls it per request). Only moves forward; not
     * journaled (after a restart leases count as never used until touched again). Completes with
     * {@code false} when the lease is not counted.
     */
    public CompletableFuture<Boolean> touch(LeaseId id, Instant lastUsed) {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(lastUsed, "lastUsed");
        CompletableFuture<Boolean> f = new CompletableFuture<>();
        writer.submit(() -> {
            boolean counted = ledger.touch(id, lastUsed);
            settled.add(() -> f.complete(counted));
        });
        return f;
    }

    /**
     * Feeds a sample: updates the budget and committed use, completes evictions whose memory is
     * back, reclaims leases whose holders are gone, raises over-use and unattributed-use events,
     * and admits waiting requests that now fit. Completes when applied.
     */
    public CompletableFuture<Void> observe(Observation observation) {
        Objects.requireNonNull(observation, "observation");
        CompletableFuture<Void> f = new CompletableFuture<>();
        writer.submit(() -> {
            try {
                ledger.observe(observation);
            } finally {
                settled.add(() -> f.complete(null));
            }
        });
        return f;
    }

    /** The latest published snapshot; never blocks. */
    public LedgerView view() {
        return view.get();
    }

    public void addListener(LedgerListener listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
    }

    public void removeListener(LedgerListener listener) {
        listeners.remove(listener);
    }

    /**
     * Refuses everything still waiting ({@link Decision.Reason#SHUTDOWN}) and later requests, then
     * syncs and closes the journal. Blocks until done; idempotent.
     *
     * @throws IOException the journal could not store everything (see {@link Journal#close()})
     */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        CompletableFuture<Void> done = new CompletableFuture<>();
        writer.submit(() -> {
            try {
                ledger.close();
            } finally {
                done.complete(null);
            }
        });
        done.join();
        journal.close();
    }

    private void dispatch(LedgerEvent event) {
        for (LedgerListener l : listeners) {
            try {
                l.onEvent(event);
            } catch (RuntimeException | AssertionError e) {
                LOG.log(Level.ERROR, "a ledger listener failed on " + event.getClass().getSimpleName()
                        + "; the ledger carries on", e);
            }
        }
    }

    /**
     * Publishes the view first, so that whoever is told of a change can already see it; then
     * hands the batch to the journal (whose acknowledgements follow the fsync). The completions
     * the batch decided run after the writer is released.
     */
    private Runnable afterBatch() {
        publish();
        ledger.afterBatch();
        if (settled.isEmpty()) {
            return null;
        }
        Runnable[] done = settled.toArray(new Runnable[0]);
        settled.clear();
        return () -> {
            for (Runnable r : done) {
                try {
                    completionExecutor.execute(r);
                } catch (RuntimeException e) {
                    LOG.log(Level.ERROR, "completing a request failed", e);
                }
            }
        };
    }

    /** Called by the writer (or the constructor, before any writer runs). */
    private void publish() {
        long v = ledger.version();
        if (v != publishedVersion) {
            view.set(ledger.view());
            publishedVersion = v;
        }
    }

    /** For tests in this package: C kept incrementally versus recomputed, read by the writer. */
    CompletableFuture<long[]> committedCheck() {
        CompletableFuture<long[]> f = new CompletableFuture<>();
        writer.submit(() -> {
            long[] both = {ledger.committed(), ledger.recomputeCommitted()};
            settled.add(() -> f.complete(both));
        });
        return f;
    }

    /** Configures and builds an {@link AdmissionController}. */
    public static final class Builder {
        private final SchedulerConfig config;
        private final InstantSource clock;
        private final Timers timers;
        private Journal journal = Journal.none();
        private Evictor evictor = Evictor.none();
        private ZoneId zone = ZoneId.systemDefault();
        private Executor completionExecutor = Runnable::run;
        private Executor overflowExecutor = ForkJoinPool.commonPool();
        private int batchLimit = 256;
        private final List<LedgerListener> listeners = new CopyOnWriteArrayList<>();

        private Builder(SchedulerConfig config, InstantSource clock, Timers timers) {
            this.config = Objects.requireNonNull(config, "config");
            this.clock = Objects.requireNonNull(clock, "clock");
            this.timers = Objects.requireNonNull(timers, "timers");
        }

        /** Where leases are made durable; default {@link Journal#none()} (nothing survives). */
        public Builder journal(Journal j) {
            this.journal = Objects.requireNonNull(j, "journal");
            return this;
        }

        /** Starts actuators for preemption victims; default does nothing. */
        public Builder evictor(Evictor e) {
            this.evictor = Objects.requireNonNull(e, "evictor");
            return this;
        }

        /** The zone times in sentences are shown in; default the system zone. */
        public Builder zone(ZoneId z) {
            this.zone = Objects.requireNonNull(z, "zone");
            return this;
        }

        /**
         * Where request futures are completed; default directly: on the thread that drained the
         * command queue, once it has left the writer, or on the journal's sync thread once a lease
         * is durable. The agent should pass an executor when dependants may block.
         */
        public Builder completionExecutor(Executor e) {
            this.completionExecutor = Objects.requireNonNull(e, "completionExecutor");
            return this;
        }

        /**
         * Continues draining the command queue when a caller has run {@code batchLimit} commands;
         * default the common fork-join pool.
         */
        public Builder overflowExecutor(Executor e, int batchLimit) {
            if (batchLimit < 1) {
                throw new IllegalArgumentException("batch limit must be positive");
            }
            this.overflowExecutor = Objects.requireNonNull(e, "overflowExecutor");
            this.batchLimit = batchLimit;
            return this;
        }

        /** A listener registered before anything happens (so it also sees the first events). */
        public Builder listener(LedgerListener l) {
            listeners.add(Objects.requireNonNull(l, "listener"));
            return this;
        }

        public AdmissionController build() {
            return new AdmissionController(this);
        }
    }
}
