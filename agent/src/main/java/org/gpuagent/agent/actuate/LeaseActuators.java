package org.gpuagent.agent.actuate;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.UnaryOperator;
import org.gpuagent.scheduler.LeaseId;

/**
 * Actuators for single leases, which take the place of their service's actuator when that lease
 * is preempted: the Ollama proxy registers "unload model M" for the lease of model M, so that
 * preempting one model lease unloads that model alone. Thread-safe.
 */
public final class LeaseActuators {
    private final Map<LeaseId, Actuator> byLease = new ConcurrentHashMap<>();
    private final UnaryOperator<Actuator> wrap;

    /** Registered actuators are used as they are. */
    public LeaseActuators() {
        this(UnaryOperator.identity());
    }

    /** @param wrap applied to each registered actuator (on the simulator: act on the simulator instead) */
    public LeaseActuators(UnaryOperator<Actuator> wrap) {
        this.wrap = wrap;
    }

    public void register(LeaseId lease, Actuator actuator) {
        byLease.put(lease, wrap.apply(actuator));
    }

    /** Idempotent. */
    public void forget(LeaseId lease) {
        byLease.remove(lease);
    }

    public Optional<Actuator> of(LeaseId lease) {
        return Optional.ofNullable(byLease.get(lease));
    }
}
