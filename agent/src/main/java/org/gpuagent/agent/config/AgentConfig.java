package org.gpuagent.agent.config;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import org.gpuagent.agent.notify.SinkConfig;
import org.gpuagent.agent.sizing.FfmpegSizeTable;
import org.gpuagent.scheduler.Budget;
import org.gpuagent.scheduler.Headroom;
import org.gpuagent.scheduler.Misfit;
import org.gpuagent.scheduler.SchedulerConfig;
import org.gpuagent.scheduler.Service;

/**
 * The validated configuration. Built only by {@link ConfigLoader}, which reports every problem
 * with its YAML path and line instead of returning a half-valid object.
 *
 * @param device           which GPU: an NVML index or a UUID
 * @param deviceMemoryBytes the total VRAM the config is written for; lets {@code check-config}
 *                         verify budgets without a GPU ({@code run} checks against the real total)
 * @param nvmlLibrary      a libnvidia-ml file to load instead of searching the usual places
 * @param ffmpegSizes      {@code sizing.ffmpeg}: the estimate table for {@code exec --bytes auto}
 */
public record AgentConfig(
        String device,
        OptionalLong deviceMemoryBytes,
        Headroom headroom,
        Sampling sampling,
        Listen listen,
        Optional<Path> stateDir,
        Reconcile reconcile,
        Exporter exporter,
        List<ServiceConfig> services,
        Notifications notifications,
        Optional<Path> nvmlLibrary,
        FfmpegSizeTable ffmpegSizes,
        Optional<OllamaProxy> ollama) {

    public AgentConfig {
        services = List.copyOf(services);
        Objects.requireNonNull(ollama, "ollama");
    }

    /**
     * The Ollama admission proxy ({@code ollama}); absent, it is off.
     *
     * @param listen        where clients reach it, as they would reach Ollama
     * @param upstream      Ollama's own URL
     * @param service       the configured service whose priority model leases take
     * @param minModelBytes the smallest model lease
     * @param psInterval    how often {@code GET /api/ps} is asked which models are loaded
     * @param maxWait       how long a request waits for its model's memory before {@code 503}
     * @param maxBodyBytes  the largest request body that names a model (it is read whole to find the name)
     */
    public record OllamaProxy(HostPort listen, URI upstream, String service, long minModelBytes,
            Duration psInterval, Duration maxWait, long maxBodyBytes) {
        public OllamaProxy {
            Objects.requireNonNull(listen, "listen");
            Objects.requireNonNull(upstream, "upstream");
            Objects.requireNonNull(service, "service");
            Objects.requireNonNull(psInterval, "psInterval");
            Objects.requireNonNull(maxWait, "maxWait");
        }
    }

    /**
     * @param evictionInterval how often the process lists are read while a preempted lease is
     *                         evicting (so a waiting admission is granted soon after the memory is
     *                         free); {@code sampling.eviction-interval}, default 150 ms
     */
    public record Sampling(Duration interval, int slowEvery, Duration callTimeout, Duration evictionInterval) {
        public static final Duration DEFAULT_EVICTION_INTERVAL = Duration.ofMillis(150);

        public Sampling(Duration interval, int slowEvery, Duration callTimeout) {
            this(interval, slowEvery, callTimeout, DEFAULT_EVICTION_INTERVAL);
        }
    }

    public record Listen(HostPort metrics, HostPort api) {
    }

    /**
     * @param grace            a lease whose holder is gone is released after this long
     * @param overUseTolerance use beyond lease + this raises an over-use event
     */
    public record Reconcile(Duration grace, long overUseTolerance) {
    }

    /**
     * @param pidLabels       add a {@code pid} label to workload series (opt-in: label churn)
     * @param containerStores containers/storage directories whose {@code containers.json} names the
     *                        containers shown as workloads
     */
    public record Exporter(boolean pidLabels, List<Path> containerStores) {
        public Exporter {
            containerStores = List.copyOf(containerStores);
        }
    }

    /**
     * @param instance how the agent's alerts name this host; empty: the host name and the metrics port,
     *                 as Prometheus names the scrape target
     * @param sinks    {@code notifications.webhooks}, in configuration order
     */
    public record Notifications(Optional<String> instance, List<SinkConfig> sinks) {
        public Notifications {
            sinks = List.copyOf(sinks);
        }
    }

    public Optional<ServiceConfig> service(String name) {
        return services.stream().filter(s -> s.name().equals(name)).findFirst();
    }

    /** The VRAM budget for a device of {@code totalBytes}. */
    public long budgetFor(long totalBytes) {
        return Budget.on(totalBytes, headroom).bytes();
    }

    /**
     * The ledger's configuration on a device of {@code totalBytes}, once it passes the fit check
     * that {@code check-config} runs against {@code device-memory} ({@link Misfit#of}).
     *
     * @throws ConfigException every misfit, by its YAML path, without a line (the device is the
     *                         problem, not a place in the file)
     */
    public SchedulerConfig schedulerConfig(long totalBytes) throws ConfigException {
        List<Service> scheduled = services.stream().map(ServiceConfig::service).toList();
        List<Misfit> misfits = Misfit.of(totalBytes, headroom, scheduled);
        if (!misfits.isEmpty()) {
            throw new ConfigException(misfits.stream()
                    .map(m -> new ConfigProblem("this GPU", 0, pathOf(m), m.sentence())).toList());
        }
        return new SchedulerConfig(totalBytes, headroom, scheduled);
    }

    /** Where in the configuration a misfit is: the key to change. */
    static String pathOf(Misfit misfit) {
        return switch (misfit.kind()) {
            case NO_BUDGET -> "headroom";
            case REQUEST_EXCEEDS_BUDGET -> "services." + misfit.service().orElseThrow() + ".request";
            case CRITICAL_EXCEED_BUDGET -> "services";
        };
    }
}
