package org.gpuagent.exporter;

import com.codahale.metrics.Clock;
import com.codahale.metrics.Meter;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.SlidingTimeWindowArrayReservoir;
import com.codahale.metrics.Timer;
import io.prometheus.metrics.instrumentation.dropwizard.DropwizardExports;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.MetricMetadata;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import io.prometheus.metrics.model.snapshots.SummarySnapshot;
import io.prometheus.metrics.model.snapshots.Unit;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The agent's own timers and meters, kept in Dropwizard Metrics and exported through client_java's
 * Dropwizard bridge. The bridge names a Timer as a summary in seconds and a Meter as a counter but
 * writes a generic HELP; this collector puts back HELP texts that say what and in which unit.
 *
 * <p>Timers keep the last {@code window} of values (a sliding time window on the injected ticker),
 * so their quantiles describe recent behaviour and a test in manual time sees fixed values.
 */
final class DropwizardSeries implements MultiCollector {
    static final String ADMISSION_DURATION = "nvgpu_admission_duration_seconds";
    static final String COLLECT_DURATION = "nvgpu_collect_duration_seconds";
    static final String SCRAPES = "nvgpu_scrapes";

    private static final Map<String, String> HELP = Map.of(
            ADMISSION_DURATION, "Time from an admission request to its decision (admitted or denied), in seconds, "
                    + "over the last window; queued requests count when they are decided.",
            COLLECT_DURATION, "Time one collect (every NVML call of one sample, all GPUs) took, in seconds, over "
                    + "the last window, as the sampler measured it.",
            SCRAPES, "Scrapes of /metrics this agent served.");

    private final MetricRegistry registry = new MetricRegistry();
    private final DropwizardExports bridge = new DropwizardExports(registry);
    private final Timer admissionTimer;
    private final Timer collectTimer;
    private final Meter scrapeMeter;

    DropwizardSeries(InstantSource clock, LongSupplier nanoTicker, Duration window) {
        Clock dwClock = new Clock() {
            @Override
            public long getTick() {
                return nanoTicker.getAsLong();
            }

            @Override
            public long getTime() {
                return clock.millis();
            }
        };
        long windowSeconds = Math.max(1, window.toSeconds());
        admissionTimer = registry.register(ADMISSION_DURATION,
                new Timer(new SlidingTimeWindowArrayReservoir(windowSeconds, TimeUnit.SECONDS, dwClock), dwClock));
        collectTimer = registry.register(COLLECT_DURATION,
                new Timer(new SlidingTimeWindowArrayReservoir(windowSeconds, TimeUnit.SECONDS, dwClock), dwClock));
        scrapeMeter = registry.register(SCRAPES, new Meter(dwClock));
    }

    MetricRegistry registry() {
        return registry;
    }

    Timer admissionTimer() {
        return admissionTimer;
    }

    Timer collectTimer() {
        return collectTimer;
    }

    Meter scrapeMeter() {
        return scrapeMeter;
    }

    @Override
    public MetricSnapshots collect() {
        MetricSnapshots bridged = bridge.collect();
        List<MetricSnapshot> out = new ArrayList<>(bridged.size());
        for (MetricSnapshot m : bridged) {
            String name = m.getMetadata().getName();
            String help = HELP.get(name);
            if (help == null) {
                out.add(m);
            } else if (m instanceof SummarySnapshot summary) {
                out.add(new SummarySnapshot(new MetricMetadata(name, help, Unit.SECONDS), summary.getDataPoints()));
            } else if (m instanceof CounterSnapshot counter) {
                out.add(new CounterSnapshot(new MetricMetadata(name, help, null), counter.getDataPoints()));
            } else {
                out.add(m);
            }
        }
        return new MetricSnapshots(out);
    }
}
