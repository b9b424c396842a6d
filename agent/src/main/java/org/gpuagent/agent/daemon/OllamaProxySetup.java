package org.gpuagent.agent.daemon;

import java.io.IOException;
import java.time.InstantSource;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;
import org.gpuagent.agent.actuate.Actuator;
import org.gpuagent.agent.actuate.LeaseActions;
import org.gpuagent.agent.config.AgentConfig;
import org.gpuagent.agent.ollama.LedgerModels;
import org.gpuagent.agent.ollama.ModelName;
import org.gpuagent.agent.ollama.ModelSizes;
import org.gpuagent.agent.ollama.ModelUse;
import org.gpuagent.agent.ollama.OllamaAdmission;
import org.gpuagent.scheduler.AdmissionController;

/**
 * How the Ollama admission proxy joins the daemon, when {@code ollama} is configured: started on
 * the ledger (adopting the model leases recovered), its "unload model M" registered per lease, its
 * model sizes learned in the agent's one store, and the observer's split of the Ollama service's
 * use among its model leases.
 */
final class OllamaProxySetup {
    private OllamaProxySetup() {
    }

    /**
     * Starts the proxy and registers it to stop when requests are refused; it republishes the
     * learned sizes' metrics after each record.
     *
     * @param onSimulator what becomes of a model's unload on the simulator (it acts on the simulator)
     * @return the proxy; empty when {@code ollama} is not configured
     */
    static Optional<OllamaAdmission> start(Optional<AgentConfig.OllamaProxy> configured, AdmissionController ledger,
            LeaseActions leaseActions, UnaryOperator<Actuator> onSimulator, LearnedSizesPublisher sizes,
            InstantSource clock, Shutdown shutdown) throws Daemon.StartupException {
        if (configured.isEmpty()) {
            return Optional.empty();
        }
        AgentConfig.OllamaProxy cfg = configured.get();
        OllamaAdmission ollama;
        try {
            ollama = OllamaAdmission.start(cfg, new LedgerModels(ledger, cfg.service(), leaseActions, onSimulator,
                    clock), ModelSizes.stored(sizes.store(), cfg.service(), clock, sizes), clock);
        } catch (IOException e) {
            throw new Daemon.StartupException(Daemon.oneLine(e), e);
        }
        shutdown.add(Shutdown.Stage.REFUSE_REQUESTS, "Ollama proxy", ollama);
        return Optional.of(ollama);
    }

    /**
     * The observer's split: {@code ollamaService}'s use divided among the proxy's model leases by
     * what Ollama shows loaded (and told to the proxy's leases); every other service's as attributed.
     */
    static LedgerObserver.UseSplit split(String ollamaService, OllamaAdmission ollama) {
        return (service, use) -> {
            if (!service.equals(ollamaService)) {
                return use;
            }
            Map<Optional<String>, Long> split = ModelUse.split(use, ollama.leases().observedByHolder());
            ollama.leases().observedUse(split);
            return split;
        };
    }

    /** A model lease: the proxy records its model's {@code size_vram} itself. */
    static boolean learnsItsOwnSize(org.gpuagent.scheduler.Lease lease) {
        return lease.holder().flatMap(ModelName::ofHolder).isPresent();
    }
}
