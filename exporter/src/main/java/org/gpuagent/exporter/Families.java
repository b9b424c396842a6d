package org.gpuagent.exporter;

import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.CounterSnapshot.CounterDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot.GaugeDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.InfoSnapshot;
import io.prometheus.metrics.model.snapshots.InfoSnapshot.InfoDataPointSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricMetadata;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.Unit;
import java.util.ArrayList;
import java.util.List;

/**
 * Collects data points per metric family and builds client_java snapshots; a family that got no
 * data point is left out of the exposition (an absent field has no series, never a sentinel).
 */
final class Families {
    private final List<Family> families = new ArrayList<>();

    Family gauge(String name, String help, Unit unit) {
        return add(new Family(Type.GAUGE, name, help, unit));
    }

    /** {@code name} without the {@code _total} suffix the exposition adds. */
    Family counter(String name, String help, Unit unit) {
        return add(new Family(Type.COUNTER, name, help, unit));
    }

    /** {@code name} without the {@code _info} suffix the exposition adds. */
    Family info(String name, String help) {
        return add(new Family(Type.INFO, name, help, null));
    }

    private Family add(Family f) {
        families.add(f);
        return f;
    }

    List<MetricSnapshot> build() {
        List<MetricSnapshot> out = new ArrayList<>(families.size());
        for (Family f : families) {
            if (!f.labels.isEmpty()) {
                out.add(f.build());
            }
        }
        return out;
    }

    private enum Type { GAUGE, COUNTER, INFO }

    static final class Family {
        private final Type type;
        private final String name;
        private final Unit unit;
        private String help;
        private final List<Labels> labels = new ArrayList<>();
        private final List<Double> values = new ArrayList<>();

        private Family(Type type, String name, String help, Unit unit) {
            this.type = type;
            this.name = name;
            this.help = help;
            this.unit = unit;
        }

        /** Replaces the HELP text (for a family whose wording depends on the data). */
        Family help(String text) {
            this.help = text;
            return this;
        }

        Family add(Labels l, double value) {
            labels.add(l);
            values.add(value);
            return this;
        }

        Family add(Labels l) {
            return add(l, 1);
        }

        private MetricSnapshot build() {
            MetricMetadata metadata = new MetricMetadata(name, help, unit);
            switch (type) {
                case GAUGE: {
                    List<GaugeDataPointSnapshot> points = new ArrayList<>(labels.size());
                    for (int i = 0; i < labels.size(); i++) {
                        points.add(new GaugeDataPointSnapshot(values.get(i), labels.get(i), null));
                    }
                    return new GaugeSnapshot(metadata, points);
                }
                case COUNTER: {
                    List<CounterDataPointSnapshot> points = new ArrayList<>(labels.size());
                    for (int i = 0; i < labels.size(); i++) {
                        points.add(new CounterDataPointSnapshot(values.get(i), labels.get(i), null, 0));
                    }
                    return new CounterSnapshot(metadata, points);
                }
                default: {
                    List<InfoDataPointSnapshot> points = new ArrayList<>(labels.size());
                    for (Labels l : labels) {
                        points.add(new InfoDataPointSnapshot(l));
                    }
                    return new InfoSnapshot(metadata, points);
                }
            }
        }
    }
}
