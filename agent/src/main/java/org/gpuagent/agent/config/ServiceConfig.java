package org.gpuagent.agent.config;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.gpuagent.scheduler.PriorityClass;
import org.gpuagent.scheduler.Service;

/**
 * One GPU service as configured: the scheduler's {@link Service} (what the ledger arbitrates) and
 * what only the agent needs (the hook's fail mode, attribution rules, the preemption actuator).
 *
 * @param service    name, priority class, default request, preemptibility, eviction deadline, and
 *                   the {@code reconcile} settings, as the ledger uses them
 * @param failMode   what the admission hook does when the agent cannot be reached
 * @param preemption what the agent does to a victim; preemptible exactly when {@code service} is
 */
public record ServiceConfig(Service service, FailMode failMode, Match match, Preemption preemption) {

    public ServiceConfig {
        Objects.requireNonNull(service, "service");
        Objects.requireNonNull(failMode, "failMode");
        Objects.requireNonNull(match, "match");
        Objects.requireNonNull(preemption, "preemption");
        if (service.preemptible() != preemption.preemptible()) {
            throw new IllegalArgumentException("service " + service.name() + ": preemption " + preemption.action().label()
                    + " does not match preemptible=" + service.preemptible());
        }
    }

    public String name() {
        return service.name();
    }

    public PriorityClass priority() {
        return service.priority();
    }

    /** The default request, including the CUDA context the service's processes cost. */
    public long requestBytes() {
        return service.defaultRequestBytes();
    }

    /** How long a victim's memory may take to come back before the waiting request is denied. */
    public Duration evictionDeadline() {
        return service.evictionDeadline();
    }

    public enum FailMode {
        OPEN, CLOSED;

        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** How a GPU process is attributed to this service (via /proc/PID/cgroup) besides a lease's holder. */
    public record Match(List<String> units, List<String> containers) {
        public Match {
            units = List.copyOf(units);
            containers = List.copyOf(containers);
        }

        public static Match none() {
            return new Match(List.of(), List.of());
        }
    }

    /**
     * What the agent does to a victim of preemption.
     *
     * @param then the escalation: actions tried in order, each when the victim's memory has still
     *             not come back after the one before (e.g. unload, then stop the unit); empty for
     *             the single-action form
     */
    public record Preemption(Action action, Optional<String> target, List<Preemption> then) {
        public Preemption {
            Objects.requireNonNull(action, "action");
            Objects.requireNonNull(target, "target");
            then = List.copyOf(then);
        }

        public Preemption(Action action, Optional<String> target) {
            this(action, target, List.of());
        }

        /** This action, then each escalation step, in order (each without its own {@code then}). */
        public List<Preemption> steps() {
            List<Preemption> all = new java.util.ArrayList<>();
            all.add(new Preemption(action, target));
            all.addAll(then);
            return List.copyOf(all);
        }

        public enum Action {
            /** Not preemptible. */
            NONE("none"),
            /** Ask Ollama ({@code target} = its base URL) to unload every loaded model. */
            OLLAMA_UNLOAD("ollama-unload"),
            /** {@code systemctl restart target}: frees memory a worker holds until it exits (Immich ML). */
            RESTART_UNIT("restart-unit"),
            /** {@code systemctl stop target}. */
            STOP_UNIT("stop-unit"),
            /** {@code podman stop target}. */
            STOP_CONTAINER("stop-container");

            private final String label;

            Action(String label) {
                this.label = label;
            }

            public String label() {
                return label;
            }

            public static Optional<Action> fromLabel(String label) {
                for (Action a : values()) {
                    if (a.label.equals(label)) {
                        return Optional.of(a);
                    }
                }
                return Optional.empty();
            }
        }

        public static Preemption none() {
            return new Preemption(Action.NONE, Optional.empty());
        }

        public boolean preemptible() {
            return action != Action.NONE;
        }
    }
}
