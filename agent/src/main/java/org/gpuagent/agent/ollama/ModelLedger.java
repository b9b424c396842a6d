package org.gpuagent.agent.ollama;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.gpuagent.scheduler.Lease;
import org.gpuagent.scheduler.LeaseId;

/**
 * What the Ollama proxy needs from the VRAM ledger, and no more: model leases are ordinary leases
 * of the configured Ollama service with holder {@code ollama-model:<name>}, journaled like every
 * lease.
 *
 * <p>Contract: every method returns at once; futures complete when the ledger has decided (and,
 * for grants and releases, when that is durable).
 */
public interface ModelLedger {

    /** The answer to {@link #acquire}. */
    sealed interface Grant {
    }

    /** The lease is held. */
    record Granted(Lease lease) implements Grant {
        public Granted {
            Objects.requireNonNull(lease, "lease");
        }
    }

    /**
     * Refused: {@code sentence} is the ledger's own (what is in the way and until when it waited),
     * {@code retryAfter} when asking again may make sense.
     */
    record Refused(String sentence, Duration retryAfter) implements Grant {
        public Refused {
            Objects.requireNonNull(sentence, "sentence");
            Objects.requireNonNull(retryAfter, "retryAfter");
        }
    }

    /** Asks for {@code bytes} for {@code holder}, waiting up to {@code wait} (and for preemption). */
    CompletableFuture<Grant> acquire(String holder, long bytes, Duration wait);

    /** Idempotent: true if the lease was counted. */
    CompletableFuture<Boolean> release(LeaseId lease);

    /**
     * Changes a lease's size: shrinking always works, growing is an admission for the difference
     * (it may be refused; the lease then keeps its size). Completes with the lease's size after.
     */
    CompletableFuture<Long> resize(LeaseId lease, long bytes);

    /** The lease was just used: it is the last to be preempted among its peers. */
    void touch(LeaseId lease);

    /**
     * Registers what to do when the ledger preempts {@code lease}: the action replaces the
     * service's own actuator for that lease alone (for a model: unload that model).
     *
     * @param what for log lines, e.g. {@code unload llama3.2:3b via http://127.0.0.1:11434/}
     */
    void onPreempt(LeaseId lease, String what, PreemptAction action);

    /** The counted leases whose holder starts with {@code holderPrefix}, in grant order. */
    List<Lease> leasesHeldBy(String holderPrefix);

    /** The counted leases of the Ollama service itself, model leases included, in grant order. */
    List<Lease> serviceLeases();

    /** {@code lease} as the ledger counts it now (ACTIVE or EVICTING); empty once released. */
    Optional<Lease> lease(LeaseId lease);

    /** Unloads one model; returns a line saying what happened, throws when it failed. */
    @FunctionalInterface
    interface PreemptAction {
        String run(Duration timeout) throws Exception;
    }
}
