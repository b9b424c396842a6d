package org.gpuagent.agent.config;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * One GPU service as configured.
 *
 * @param requestBytes  the default request, including the CUDA context the service's processes cost
 * @param failMode      what the admission hook does when the agent cannot be reached
 * @param evictionDeadline how long a victim's memory may take to come back before the waiting
 *                      request is denied
 */
public record ServiceConfig(
        String name,
        Priority priority,
        long requestBytes,
        FailMode failMode,
        Match match,
        Preemption preemption,
        Duration evictionDeadline) {

    public enum Priority {
        CRITICAL, INTERACTIVE, BATCH, OPPORTUNISTIC;

        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
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

    /** What the agent does to a victim of preemption. */
    public record Preemption(Action action, Optional<String> target) {
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
