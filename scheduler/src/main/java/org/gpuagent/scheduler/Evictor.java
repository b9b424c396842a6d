package org.gpuagent.scheduler;

import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Makes a preempted lease give its memory back: the agent implements it with real actuators
 * (unload Ollama's models, restart Immich's ML worker, stop a unit or container).
 *
 * <p>Contract: {@link #evict} is called on the ledger's writer and must not block; start the work
 * elsewhere and return a stage that completes when the actuator is done (or failed). The ledger
 * does not trust the stage for accounting: the victim stays EVICTING, and counted, until an
 * observation shows its memory back or it is released. A failed stage or a thrown exception is
 * logged and changes nothing else.
 */
@FunctionalInterface
public interface Evictor {

    CompletionStage<Void> evict(Order order);

    /**
     * One victim to evict.
     *
     * @param victim      the lease, now EVICTING
     * @param service     the victim's service
     * @param forService  the service whose request preempted it
     * @param requestId   that request
     * @param deadline    when the preempting request gives up if the memory is not back
     * @param reason      a sentence for logs and notifications
     */
    record Order(Lease victim, Service service, String forService, long requestId, Instant deadline, String reason) {
        public Order {
            Objects.requireNonNull(victim, "victim");
            Objects.requireNonNull(service, "service");
            Objects.requireNonNull(forService, "forService");
            Objects.requireNonNull(deadline, "deadline");
            Objects.requireNonNull(reason, "reason");
        }
    }

    /** Does nothing: for a ledger without actuators, where victims only leave by release. */
    static Evictor none() {
        return order -> CompletableFuture.completedFuture(null);
    }
}
