package org.gpuagent.agent.daemon;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.ZoneId;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import org.gpuagent.agent.StateDirectory;
import org.gpuagent.agent.sizing.LeaseSizing;
import org.gpuagent.agent.Version;
import org.gpuagent.agent.actuate.Actuator;
import org.gpuagent.agent.actuate.ActuatorEvictor;
import org.gpuagent.agent.actuate.Actuators;
import org.gpuagent.agent.actuate.LeaseActions;
import org.gpuagent.agent.api.ApiServer;
import org.gpuagent.agent.api.ApiToken;
import org.gpuagent.agent.api.StatusJson;
import org.gpuagent.agent.attribution.AttributionChain;
import org.gpuagent.agent.config.AgentConfig;
import org.gpuagent.agent.config.HostPort;
import org.gpuagent.agent.config.ServiceConfig;
import org.gpuagent.agent.logging.DaemonLog;
import org.gpuagent.agent.notify.Notifier;
import org.gpuagent.agent.ollama.OllamaAdmission;
import org.gpuagent.exporter.GpuMetrics;
import org.gpuagent.exporter.MetricsServer;
import org.gpuagent.nvml.sampler.GpuSnapshot;
import org.gpuagent.nvml.sampler.Sampler;
import org.gpuagent.nvml.sampler.SamplerConfig;
import org.gpuagent.scheduler.AdmissionController;
import org.gpuagent.scheduler.ByteSize;
import org.gpuagent.scheduler.LedgerView;
import org.gpuagent.scheduler.PriorityClass;
import org.gpuagent.scheduler.ScheduledExecutorTimers;
import org.gpuagent.scheduler.Service;
import org.gpuagent.scheduler.SchedulerConfig;
import org.gpuagent.scheduler.journal.FileJournal;
import org.gpuagent.scheduler.journal.Journal;

/**
 * {@code gpu-agent run}: owns every thread, file and socket of the agent and wires the modules
 * together:
 *
 * <pre>
 * backend (NVML or the simulated P1000) → Sampler thread → snapshots
 *     → GpuMetrics (workloads: AttributionChain)        → MetricsServer (/metrics, /healthz)
 *     → LedgerObserver (AttributionChain; liveness: /proc, cgroupfs) → AdmissionController.observe
 *     → EventReporter (GPU lost, Xid)
 * ApiServer (/v1) → AdmissionController (journal in the state directory)
 *     → events → EventReporter (log line, counters, webhooks), SimulatedServices (sim only)
 *     → Evictor → actuators (Ollama unload, systemctl, podman; the simulator on the sim backend)
 * </pre>
 *
 * This class only wires: the parts live in their own classes ({@link LedgerSetup} for the ledger's
 * size, services and journal, {@link DaemonThreads}, {@link LedgerPublisher}, {@link LearnedSizesPublisher}
 * for the learned sizes and their metrics, {@link OllamaProxySetup} for the Ollama proxy,
 * {@link HolderAttribution}, {@code StatusJson}, {@code Actuators}), and what it opens it registers
 * with the {@link Shutdown}, whose stages give the order of stopping. {@link #start} either returns a
 * serving daemon or throws {@link StartupException} with one line saying what is wrong, having
 * stopped whatever it had started.
 */
public final class Daemon implements AutoCloseable {
    /** On the simulator, a granted lease's process starts (and allocates) this long after the grant. */
    static final Duration SIM_START_DELAY = Duration.ofMillis(200);
    /** On the simulator, a preempted lease's process exits this long after its actuator was asked. */
    static final Duration SIM_EVICTION_DELAY = Duration.ofMillis(500);

    /**
     * What {@code run} was asked for.
     *
     * @param configSource where the configuration came from, for messages
     */
    public record Options(AgentConfig config, String configSource, Backend.Choice backend,
            Optional<HostPort> metricsListen, Optional<HostPort> apiListen, Path stateDir,
            Optional<Path> nvmlLibrary) {
    }

    /** The daemon cannot start; the message is one line for the operator (no stack trace). */
    public static final class StartupException extends Exception {
        private static final long serialVersionUID = 1L;

        public StartupException(String message) {
            super(message);
        }

        public StartupException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private final AgentConfig config;
    private final Path stateDir;
    private final Instant startedAt;
    private final Shutdown shutdown = new Shutdown();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final AtomicBoolean closing = new AtomicBoolean();
    /** Per-lease preemption actions (the Ollama proxy registers "unload model M" here). */
    private final LeaseActions leaseActions = new LeaseActions();

    // set while starting; read when stopping (a start that failed leaves some null)
    private AdmissionController ledger;
    private FileJournal journal;
    private MetricsServer metricsServer;
    private ApiServer apiServer;
    private Optional<OllamaAdmission> ollama = Optional.empty();

    private Daemon(AgentConfig config, Path stateDir, InstantSource clock) {
        this.config = config;
        this.stateDir = stateDir;
        this.startedAt = clock.instant();
    }

    /** Starts everything; on failure stops what was started and throws with one line to show. */
    public static Daemon start(Options o) throws StartupException {
        InstantSource clock = InstantSource.system();
        Daemon d = new Daemon(o.config(), o.stateDir(), clock);
        try {
            d.startAll(o, clock);
            return d;
        } catch (StartupException e) {
            d.shutdown.run();
            throw e;
        } catch (RuntimeException e) {
            d.shutdown.run();
            throw new StartupException("could not start: " + DaemonLog.describe(e), e);
        }
    }

    private void startAll(Options o, InstantSource clock) throws StartupException {
        ApiToken token = prepareStateDirectory();
        Backend backend = backend(o, clock);
        AgentConfig.Sampling s = config.sampling();
        Sampler sampler = new Sampler(backend.opener(), SamplerConfig.DEFAULTS.withInterval(s.interval())
                .withSlowEveryTicks(s.slowEvery()).withWatchdogTimeout(s.callTimeout()), clock, System::nanoTime);
        shutdown.add(Shutdown.Stage.SAMPLING, "sampler", sampler);
        DeviceChoice device = new DeviceChoice(config.device());
        SchedulerConfig schedulerConfig = LedgerSetup.schedulerConfig(config,
                LedgerSetup.deviceTotal(config, device, sampler.collectOnce()));
        DaemonThreads threads = new DaemonThreads(shutdown);
        ScheduledExecutorTimers timers = new ScheduledExecutorTimers(threads.timers, clock);
        journal = LedgerSetup.openJournal(stateDir, clock, timers);

        GpuMetrics metrics = GpuMetrics.builder().services(config.services().stream().map(ServiceConfig::name)
                .toList()).perProcessSeries(config.exporter().pidLabels()).build();
        Optional<SimulatedServices> sim = backend.simulator().map(host -> new SimulatedServices(host.device(0),
                threads.timers, timers, clock, SIM_START_DELAY, priorities()));
        Optional<UnaryOperator<Actuator>> onSimulator = sim.map(x -> real -> new SimulatedEviction(real, x,
                SIM_EVICTION_DELAY));
        SharedHttpClient http = new SharedHttpClient();
        Notifier notifier = new Notifier(config.notifications().sinks(), config.notifications().instance()
                .orElseGet(() -> defaultInstance(o.metricsListen().orElse(config.listen().metrics()))), http,
                timers, clock);
        EventReporter events = new EventReporter(metrics.scheduler(), notifier, threads.reporting);
        LearnedSizesPublisher sizes = LearnedSizesPublisher.open(stateDir, config.services(), metrics);
        sizes.run();
        LeaseSizing sizing = new LeaseSizing(sizes.store(), config.ffmpegSizes(), threads.reporting, DaemonLog::warn,
                sizes, OllamaProxySetup::learnsItsOwnSize);
        ActuatorEvictor evictor = new ActuatorEvictor(actuators(http, onSimulator), leaseActions, threads.actuators,
                clock, null, order -> metrics.scheduler().unresponsiveVictim(order.service().name()));
        ledger = startLedger(AdmissionController.builder(schedulerConfig, clock, timers).journal(journal)
                .evictor(evictor).listener(evictor).listener(leaseActions).listener(events).listener(sizing)
                .zone(ZoneId.systemDefault()), sim);
        sizing.adopt(ledger.view().leases());
        LedgerPublisher publisher = new LedgerPublisher(ledger, journal, metrics);
        journal.onHealthChange(publisher);
        publisher.run();

        StatusJson.Agent agent = new StatusJson.Agent(Version.get(), backend.name(), startedAt, stateDir);
        listen(o, metrics, token, () -> {
            GpuSnapshot sample = sampler.latest();
            OptionalInt arbitrated = device.select(sample).map(d -> OptionalInt.of(d.index()))
                    .orElse(OptionalInt.empty());
            return StatusJson.of(agent, sample, arbitrated, ledger.view(), config::service);
        }, publisher, sizing);

        ollama = OllamaProxySetup.start(config.ollama(), ledger, leaseActions,
                onSimulator.orElse(UnaryOperator.identity()), sizes, clock, shutdown);

        AttributionChain attributor = HolderAttribution.chain(config, ledger::view, sim);
        sampler.addListener(metrics.listener(attributor));
        LedgerObserver observer = new LedgerObserver(ledger, device, attributor, HolderAttribution.liveness(sim),
                observation -> {
                    publisher.run();
                    sizing.observe(observation, ledger.view());
                });
        ollama.ifPresent(proxy -> observer.withSplit(OllamaProxySetup.split(config.ollama().orElseThrow().service(),
                proxy)));
        sampler.addListener(observer);
        sampler.addListener(events);
        ledger.addListener(new EvictionWatch(timers, clock, s.evictionInterval(), ledger::view,
                service -> schedulerConfig.service(service).map(Service::evictionDeadline)
                        .orElse(Service.DEFAULT_EVICTION_DEADLINE), sampler::collectWithProcesses));
        sampler.start();

        LedgerView view = ledger.view();
        DaemonLog.info("gpu-agent " + Version.get() + " ready: " + (sim.isPresent() ? "simulated " : "") + "GPU "
                + config.device() + ", budget " + ByteSize.format(view.budgetBytes()) + " ("
                + ByteSize.format(view.deviceTotalBytes()) + " minus " + ByteSize.format(view.headroomBytes())
                + " headroom), services " + String.join(", ", config.services().stream().map(ServiceConfig::name)
                .toList()) + "; configuration " + o.configSource() + "; state in " + stateDir);
        events.failOpenRecord(stateDir, clock.instant());
    }

    private static Backend backend(Options o, InstantSource clock) throws StartupException {
        Backend backend;
        try {
            backend = Backend.choose(o.backend(), o.nvmlLibrary(), clock);
        } catch (Backend.UnavailableException e) {
            throw new StartupException(e.getMessage(), e);
        }
        DaemonLog.info("backend: " + backend.description());
        return backend;
    }

    /**
     * Each preemptible service's actions in escalation order; on the simulator, ones that act on
     * the simulator instead ({@code onSimulator}: what becomes of each real action there).
     */
    private Map<String, List<Actuator>> actuators(SharedHttpClient http,
            Optional<UnaryOperator<Actuator>> onSimulator) {
        Map<String, List<Actuator>> actuators = Actuators.chainsForServices(config.services(), http);
        onSimulator.ifPresent(f -> actuators.replaceAll((service, chain) -> chain.stream().map(f).toList()));
        return actuators;
    }

    /** Builds the ledger (replaying the journal, which it then owns) and says what it recovered. */
    private AdmissionController startLedger(AdmissionController.Builder b, Optional<SimulatedServices> sim) {
        sim.ifPresent(b::listener);
        AdmissionController built;
        try {
            built = b.build();
        } catch (RuntimeException e) {
            closeJournal(journal);
            throw e;
        }
        shutdown.add(Shutdown.Stage.LEDGER, "ledger", built);
        LedgerView view = built.view();
        if (!view.leases().isEmpty()) {
            DaemonLog.info("ledger: " + view.leases().size() + " lease(s) recovered from " + journal.file() + " ("
                    + ByteSize.format(view.leasedBytes()) + ")");
        }
        sim.ifPresent(x -> x.adopt(view.leases()));
        return built;
    }

    /** The state directory, made the agent's alone, and the API token in it (created at the first start). */
    private ApiToken prepareStateDirectory() throws StartupException {
        try {
            StateDirectory.prepare(stateDir).ifPresent(DaemonLog::warn);
            return ApiToken.loadOrCreate(stateDir, new SecureRandom());
        } catch (IOException e) {
            throw new StartupException("cannot use the state directory " + stateDir + ": " + DaemonLog.describe(e)
                    + " (choose one with --state-dir)", e);
        }
    }

    /** Opens the metrics and the API listeners and says where they listen. */
    private void listen(Options o, GpuMetrics metrics, ApiToken token, Supplier<Map<String, Object>> status,
            Runnable ledgerChanged, LeaseSizing sizing) throws StartupException {
        HostPort metricsAt = o.metricsListen().orElse(config.listen().metrics());
        HostPort apiAt = o.apiListen().orElse(config.listen().api());
        try {
            metricsServer = MetricsServer.start(metrics, metricsAt.toSocketAddress());
        } catch (IOException e) {
            throw new StartupException(oneLine(e), e);
        }
        shutdown.add(Shutdown.Stage.METRICS, "metrics listener", metricsServer);
        try {
            apiServer = ApiServer.start(apiAt.toSocketAddress(), token, ledger, status, ledgerChanged, sizing);
        } catch (IOException e) {
            throw new StartupException(oneLine(e), e);
        }
        shutdown.add(Shutdown.Stage.REFUSE_REQUESTS, "API", apiServer::beginShutdown);
        shutdown.add(Shutdown.Stage.API, "API listener", apiServer);
        if (ApiServer.beyondLoopback(apiServer.address())) {
            DaemonLog.warn("the API listens on " + hostPort(apiServer.address().getHostString(), apiServer.port())
                    + ", beyond this host: whoever reaches it with the token in " + stateDir.resolve(ApiToken.FILE_NAME)
                    + " can admit and release leases, and the token crosses the network in plain HTTP "
                    + "(listen.api: 127.0.0.1:9849 keeps it local)");
        }
        DaemonLog.info("listening: metrics http://" + hostPort(metricsServer.address().getHostString(),
                metricsServer.port()) + "/metrics, API http://" + hostPort(apiServer.address().getHostString(),
                apiServer.port()) + "/v1");
    }

    private static String hostPort(String host, int port) {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }

    private static void closeJournal(FileJournal journal) {
        try {
            journal.close();
        } catch (IOException e) {
            DaemonLog.warn("closing the ledger journal", e);
        }
    }

    private Map<String, PriorityClass> priorities() {
        Map<String, PriorityClass> m = new LinkedHashMap<>();
        config.services().forEach(sc -> m.put(sc.name(), sc.priority()));
        return m;
    }

    /**
     * How the agent's alerts name this host when the configuration does not say: the host name and
     * the metrics port, which is how Prometheus names the scrape target when it scrapes by host name.
     */
    static String defaultInstance(HostPort metrics) {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            host = "localhost";
        }
        return host + ":" + metrics.port();
    }

    public int apiPort() {
        return apiServer.port();
    }

    /** The Ollama proxy's port; empty when it is off. */
    public OptionalInt ollamaPort() {
        return ollama.map(o -> OptionalInt.of(o.address().getPort())).orElse(OptionalInt.empty());
    }

    public int metricsPort() {
        return metricsServer.port();
    }

    /** Blocks until {@link #close()} has finished. */
    public void awaitStopped() throws InterruptedException {
        stopped.await();
    }

    /**
     * Stops in the order {@link Shutdown.Stage} gives, which loses nothing: new API requests
     * refused, the ledger closed (waiting requests refused, the journal synced and closed), then
     * the listeners, the sampler and the threads. Idempotent; safe from a shutdown hook.
     */
    @Override
    public void close() {
        if (!closing.compareAndSet(false, true)) {
            try {
                stopped.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return;
        }
        try {
            DaemonLog.info("stopping");
            int leases = ledger == null ? 0 : ledger.view().leases().size();
            shutdown.run();
            Journal.Health h = journal == null ? Journal.Health.WRITABLE : journal.health();
            if (h.writable()) {
                DaemonLog.info("stopped; the ledger journal is synced with " + leases + " lease(s)");
            } else {
                DaemonLog.error("stopped; the ledger journal is NOT synced (" + h.problem().orElseThrow()
                        + "): the next start replays it as it was when writing failed, not the " + leases
                        + " lease(s) held at the end");
            }
        } finally {
            stopped.countDown();
        }
    }

    /** An exception's own message, else its one-line description. */
    static String oneLine(Throwable e) {
        return e.getMessage() == null ? DaemonLog.describe(e) : e.getMessage();
    }
}
