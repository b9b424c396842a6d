package org.gpuagent.agent.daemon;

import java.util.ArrayList;
import java.util.List;
import org.gpuagent.exporter.GpuMetrics;
import org.gpuagent.exporter.SchedulerMetricsView;
import org.gpuagent.scheduler.AdmissionController;
import org.gpuagent.scheduler.LedgerView;
import org.gpuagent.scheduler.journal.Journal;

/**
 * Hands the ledger's view and the journal's health to the metrics whenever either changed: after
 * each API request that may have changed the ledger, each observation, and each change of the
 * journal's health ({@link Journal#onHealthChange}, which also makes {@code /healthz} answer 503
 * while the journal cannot be written). Safe to call from any thread, as often as wanted.
 */
final class LedgerPublisher implements Runnable {
    private final AdmissionController ledger;
    private final Journal journal;
    private final GpuMetrics metrics;
    private long publishedViewVersion = -1;
    private Journal.Health publishedHealth;

    LedgerPublisher(AdmissionController ledger, Journal journal, GpuMetrics metrics) {
        this.ledger = ledger;
        this.journal = journal;
        this.metrics = metrics;
    }

    /**
     * Publishes when the view or the health is newer than what was published. Synchronized so that
     * two callers cannot publish an older view after a newer one.
     */
    @Override
    public synchronized void run() {
        LedgerView v = ledger.view();
        Journal.Health h = journal.health();
        if (v.version() <= publishedViewVersion && h.equals(publishedHealth)) {
            return;
        }
        publishedViewVersion = v.version();
        publishedHealth = h;
        List<SchedulerMetricsView.ServiceVram> services = new ArrayList<>();
        for (LedgerView.ServiceUsage u : v.services()) {
            services.add(new SchedulerMetricsView.ServiceVram(u.service(), u.leasedBytes(), u.observedBytes()));
        }
        metrics.publish(new SchedulerMetricsView(v.budgetBytes(), v.committedBytes(), services, v.queue().size(),
                new SchedulerMetricsView.Journal(h.writable(), h.failedWrites(), h.problem())));
    }
}
