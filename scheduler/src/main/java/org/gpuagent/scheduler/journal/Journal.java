package org.gpuagent.scheduler.journal;

import java.io.IOException;
import java.util.Objects;
import java.util.Optional;

/**
 * The ledger's durable record. The ledger appends a record for every change, asks to be told when
 * everything appended so far is on disk, and acknowledges a lease only then.
 *
 * <p>Threading contract: every method except {@link #close()} is called by the ledger's single
 * writer only, and none blocks on the disk: writing and syncing happen elsewhere, and
 * {@link #commit()} hands over everything appended since the last commit as one group (one write,
 * one fsync for any number of requests).
 */
public interface Journal extends AutoCloseable {

    /** What the journal held when it was opened. */
    RecoveredLedger recovered();

    /** Buffers a record; it reaches the disk at the next {@link #commit()}. */
    void append(JournalRecord record);

    /**
     * Calls back once everything appended before this call is durable, or failed to become so.
     * Callbacks run in registration order, on the journal's sync thread (or inline for a journal
     * that keeps nothing).
     */
    void afterDurable(Durability callback);

    /** Starts writing what was appended since the last commit. */
    void commit();

    /** True when enough has been appended since the last snapshot that one is worth writing. */
    boolean wantsCompaction();

    /**
     * Replaces the journal by a snapshot of the current state (written to a new file, synced, and
     * renamed over the old one atomically). Ordered with appends: records appended after it follow
     * the snapshot.
     */
    void compact(JournalRecord.Snapshot snapshot);

    /**
     * Whether records can be stored now. A journal whose write failed is not writable until a
     * retry succeeds; meanwhile every {@link Durability} fails at once and the ledger admits
     * nothing. Cheap (a volatile read); callable from any thread.
     */
    default Health health() {
        return Health.WRITABLE;
    }

    /**
     * Registers {@code listener}, run (on the journal's own thread, so it must not block) after
     * every change of {@link #health()}: when writing fails, at each failed retry, and when it
     * succeeds again.
     */
    default void onHealthChange(Runnable listener) {
        Objects.requireNonNull(listener, "listener");
    }

    /**
     * Writes and syncs what is pending, then releases the file. Idempotent.
     *
     * @throws IOException the journal could not store everything it was handed (it failed and its
     *                     last retry failed too): the next start replays it as it was then
     */
    @Override
    void close() throws IOException;

    /**
     * Whether the journal can store records.
     *
     * @param writable     false from a failed write until a retry succeeds
     * @param failedWrites failed writes and failed retries since it was opened
     * @param problem      why it is not writable (the file system's words, e.g. "No space left
     *                     on device"); present exactly when not writable
     */
    record Health(boolean writable, long failedWrites, Optional<String> problem) {
        public static final Health WRITABLE = new Health(true, 0, Optional.empty());

        public Health {
            Objects.requireNonNull(problem, "problem");
            if (writable == problem.isPresent()) {
                throw new IllegalArgumentException("a problem is given exactly when the journal is not writable");
            }
            if (failedWrites < 0) {
                throw new IllegalArgumentException("failed writes must not be negative, got " + failedWrites);
            }
        }
    }

    /** Told whether a group of records reached the disk. */
    interface Durability {
        void durable();

        void failed(IOException cause);
    }

    /**
     * A journal that keeps nothing: for tests and benchmarks of the in-memory ledger, and for a
     * deliberately stateless agent. Durability callbacks run at the next {@link #commit()}, on the
     * writer.
     */
    static Journal none() {
        return new Journal() {
            private final java.util.List<Durability> waiting = new java.util.ArrayList<>();

            @Override
            public RecoveredLedger recovered() {
                return RecoveredLedger.empty();
            }

            @Override
            public void append(JournalRecord record) {
            }

            @Override
            public void afterDurable(Durability callback) {
                waiting.add(callback);
            }

            @Override
            public void commit() {
                if (!waiting.isEmpty()) {
                    Durability[] now = waiting.toArray(new Durability[0]);
                    waiting.clear();
                    for (Durability d : now) {
                        d.durable();
                    }
                }
            }

            @Override
            public boolean wantsCompaction() {
                return false;
            }

            @Override
            public void compact(JournalRecord.Snapshot snapshot) {
            }

            @Override
            public void close() {
            }
        };
    }
}
