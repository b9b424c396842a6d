package org.gpuagent.agent.actuate;

import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.gpuagent.scheduler.LedgerEvent;
import org.gpuagent.scheduler.LedgerListener;
import org.gpuagent.scheduler.LeaseId;

/**
 * Preemption actions registered for single leases, consulted by {@link ActuatorEvictor} before the
 * victim service's own actuators. The Ollama proxy registers "unload model M" for the lease of
 * holder {@code ollama-model:M}, so that preempting that lease unloads only that model instead of
 * every model Ollama has loaded.
 *
 * <p>Contract: thread-safe; a registration replaces an earlier one for the same lease. When a
 * registered lease is preempted, its action runs first; if the lease's memory is not back when
 * that action is done, the service's actuators follow in their configured order (escalation).
 * A registration is forgotten on its own once the ledger stops counting the lease (released,
 * evicted, reclaimed or rolled back), which this class learns as a {@link LedgerListener}: the
 * daemon registers it with the ledger.
 */
public final class LeaseActions implements LedgerListener {
    private final Map<LeaseId, Actuator> byLease = new ConcurrentHashMap<>();

    public void register(LeaseId lease, Actuator action) {
        byLease.put(Objects.requireNonNull(lease, "lease"), Objects.requireNonNull(action, "action"));
    }

    /** Idempotent. */
    public void unregister(LeaseId lease) {
        byLease.remove(lease);
    }

    public Optional<Actuator> forLease(LeaseId lease) {
        return Optional.ofNullable(byLease.get(lease));
    }

    /** How many are registered (for tests and the status page). */
    public int size() {
        return byLease.size();
    }

    @Override
    public void onEvent(LedgerEvent event) {
        if (event instanceof LedgerEvent.Released r) {
            unregister(r.lease().id());
        } else if (event instanceof LedgerEvent.Evicted e) {
            unregister(e.lease().id());
        } else if (event instanceof LedgerEvent.Reclaimed r) {
            unregister(r.lease().id());
        } else if (event instanceof LedgerEvent.RolledBack r) {
            unregister(r.lease().id());
        }
    }
}
