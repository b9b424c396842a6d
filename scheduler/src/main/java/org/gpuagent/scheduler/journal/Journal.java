package org.gpuagent.scheduler.journal;

import java.io.IOException;

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

    /** Writes and syncs what is pending, then releases the file. Idempotent. */
    @Override
    void close() throws IOException;

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
