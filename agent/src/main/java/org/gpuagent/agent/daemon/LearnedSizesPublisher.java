package org.gpuagent.agent.daemon;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.gpuagent.agent.config.ServiceConfig;
import org.gpuagent.agent.logging.DaemonLog;
import org.gpuagent.agent.sizing.LearnedSizes;
import org.gpuagent.agent.sizing.Recommendation;
import org.gpuagent.exporter.GpuMetrics;

/**
 * The agent's one learned-size store (in the state directory; the lease sizing and the Ollama
 * proxy both record into it: two instances on one file would overwrite each other), and, when
 * run, the publication of its recommendations as metrics, the same ones {@code gpu-agent
 * recommend} prints. Run it after each record.
 */
final class LearnedSizesPublisher implements Runnable {
    private final LearnedSizes store;
    private final List<ServiceConfig> services;
    private final GpuMetrics metrics;

    private LearnedSizesPublisher(LearnedSizes store, List<ServiceConfig> services, GpuMetrics metrics) {
        this.store = store;
        this.services = services;
        this.metrics = metrics;
    }

    /**
     * Opens the learned sizes in {@code stateDir}; a damaged file is set aside (and said so) rather
     * than stopping the agent, and an unreadable one refuses the start, saying how to start afresh.
     */
    static LearnedSizesPublisher open(Path stateDir, List<ServiceConfig> services, GpuMetrics metrics)
            throws Daemon.StartupException {
        try {
            return new LearnedSizesPublisher(LearnedSizes.openSettingAside(stateDir, DaemonLog::warn), services,
                    metrics);
        } catch (IOException e) {
            throw new Daemon.StartupException("cannot read the learned sizes in " + LearnedSizes.file(stateDir) + ": "
                    + DaemonLog.describe(e) + " (move it away to start learning afresh)", e);
        }
    }

    LearnedSizes store() {
        return store;
    }

    /** Publishes each configured service's recommendation (and any other service the store names). */
    @Override
    public void run() {
        metrics.publishLearnedSizes(Recommendation.forServices(services, store).stream()
                .map(Recommendation::series).toList());
    }
}
