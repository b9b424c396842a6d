package org.gpuagent.agent.daemon;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.gpuagent.agent.FailOpenRecord;
import org.gpuagent.agent.StateDirectory;
import org.gpuagent.agent.Version;
import org.gpuagent.agent.actuate.Actuator;
import org.gpuagent.agent.actuate.ActuatorEvictor;
import org.gpuagent.agent.actuate.CommandActuator;
import org.gpuagent.agent.actuate.OllamaUnloader;
import org.gpuagent.agent.api.ApiServer;
import org.gpuagent.agent.api.ApiToken;
import org.gpuagent.agent.api.LeaseJson;
import org.gpuagent.agent.config.AgentConfig;
import org.gpuagent.agent.config.ConfigException;
import org.gpuagent.agent.config.HostPort;
import org.gpuagent.agent.config.ServiceConfig;
import org.gpuagent.agent.logging.DaemonLog;
import org.gpuagent.agent.notify.Notifier;
import org.gpuagent.exporter.GpuMetrics;
import org.gpuagent.exporter.MetricsServer;
import org.gpuagent.exporter.SchedulerMetricsView;
import org.gpuagent.nvml.MemoryInfo;
import org.gpuagent.nvml.sampler.DeviceSnapshot;
import org.gpuagent.nvml.sampler.GpuSnapshot;
import org.gpuagent.nvml.sampler.Sampler;
import org.gpuagent.nvml.sampler.SamplerConfig;
import org.gpuagent.scheduler.AdmissionController;
import org.gpuagent.scheduler.ByteSize;
import org.gpuagent.scheduler.LedgerView;
import org.gpuagent.scheduler.PriorityClass;
import org.gpuagent.scheduler.ScheduledExecutorTimers;
import org.gpuagent.scheduler.SchedulerConfig;
import org.gpuagent.scheduler.journal.FileJournal;
import org.gpuagent.scheduler.journal.Journal;
import org.gpuagent.scheduler.journal.JournalCorruptedException;

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
 * {@link #start} either returns a serving daemon or throws {@link StartupException} with one line
 * saying what is wrong, having released whatever it had opened.
 */
public final class Daemon implements AutoCloseable {
    /** On the simulator, a granted lease's process starts (and allocates) this long after the grant. */
    static final Duration SIM_START_DELAY = Duration.ofMillis(200);
    /** On the simulator, a preempted lease's process exits this long after its actuator was asked. */
    static final Duration SIM_EVICTION_DELAY = Duration.ofMillis(500);
    private static final long FALLBACK_TOTAL = 4 * ByteSize.GIB;

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
    private final List<AutoCloseable> opened = new ArrayList<>();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final AtomicBoolean closing = new AtomicBoolean();
    private long publishedViewVersion = -1;
    private Journal.Health publishedJournalHealth;

    private Backend backend;
    private Sampler sampler;
    private DeviceChoice device;
    private GpuMetrics metrics;
    private AdmissionController ledger;
    private FileJournal journal;
    private MetricsServer metricsServer;
    private ApiServer apiServer;
    private ScheduledThreadPoolExecutor timers;
    private ExecutorService actuators;
    private ExecutorService reporting;
    private volatile HttpClient httpClient;

    private Daemon(AgentConfig config, Path stateDir, InstantSource clock) {
        this.config = config;
        this.stateDir = stateDir;
        this.startedAt = clock.instant();
    }

    /** Starts everything; on failure closes what was opened and throws with one line to show. */
    public static Daemon start(Options o) throws StartupException {
        InstantSource clock = InstantSource.system();
        Daemon d = new Daemon(o.config(), o.stateDir(), clock);
        try {
            d.startAll(o, clock);
            return d;
        } catch (StartupException e) {
            d.closeQuietly();
            throw e;
        } catch (RuntimeException e) {
            d.closeQuietly();
            throw new StartupException("could not start: " + DaemonLog.describe(e), e);
        }
    }

    private void startAll(Options o, InstantSource clock) throws StartupException {
        ApiToken token;
        try {
            StateDirectory.prepare(stateDir).ifPresent(DaemonLog::warn);
            token = ApiToken.loadOrCreate(stateDir, new SecureRandom());
        } catch (IOException e) {
            throw new StartupException("cannot use the state directory " + stateDir + ": " + DaemonLog.describe(e)
                    + " (choose one with --state-dir)", e);
        }

        try {
            backend = Backend.choose(o.backend(), o.nvmlLibrary(), clock);
        } catch (Backend.UnavailableException e) {
            throw new StartupException(e.getMessage(), e);
        }
        DaemonLog.info("backend: " + backend.description());

        AgentConfig.Sampling s = config.sampling();
        sampler = new Sampler(backend.opener(), SamplerConfig.DEFAULTS.withInterval(s.interval())
                .withSlowEveryTicks(s.slowEvery()).withWatchdogTimeout(s.callTimeout()), clock, System::nanoTime);
        opened.add(sampler);
        device = new DeviceChoice(config.device());
        long total = deviceTotal(sampler.collectOnce());

        SchedulerConfig schedulerConfig = schedulerConfig(total);
        ThreadFactory daemonThreads = named("gpu-agent-timer");
        timers = new ScheduledThreadPoolExecutor(1, daemonThreads);
        timers.setRemoveOnCancelPolicy(true);
        journal = openJournal(clock);

        metrics = GpuMetrics.builder().services(config.services().stream().map(ServiceConfig::name).toList())
                .perProcessSeries(config.exporter().pidLabels()).build();
        ThreadPoolExecutor actuatorPool = new ThreadPoolExecutor(4, 4, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                named("actuator"));
        actuatorPool.allowCoreThreadTimeOut(true);
        actuators = actuatorPool;
        ThreadPoolExecutor reportingPool = new ThreadPoolExecutor(1, 1, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                named("events"));
        reportingPool.allowCoreThreadTimeOut(true);
        reporting = reportingPool;

        Optional<SimulatedServices> sim = backend.simulator().map(host -> new SimulatedServices(host.device(0), timers,
                SIM_START_DELAY, priorities()));
        Notifier notifier = new Notifier(config.notifications().sinks(), config.notifications().instance()
                .orElseGet(() -> defaultInstance(o.metricsListen().orElse(config.listen().metrics()))), this::http,
                new ScheduledExecutorTimers(timers, clock), clock);
        EventReporter events = new EventReporter(metrics.scheduler(), notifier, reporting);
        AdmissionController.Builder b = AdmissionController.builder(schedulerConfig, clock,
                        new ScheduledExecutorTimers(timers, clock))
                .journal(journal).evictor(new ActuatorEvictor(actuators(sim), actuators, clock))
                .listener(events).zone(ZoneId.systemDefault());
        sim.ifPresent(b::listener);
        try {
            ledger = b.build();
        } catch (RuntimeException e) {
            closeJournal(journal);
            throw e;
        }
        opened.add(ledger);
        LedgerView view = ledger.view();
        if (!view.leases().isEmpty()) {
            DaemonLog.info("ledger: " + view.leases().size() + " lease(s) recovered from " + journal.file() + " ("
                    + ByteSize.format(view.leasedBytes()) + ")");
        }
        sim.ifPresent(x -> x.adopt(view.leases()));
        journal.onHealthChange(this::publishLedger);
        publishLedger();

        // On the simulator its processes stand in for the units and containers, and this host's
        // cgroups describe other processes: checking systemd:ollama.service here would reclaim the
        // simulated Ollama's lease. So cgroups are read on the NVML backend only.
        Optional<CgroupAttributor> cgroups = sim.isPresent() ? Optional.empty()
                : Optional.of(new CgroupAttributor(CgroupAttributor.DEFAULT_PROC, ledger::view, config.services()));
        AttributionChain attributor = new AttributionChain(new LeasePidAttributor(ledger::view), cgroups,
                sim.<List<ProcessAttributor>>map(List::of).orElse(List.of()),
                sim.isPresent() ? ContainerNames.NONE : new ContainerNames(config.exporter().containerStores()));
        HolderLiveness liveness = sim.isPresent() ? HolderLiveness.processes()
                : new CgroupLiveness(CgroupLiveness.DEFAULT_ROOT, HolderLiveness.processes());

        HostPort metricsAt = o.metricsListen().orElse(config.listen().metrics());
        HostPort apiAt = o.apiListen().orElse(config.listen().api());
        try {
            metricsServer = MetricsServer.start(metrics, metricsAt.toSocketAddress());
        } catch (IOException e) {
            throw new StartupException(oneLine(e), e);
        }
        opened.add(metricsServer);
        try {
            apiServer = ApiServer.start(apiAt.toSocketAddress(), token, ledger, this::status, this::publishLedger);
        } catch (IOException e) {
            throw new StartupException(oneLine(e), e);
        }
        opened.add(apiServer);
        if (ApiServer.beyondLoopback(apiServer.address())) {
            DaemonLog.warn("the API listens on " + hostPort(apiServer.address().getHostString(), apiServer.port())
                    + ", beyond this host: whoever reaches it with the token in " + stateDir.resolve(ApiToken.FILE_NAME)
                    + " can admit and release leases, and the token crosses the network in plain HTTP "
                    + "(listen.api: 127.0.0.1:9849 keeps it local)");
        }

        sampler.addListener(metrics.listener(attributor));
        sampler.addListener(new LedgerObserver(ledger, device, attributor, liveness, observation -> publishLedger()));
        sampler.addListener(events);
        sampler.start();

        DaemonLog.info("listening: metrics http://" + hostPort(metricsServer.address().getHostString(),
                metricsServer.port()) + "/metrics, API http://" + hostPort(apiServer.address().getHostString(),
                apiServer.port()) + "/v1");
        DaemonLog.info("gpu-agent " + Version.get() + " ready: " + (sim.isPresent() ? "simulated " : "") + "GPU "
                + config.device() + ", budget " + ByteSize.format(view.budgetBytes()) + " ("
                + ByteSize.format(view.deviceTotalBytes()) + " minus " + ByteSize.format(view.headroomBytes())
                + " headroom), services " + String.join(", ", config.services().stream().map(ServiceConfig::name)
                .toList()) + "; configuration " + o.configSource() + "; state in " + stateDir);
        reportFailOpenStarts(events, clock);
    }

    /** What clients recorded while the agent was away ({@link FailOpenRecord}): reported once, then emptied. */
    private void reportFailOpenStarts(EventReporter events, InstantSource clock) {
        try {
            FailOpenRecord.Contents record = FailOpenRecord.drain(stateDir);
            if (!record.isEmpty()) {
                events.failOpen(record, clock.instant());
            }
        } catch (IOException | RuntimeException e) {
            DaemonLog.warn("cannot read the fail-open record " + FailOpenRecord.file(stateDir) + ": "
                    + DaemonLog.describe(e) + "; starts made without the agent are not reported");
        }
    }

    private static String hostPort(String host, int port) {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }

    /** The selected GPU's memory from the first collect; the configured size when NVML gives none. */
    private long deviceTotal(GpuSnapshot first) throws StartupException {
        if (first.status() != GpuSnapshot.Status.OK) {
            long t = config.deviceMemoryBytes().orElse(FALLBACK_TOTAL);
            DaemonLog.warn("the first GPU sample failed (" + first.statusDetail().orElse(first.status().name())
                    + "); budgeting for " + ByteSize.format(t) + " until NVML answers");
            return t;
        }
        DeviceSnapshot d = device.select(first).orElseThrow(() -> new StartupException(device.notFound(first)));
        Optional<MemoryInfo> mem = d.memory();
        if (mem.isEmpty() || mem.get().totalBytes() <= 0) {
            long t = config.deviceMemoryBytes().orElse(FALLBACK_TOTAL);
            DaemonLog.warn("GPU " + d.index() + " did not report its memory; budgeting for " + ByteSize.format(t));
            return t;
        }
        DaemonLog.info("GPU " + d.index() + ": " + d.name() + " (" + d.uuid() + "), "
                + ByteSize.format(mem.get().totalBytes()) + first.driverVersion().map(v -> ", driver " + v).orElse(""));
        return mem.get().totalBytes();
    }

    /**
     * The ledger's configuration on a device of {@code total} bytes. Refuses services that could
     * never be admitted on this GPU: the fit check check-config runs against {@code device-memory}.
     */
    private SchedulerConfig schedulerConfig(long total) throws StartupException {
        try {
            return config.schedulerConfig(total);
        } catch (ConfigException e) {
            throw new StartupException("the configuration does not fit this GPU (" + ByteSize.format(total) + "): "
                    + e.problems().stream().map(p -> p.path() + ": " + p.message()).collect(Collectors.joining("; ")), e);
        }
    }

    private FileJournal openJournal(InstantSource clock) throws StartupException {
        FileJournal.Options options = FileJournal.Options.defaults();
        options = options.withRetries(new ScheduledExecutorTimers(timers, clock), options.firstRetry(),
                options.longestRetry());
        try {
            return FileJournal.open(stateDir, clock, options);
        } catch (JournalCorruptedException e) {
            throw new StartupException(e.getMessage(), e);
        } catch (IOException e) {
            throw new StartupException("cannot open the ledger journal: " + oneLine(e), e);
        }
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

    /** Each preemptible service's actuator; on the simulator, one that acts on the simulator instead. */
    private Map<String, Actuator> actuators(Optional<SimulatedServices> sim) {
        Map<String, Actuator> m = new LinkedHashMap<>();
        for (ServiceConfig sc : config.services()) {
            ServiceConfig.Preemption p = sc.preemption();
            Actuator real = switch (p.action()) {
                case NONE -> null;
                case OLLAMA_UNLOAD -> new OllamaUnloader(URI.create(p.target().orElseThrow()), this::http);
                case RESTART_UNIT -> CommandActuator.restartUnit(p.target().orElseThrow());
                case STOP_UNIT -> CommandActuator.stopUnit(p.target().orElseThrow());
                case STOP_CONTAINER -> CommandActuator.stopContainer(p.target().orElseThrow());
            };
            if (real == null) {
                continue;
            }
            m.put(sc.name(), sim.<Actuator>map(x -> new SimulatedEviction(real, x, SIM_EVICTION_DELAY)).orElse(real));
        }
        return m;
    }

    /**
     * How the agent's alerts name this host when the configuration does not say: the host name and
     * the metrics port, which is how Prometheus names the scrape target when it scrapes by host name.
     */
    static String defaultInstance(HostPort metrics) {
        String host;
        try {
            host = java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.net.UnknownHostException e) {
            host = "localhost";
        }
        return host + ":" + metrics.port();
    }

    /** One shared java.net.http client, made on first use (Ollama, webhooks): it costs threads and memory. */
    private HttpClient http() {
        HttpClient c = httpClient;
        if (c == null) {
            synchronized (this) {
                c = httpClient;
                if (c == null) {
                    c = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
                            .followRedirects(HttpClient.Redirect.NEVER).build();
                    httpClient = c;
                }
            }
        }
        return c;
    }

    /**
     * Hands the ledger's latest view to the metrics when it is newer than the last one handed over.
     * Synchronized so that two callers cannot publish an older view after a newer one.
     */
    private synchronized void publishLedger() {
        LedgerView v = ledger.view();
        Journal.Health h = journal.health();
        if (v.version() <= publishedViewVersion && h.equals(publishedJournalHealth)) {
            return;
        }
        publishedViewVersion = v.version();
        publishedJournalHealth = h;
        List<SchedulerMetricsView.ServiceVram> services = new ArrayList<>();
        for (LedgerView.ServiceUsage u : v.services()) {
            services.add(new SchedulerMetricsView.ServiceVram(u.service(), u.leasedBytes(), u.observedBytes()));
        }
        metrics.publish(new SchedulerMetricsView(v.budgetBytes(), v.committedBytes(), services, v.queue().size(),
                new SchedulerMetricsView.Journal(h.writable(), h.failedWrites(), h.problem())));
    }

    /** The body of {@code GET /v1/status}. */
    Map<String, Object> status() {
        LedgerView v = ledger.view();
        GpuSnapshot snap = sampler.latest();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("version", Version.get());
        m.put("backend", backend.name());
        m.put("startedAt", startedAt.toString());
        m.put("stateDir", stateDir.toString());
        Map<String, Object> gpu = new LinkedHashMap<>();
        gpu.put("status", snap.status().name().toLowerCase(Locale.ROOT));
        snap.statusDetail().ifPresent(d -> gpu.put("statusDetail", d));
        gpu.put("collectedAt", snap.collectedAt().toString());
        snap.driverVersion().ifPresent(x -> gpu.put("driverVersion", x));
        m.put("gpu", gpu);

        Map<String, Object> budget = new LinkedHashMap<>();
        budget.put("deviceTotalBytes", v.deviceTotalBytes());
        budget.put("headroomBytes", v.headroomBytes());
        budget.put("budgetBytes", v.budgetBytes());
        budget.put("committedBytes", v.committedBytes());
        budget.put("leasedBytes", v.leasedBytes());
        budget.put("freeBytes", v.freeBytes());
        budget.put("unattributedBytes", v.unattributedBytes());
        budget.put("observedAt", v.observedAt().map(Instant::toString).orElse(null));
        m.put("budget", budget);

        List<Map<String, Object>> devices = new ArrayList<>();
        Optional<DeviceSnapshot> selected = device.select(snap);
        for (DeviceSnapshot d : snap.devices()) {
            Map<String, Object> dm = new LinkedHashMap<>();
            dm.put("index", d.index());
            dm.put("uuid", d.uuid());
            dm.put("name", d.name());
            dm.put("arbitrated", selected.isPresent() && selected.get().index() == d.index());
            d.memory().ifPresent(mem -> {
                dm.put("memoryTotalBytes", mem.totalBytes());
                dm.put("memoryUsedBytes", mem.usedBytes());
                dm.put("memoryFreeBytes", mem.freeBytes());
            });
            d.utilization().ifPresent(u -> dm.put("utilizationPercent", u.gpuPercent()));
            d.temperatureCelsius().ifPresent(t -> dm.put("temperatureCelsius", t));
            d.powerUsageMilliwatts().ifPresent(p -> dm.put("powerWatts", p / 1000.0));
            devices.add(dm);
        }
        m.put("devices", devices);

        List<Map<String, Object>> services = new ArrayList<>();
        for (LedgerView.ServiceUsage u : v.services()) {
            Map<String, Object> sm = new LinkedHashMap<>();
            sm.put("service", u.service());
            sm.put("priority", u.priority().label());
            config.service(u.service()).ifPresent(sc -> {
                sm.put("requestBytes", sc.requestBytes());
                sm.put("failMode", sc.failMode().label());
                sm.put("preemption", sc.preemption().action().label());
            });
            sm.put("leasedBytes", u.leasedBytes());
            sm.put("observedBytes", u.observedBytes());
            sm.put("activeLeases", u.activeLeases());
            sm.put("evictingLeases", u.evictingLeases());
            services.add(sm);
        }
        m.put("services", services);
        m.put("leases", LeaseJson.of(v.leases()));
        List<Map<String, Object>> queue = new ArrayList<>();
        for (LedgerView.QueuedRequest q : v.queue()) {
            Map<String, Object> qm = new LinkedHashMap<>();
            qm.put("position", q.position());
            qm.put("requestId", q.requestId());
            qm.put("service", q.service());
            qm.put("priority", q.priority().label());
            qm.put("bytes", q.bytes());
            qm.put("holder", q.holder().orElse(null));
            qm.put("submittedAt", q.submittedAt().toString());
            qm.put("deadline", q.deadline().toString());
            qm.put("awaitedEvictions", LeaseJson.ids(q.awaitedEvictions()));
            queue.add(qm);
        }
        m.put("queue", queue);
        return m;
    }

    public int apiPort() {
        return apiServer.port();
    }

    public int metricsPort() {
        return metricsServer.port();
    }

    /** Blocks until {@link #close()} has finished. */
    public void awaitStopped() throws InterruptedException {
        stopped.await();
    }

    /**
     * Stops in an order that loses nothing: refuse new API requests, close the ledger (waiting
     * requests are refused, the journal synced and closed), stop listening, stop sampling.
     * Idempotent; safe from a shutdown hook.
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
            closeQuietly();
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

    private void closeQuietly() {
        if (apiServer != null) {
            apiServer.beginShutdown();
        }
        for (int i = opened.size() - 1; i >= 0; i--) {
            AutoCloseable c = opened.get(i);
            if (c == apiServer || c == metricsServer || c == sampler) {
                continue;
            }
            closeOne(c);
        }
        closeOne(apiServer);
        closeOne(sampler);
        closeOne(metricsServer);
        opened.clear();
        for (ExecutorService e : new ExecutorService[] {timers, actuators}) {
            if (e != null) {
                e.shutdownNow();
            }
        }
        if (reporting != null) {
            reporting.shutdown();
            try {
                reporting.awaitTermination(2, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static void closeOne(AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception e) {
            DaemonLog.warn("while stopping: " + c.getClass().getSimpleName(), e);
        }
    }

    private static String oneLine(Throwable e) {
        return e.getMessage() == null ? DaemonLog.describe(e) : e.getMessage();
    }

    private static ThreadFactory named(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
