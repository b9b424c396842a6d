package org.gpuagent.scheduler;

import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * One request, from arrival until its final decision. Its fields are touched only by the writer;
 * its futures are completed through {@link Completions}, never by the ledger directly.
 */
final class Pending {
    final long requestId;
    /** For a resize, replaced on arrival by one naming the lease's service and holder. */
    AdmissionRequest request;
    /**
     * For a resize: the lease it changes and the size asked for; {@code bytes} is then the growth
     * still needed, recomputed before every fit check. Null for a new lease.
     */
    LeaseId resizing;
    long resizeTo;
    final CompletableFuture<Decision> first;
    final CompletableFuture<Decision.Final> outcome;
    Accounts.ServiceState service;
    long bytes;
    Instant submittedAt;
    Instant deadline;
    /** The leases it preempted, as they were when chosen. */
    List<Lease> victims = List.of();
    Timers.Cancellable timer;
    boolean queued;
    boolean done;

    Pending(long requestId, AdmissionRequest request, CompletableFuture<Decision> first,
            CompletableFuture<Decision.Final> outcome) {
        this.requestId = requestId;
        this.request = request;
        this.first = first;
        this.outcome = outcome;
    }

    PriorityClass priority() {
        return service.service.priority();
    }

    boolean resizes() {
        return resizing != null;
    }

    String name() {
        return service.service.name();
    }

    boolean heldBy(String holder) {
        return request.holder().isPresent() && request.holder().get().equals(holder);
    }
}
