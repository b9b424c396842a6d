package org.gpuagent.scheduler;

import java.util.concurrent.CompletableFuture;

/**
 * The caller's handle on one request. Both futures are completed by the controller, never by
 * the caller (they are returned as copies, so completing them has no effect on the ledger).
 *
 * <p>Dependent actions attached with non-async methods run on the thread that completes the
 * future: a caller thread that has just drained the ledger's command queue (after it left the
 * writer) or the journal's sync thread, unless the controller was built with a completion
 * executor. Keep them short, or attach them with the {@code ...Async} variants.
 */
public final class Admission {
    private final long requestId;
    private final CompletableFuture<Decision> firstDecision;
    private final CompletableFuture<Decision.Final> outcome;
    private final Runnable canceller;

    Admission(long requestId, CompletableFuture<Decision> firstDecision, CompletableFuture<Decision.Final> outcome,
            Runnable canceller) {
        this.requestId = requestId;
        this.firstDecision = firstDecision;
        this.outcome = outcome;
        this.canceller = canceller;
    }

    public long requestId() {
        return requestId;
    }

    /**
     * The first answer: {@link Decision.Queued} when the request has to wait, otherwise the same
     * final decision as {@link #outcome()}. An admission completes only after the lease is durable.
     */
    public CompletableFuture<Decision> firstDecision() {
        return firstDecision.copy();
    }

    /**
     * The final answer. Completes exceptionally only when the journal could not make the lease
     * durable (a {@link java.io.UncheckedIOException}); the lease is then rolled back.
     */
    public CompletableFuture<Decision.Final> outcome() {
        return outcome.copy();
    }

    /**
     * Withdraws the request if it is still waiting; it then ends {@link Decision.Reason#CANCELLED}.
     * Evictions it already started are not undone. Does nothing once the request is decided.
     */
    public void cancel() {
        canceller.run();
    }
}
