package org.gpuagent.exporter;

import com.codahale.metrics.MetricRegistry;
import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.expositionformats.ExpositionFormatWriter;
import io.prometheus.metrics.expositionformats.ExpositionFormats;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.Predicate;
import org.gpuagent.nvml.sampler.GpuSnapshot;

/**
 * Every metric the agent exports, in one client_java registry: the GPU families rendered from the
 * sampler's snapshots, the workload and scheduler families, the Dropwizard timers and meter
 * (through the bridge) and, unless turned off, the JVM's.
 *
 * <p>Inputs (all thread-safe):
 * <ul>
 *   <li>{@link #publish(GpuSnapshot, List)} after each snapshot, with the workloads the agent
 *       attributed ({@link #listener(WorkloadAttribution)} makes the sampler listener). The
 *       families are built here, and the loss-free counters advance here: scraping never calls
 *       NVML and never changes a value.</li>
 *   <li>{@link #publish(SchedulerMetricsView)} whenever the ledger changed.</li>
 *   <li>{@link #scheduler()} for the admission and preemption events.</li>
 * </ul>
 */
public final class GpuMetrics {
    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final PublishedFamilies gpuSeries = new PublishedFamilies();
    private final DropwizardSeries dropwizard;
    private final SchedulerMetrics scheduler;
    private final UsageIntegrator usage;
    private final boolean perProcessSeries;
    private final AtomicReference<GpuSnapshot> latest = new AtomicReference<>();
    private final ExpositionFormats formats = ExpositionFormats.init();
    private final AtomicLong generation = new AtomicLong();
    private long lastTimedSequence = -1;

    private GpuMetrics(Builder b) {
        this.perProcessSeries = b.perProcessSeries;
        this.usage = new UsageIntegrator(b.maxIntegrationGap);
        this.dropwizard = new DropwizardSeries(b.clock, b.nanoTicker, b.timerWindow);
        // Until the sampler publishes, say so: nvgpu_up 0 rather than no series at all.
        gpuSeries.set(GpuSeries.build(GpuSnapshot.initial(b.clock.instant()), List.of(), usage, perProcessSeries));
        registry.register(gpuSeries);
        registry.register(dropwizard);
        this.scheduler = new SchedulerMetrics(registry, b.services, dropwizard.admissionTimer(),
                generation::incrementAndGet);
        registry.register(learnedSizes.families());
        if (b.jvmMetrics) {
            JvmMetrics.builder().register(registry);
        }
    }

    private final LearnedSizeSeries learnedSizes = new LearnedSizeSeries();

    public static Builder builder() {
        return new Builder();
    }

    /** The registry to scrape; the agent may register more collectors in it. */
    public PrometheusRegistry registry() {
        return registry;
    }

    /** Dropwizard registry whose metrics are exported through the bridge; the agent may add its own. */
    public MetricRegistry dropwizardRegistry() {
        return dropwizard.registry();
    }

    public SchedulerMetrics scheduler() {
        return scheduler;
    }

    /** The last snapshot published, or null before the first. */
    public GpuSnapshot latestSnapshot() {
        return latest.get();
    }

    /**
     * Renders {@code snapshot} and {@code workloads} into the GPU families and advances the
     * loss-free counters. Snapshots must come in publish order (a sampler listener does that); a
     * republished STALE or LOST snapshot only changes the status series.
     */
    public synchronized void publish(GpuSnapshot snapshot, List<Workload> workloads) {
        Objects.requireNonNull(snapshot, "snapshot");
        Objects.requireNonNull(workloads, "workloads");
        usage.accept(snapshot);
        if (snapshot.status() == GpuSnapshot.Status.OK && snapshot.sequence() > lastTimedSequence) {
            lastTimedSequence = snapshot.sequence();
            dropwizard.collectTimer().update(Duration.ofNanos(Math.max(0, snapshot.collectDurationNanos())));
        }
        gpuSeries.set(GpuSeries.build(snapshot, workloads, usage, perProcessSeries));
        latest.set(snapshot);
        generation.incrementAndGet();
    }

    /** The learned lease sizes per service ({@link LearnedSizeSeries}), whenever a lease's peak was recorded. */
    public void publishLearnedSizes(List<LearnedSizeSeries.Service> services) {
        Objects.requireNonNull(services, "services");
        learnedSizes.publish(services);
        generation.incrementAndGet();
    }

    public void publish(SchedulerMetricsView view) {
        Objects.requireNonNull(view, "view");
        scheduler.publish(view);
        generation.incrementAndGet();
    }

    /** A sampler listener: attributes each snapshot's processes and publishes both. */
    public Consumer<GpuSnapshot> listener(WorkloadAttribution attribution) {
        Objects.requireNonNull(attribution, "attribution");
        return s -> publish(s, attribution.workloads(s));
    }

    /**
     * Increases with every publish and scheduler event: a scrape answer of an older generation is
     * out of date (only JVM and timer values change without it).
     */
    long generation() {
        return generation.get();
    }

    /** Why the agent is not healthy, for {@code /healthz}; empty when it is. */
    public Optional<String> problem() {
        return scheduler.problem();
    }

    /** Counts one scrape of /metrics ({@code nvgpu_scrapes_total}); called by {@link MetricsServer}. */
    void markScrape() {
        dropwizard.scrapeMeter().mark();
    }

    /**
     * Writes every family, sorted by name, in the format {@code acceptHeader} asks for (OpenMetrics
     * or the Prometheus text format; null: the text format): what client_java's scrape handler
     * writes for {@code GET /metrics}, before compression.
     */
    public void write(OutputStream out, String acceptHeader) throws IOException {
        formats.findWriter(acceptHeader).write(out, registry.scrape(), EscapingScheme.fromAcceptHeader(acceptHeader));
    }

    /** Writes the families whose name {@code include} accepts, sorted by name. */
    public void write(OutputStream out, String acceptHeader, Predicate<String> include) throws IOException {
        ExpositionFormatWriter writer = formats.findWriter(acceptHeader);
        writer.write(out, registry.scrape(include), EscapingScheme.fromAcceptHeader(acceptHeader));
    }

    /** The whole Prometheus text exposition, as a scrape gets it. */
    public String scrapeText() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(32 * 1024);
        try {
            write(out, null);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    /** The Prometheus text exposition of the families {@code include} accepts, sorted by name. */
    public String scrapeText(Predicate<String> include) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(32 * 1024);
        try {
            write(out, null, include);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    public static final class Builder {
        private InstantSource clock = InstantSource.system();
        private LongSupplier nanoTicker = System::nanoTime;
        private List<String> services = List.of();
        private boolean perProcessSeries;
        private boolean jvmMetrics = true;
        private Duration maxIntegrationGap = Duration.ofSeconds(10);
        private Duration timerWindow = Duration.ofMinutes(1);

        private Builder() {
        }

        /** Wall time and the monotonic ticker behind the Dropwizard timers' windows (tests: manual time). */
        public Builder time(InstantSource clock, LongSupplier nanoTicker) {
            this.clock = Objects.requireNonNull(clock, "clock");
            this.nanoTicker = Objects.requireNonNull(nanoTicker, "nanoTicker");
            return this;
        }

        /** The configured services: their counters start at 0; other names count as {@code unknown}. */
        public Builder services(List<String> names) {
            this.services = List.copyOf(names);
            return this;
        }

        /** Adds {@code pid}-labelled workload series (off by default: a label per process churns). */
        public Builder perProcessSeries(boolean on) {
            this.perProcessSeries = on;
            return this;
        }

        public Builder jvmMetrics(boolean on) {
            this.jvmMetrics = on;
            return this;
        }

        /**
         * The longest time between two collects that the loss-free counters integrate over (default
         * 10 s; several sampling intervals). A longer gap adds nothing.
         */
        public Builder maxIntegrationGap(Duration gap) {
            this.maxIntegrationGap = Objects.requireNonNull(gap, "gap");
            return this;
        }

        /** How far back the timers' quantiles look (default one minute). */
        public Builder timerWindow(Duration window) {
            Objects.requireNonNull(window, "window");
            if (window.toSeconds() < 1) {
                throw new IllegalArgumentException("the timer window must be at least 1 s, got " + window);
            }
            this.timerWindow = window;
            return this;
        }

        public GpuMetrics build() {
            return new GpuMetrics(this);
        }
    }
}
