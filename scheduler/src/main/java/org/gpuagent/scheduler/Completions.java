package org.gpuagent.scheduler;

/**
 * How the ledger hands work back to its controller, one method per moment it may run. The ledger
 * never completes a future or wakes a caller itself: a caller woken on the writer would run inside
 * it, holding every other request up.
 */
interface Completions {

    /** Completes a decision made on the writer, once the batch's view is published. */
    void afterBatch(Runnable completion);

    /**
     * Completes what waited for the journal: called on the journal's sync thread, or on the writer
     * by a journal that keeps nothing (then it waits for the end of the batch).
     */
    void afterStore(Runnable completion);

    /** Queues work for the writer that arose elsewhere: a deadline timer fired, a store failed. */
    void onWriter(Runnable command);
}
