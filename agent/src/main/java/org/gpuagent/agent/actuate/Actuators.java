package org.gpuagent.agent.actuate;

import java.net.URI;
import java.net.http.HttpClient;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.gpuagent.agent.config.ServiceConfig;

/** The actuator each preemptible service's configuration names ({@code preemption.action} and its target). */
public final class Actuators {
    private Actuators() {
    }

    /**
     * By service name, in configuration order; a service whose action is {@code none} has none.
     *
     * @param http the client the Ollama unloader uses, made on first use
     */
    public static Map<String, Actuator> forServices(List<ServiceConfig> services, Supplier<HttpClient> http) {
        Map<String, Actuator> m = new LinkedHashMap<>();
        for (ServiceConfig sc : services) {
            of(sc.preemption(), http).ifPresent(a -> m.put(sc.name(), a));
        }
        return m;
    }

    /**
     * By service name, each service's actions in escalation order ({@code preemption} as a list, or
     * with {@code then}); a service whose action is {@code none} has none.
     */
    public static Map<String, List<Actuator>> chainsForServices(List<ServiceConfig> services,
            Supplier<HttpClient> http) {
        Map<String, List<Actuator>> m = new LinkedHashMap<>();
        for (ServiceConfig sc : services) {
            List<Actuator> chain = new java.util.ArrayList<>();
            for (ServiceConfig.Preemption step : sc.preemption().steps()) {
                of(step, http).ifPresent(chain::add);
            }
            if (!chain.isEmpty()) {
                m.put(sc.name(), List.copyOf(chain));
            }
        }
        return m;
    }

    /** The actuator of one preemption setting; empty for {@code none}. */
    static Optional<Actuator> of(ServiceConfig.Preemption p, Supplier<HttpClient> http) {
        return Optional.ofNullable(switch (p.action()) {
            case NONE -> null;
            case OLLAMA_UNLOAD -> new OllamaUnloader(URI.create(p.target().orElseThrow()), http);
            case RESTART_UNIT -> CommandActuator.restartUnit(p.target().orElseThrow());
            case STOP_UNIT -> CommandActuator.stopUnit(p.target().orElseThrow());
            case STOP_CONTAINER -> CommandActuator.stopContainer(p.target().orElseThrow());
        });
    }
}
