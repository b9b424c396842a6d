package org.gpuagent.exporter;

import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.util.List;

/**
 * Families built when their input was published (a GPU snapshot, the ledger's view), held as
 * client_java's immutable snapshots: a scrape collects them as they are, so the scrape path
 * renders and does nothing else, and never reads the GPU or the ledger.
 */
final class PublishedFamilies implements MultiCollector {
    private volatile MetricSnapshots current = new MetricSnapshots(List.of());

    void set(List<MetricSnapshot> families) {
        current = new MetricSnapshots(families);
    }

    @Override
    public MetricSnapshots collect() {
        return current;
    }
}
