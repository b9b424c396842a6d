package org.gpuagent.agent.ollama;

import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.function.UnaryOperator;
import org.gpuagent.agent.actuate.Actuator;
import org.gpuagent.agent.actuate.LeaseActions;
import org.gpuagent.scheduler.AdmissionController;
import org.gpuagent.scheduler.AdmissionRequest;
import org.gpuagent.scheduler.Decision;
import org.gpuagent.scheduler.Evictor;
import org.gpuagent.scheduler.Lease;
import org.gpuagent.scheduler.LeaseId;

/**
 * {@link ModelLedger} on the agent's {@link AdmissionController}: model leases are requests of the
 * configured Ollama service with the model's holder.
 */
public final class LedgerModels implements ModelLedger {
    private final AdmissionController ledger;
    private final String service;
    private final LeaseActions actions;
    private final UnaryOperator<Actuator> wrap;
    private final InstantSource clock;

    /**
     * @param actions where the per-lease unload actions go, for the agent's evictor
     * @param wrap    applied to each unload action (on the simulator: act on the simulator instead)
     */
    public LedgerModels(AdmissionController ledger, String service, LeaseActions actions,
            UnaryOperator<Actuator> wrap, InstantSource clock) {
        this.ledger = ledger;
        this.service = service;
        this.actions = actions;
        this.wrap = wrap;
        this.clock = clock;
    }

    @Override
    public CompletableFuture<Grant> acquire(String holder, long bytes, Duration wait) {
        AdmissionRequest r = new AdmissionRequest(service, OptionalLong.of(bytes), Optional.of(holder), List.of(),
                wait);
        return ledger.request(r).outcome().handle((d, failure) -> {
            if (failure != null) {
                return new Refused("the ledger journal could not store the lease, so nothing can be admitted "
                        + "until it is writable again", Duration.ofSeconds(5));
            }
            if (d instanceof Decision.Admitted a) {
                return new Granted(a.lease());
            }
            if (d instanceof Decision.AdmittedAfterPreemption a) {
                return new Granted(a.lease());
            }
            Decision.Denied denied = (Decision.Denied) d;
            return new Refused(denied.sentence(), retryAfter(denied.reason(), wait));
        });
    }

    /**
     * When asking again may help: soon for a journal that recovers by itself, after the
     * configured wait otherwise (between 5 s and 5 min), an hour for what can never fit.
     */
    static Duration retryAfter(Decision.Reason reason, Duration wait) {
        return switch (reason) {
            case EXCEEDS_BUDGET, UNKNOWN_SERVICE -> Duration.ofHours(1);
            case JOURNAL_UNAVAILABLE, SHUTDOWN, CANCELLED -> Duration.ofSeconds(5);
            default -> wait.compareTo(Duration.ofSeconds(5)) < 0 ? Duration.ofSeconds(5)
                    : wait.compareTo(Duration.ofMinutes(5)) > 0 ? Duration.ofMinutes(5) : wait;
        };
    }

    @Override
    public CompletableFuture<Boolean> release(LeaseId lease) {
        actions.unregister(lease);
        return ledger.release(lease);
    }

    /**
     * Without waiting: the model already holds the memory, so a growth the ledger refuses leaves
     * the lease as it was (and the observation still counts what the model uses).
     */
    @Override
    public CompletableFuture<Long> resize(LeaseId lease, long bytes) {
        return ledger.resize(lease, bytes, Duration.ZERO).outcome().thenApply(d -> {
            if (d instanceof Decision.Admitted a) {
                return a.lease().bytes();
            }
            if (d instanceof Decision.AdmittedAfterPreemption a) {
                return a.lease().bytes();
            }
            return lease(lease).map(Lease::bytes).orElse(0L);
        });
    }

    @Override
    public void touch(LeaseId lease) {
        ledger.touch(lease, clock.instant());
    }

    @Override
    public void onPreempt(LeaseId lease, String what, PreemptAction action) {
        actions.register(lease, wrap.apply(new Actuator() {
            @Override
            public String describe() {
                return what;
            }

            @Override
            public String act(Evictor.Order order, Duration timeout) throws Exception {
                return action.run(timeout);
            }
        }));
    }

    @Override
    public List<Lease> leasesHeldBy(String holderPrefix) {
        return ledger.view().leases().stream()
                .filter(l -> l.holder().isPresent() && l.holder().get().startsWith(holderPrefix)).toList();
    }

    @Override
    public List<Lease> serviceLeases() {
        return ledger.view().leases().stream().filter(l -> l.service().equals(service)).toList();
    }

    @Override
    public Optional<Lease> lease(LeaseId lease) {
        return ledger.view().lease(lease);
    }
}
