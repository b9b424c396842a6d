package org.gpuagent.agent.ollama;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.gpuagent.agent.actuate.ActuatorEvictor;
import org.gpuagent.agent.actuate.LeaseActions;
import org.gpuagent.agent.config.AgentConfig;
import org.gpuagent.agent.config.HostPort;
import org.gpuagent.agent.sizing.LearnedSizes;
import org.gpuagent.nvml.sim.GpuProfile;
import org.gpuagent.nvml.sim.SimProcess;
import org.gpuagent.nvml.sim.SimulatedDevice;
import org.gpuagent.nvml.sim.SimulatedGpuHost;
import org.gpuagent.scheduler.AdmissionController;
import org.gpuagent.scheduler.ByteSize;
import org.gpuagent.scheduler.Headroom;
import org.gpuagent.scheduler.Lease;
import org.gpuagent.scheduler.LedgerEvent;
import org.gpuagent.scheduler.LedgerView;
import org.gpuagent.scheduler.Observation;
import org.gpuagent.scheduler.PriorityClass;
import org.gpuagent.scheduler.ScheduledExecutorTimers;
import org.gpuagent.scheduler.SchedulerConfig;
import org.gpuagent.scheduler.Service;
import org.gpuagent.scheduler.journal.FileJournal;

/**
 * The proxy as the agent runs it, around a {@link FakeOllama} on a simulated Quadro P1000: a
 * journaled ledger with Frigate (critical) and Ollama (batch, preemptible), the per-lease unload
 * actions, and an observer that reads the simulated GPU every 50 ms the way the agent's
 * {@code LedgerObserver} does (a model's process is its model lease's holder; a Frigate process
 * started by the test is Frigate's lease holder).
 */
final class ProxyRig implements AutoCloseable {
    static final long MIB = ByteSize.MIB;
    static final FakeOllama.Model SMALL = new FakeOllama.Model("small:1b", 1000 * MIB, 600 * MIB, 16, 2048, 32, 8);
    static final FakeOllama.Model LARGE = new FakeOllama.Model("large:3b", 1200 * MIB, 800 * MIB, 16, 2048, 32, 8);

    final Path stateDir;
    final SimulatedGpuHost host = SimulatedGpuHost.create(7, InstantSource.system(), GpuProfile.QUADRO_P1000);
    final SimulatedDevice gpu = host.device(0);
    final FakeOllama ollama;
    final ScheduledExecutorService exec = Executors.newScheduledThreadPool(4);
    /** Processes the test started, by pid: their service and holder. */
    final Map<Integer, String[]> holders = new ConcurrentHashMap<>();
    /** Every lease the ledger granted, as granted (before any resize). */
    final List<Lease> granted = new java.util.concurrent.CopyOnWriteArrayList<>();
    final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private final Duration wait;
    private final Duration bodyTimeout;
    AdmissionController ledger;
    OllamaAdmission proxy;
    LearnedSizes sizes;

    ProxyRig(Duration wait, Duration bodyTimeout) throws IOException {
        this.stateDir = Files.createTempDirectory("ollama-proxy");
        this.wait = wait;
        this.bodyTimeout = bodyTimeout;
        this.ollama = new FakeOllama(gpu, Duration.ofMillis(150)).add(SMALL).add(LARGE);
        start();
        exec.scheduleWithFixedDelay(this::observe, 0, 50, TimeUnit.MILLISECONDS);
    }

    /** Starts (or, after {@link #stopAgent}, restarts) the ledger from its journal, and the proxy. */
    void start() throws IOException {
        InstantSource clock = InstantSource.system();
        LeaseActions actions = new LeaseActions();
        Service frigate = Service.of("frigate", PriorityClass.CRITICAL, 512 * MIB, false);
        Service ollamaService = Service.of("ollama", PriorityClass.BATCH, 512 * MIB, true);
        SchedulerConfig config = new SchedulerConfig(gpu.profile().memory().totalBytes(), Headroom.fixed(192 * MIB),
                List.of(frigate, ollamaService));
        ledger = AdmissionController.builder(config, clock, new ScheduledExecutorTimers(exec, clock))
                .journal(FileJournal.open(stateDir, clock))
                .evictor(new ActuatorEvictor(Map.of(), actions, Executors.newCachedThreadPool(), clock))
                .listener(actions).listener(e -> {
                    if (e instanceof LedgerEvent.Admitted a) {
                        granted.add(a.lease());
                    }
                }).build();
        sizes = LearnedSizes.open(stateDir);
        AgentConfig.OllamaProxy cfg = new AgentConfig.OllamaProxy(new HostPort("127.0.0.1", 0), ollama.base(),
                "ollama", 256 * MIB, Duration.ofMillis(100), wait, 64 * 1024);
        proxy = OllamaAdmission.start(cfg, new LedgerModels(ledger, "ollama", actions, UnaryOperator.identity(),
                clock), ModelSizes.stored(sizes, "ollama", clock, () -> { }), clock, bodyTimeout);
    }

    /** Stops the proxy and the ledger (its journal synced and closed), as stopping the agent does. */
    void stopAgent() throws IOException {
        proxy.close();
        ledger.close();
    }

    /**
     * What the agent's observer would tell the ledger about the simulated GPU now: a model's
     * process is its model lease's holder; a process the test started under {@link #holders} is
     * that service's and holder's; Ollama's use is split among its model leases as the daemon does.
     */
    private void observe() {
        AdmissionController l = ledger;
        OllamaAdmission p = proxy;
        try {
            // one read of the process list, as one sampler collect: used memory and its processes
            // read apart could show a process that exits in between as unattributed use
            List<SimProcess> processes = gpu.processes();
            long used = processes.stream().mapToLong(SimProcess::usedBytes).sum();
            Observation.Builder b = Observation.builder(InstantSource.system().instant(),
                    gpu.profile().memory().totalBytes()).used(used);
            long attributed = 0;
            Map<String, Map<Optional<String>, Long>> byService = new java.util.LinkedHashMap<>();
            for (SimProcess proc : processes) {
                String model = ollama.modelOf(proc.pid());
                String[] serviceHolder = model != null ? new String[] {"ollama", ModelName.holder(model)}
                        : holders.get(proc.pid());
                if (serviceHolder == null) {
                    continue;
                }
                byService.computeIfAbsent(serviceHolder[0], k -> new java.util.LinkedHashMap<>())
                        .merge(Optional.of(serviceHolder[1]), proc.usedBytes(), Long::sum);
                attributed += proc.usedBytes();
            }
            byService.forEach((service, use) -> {
                Map<Optional<String>, Long> split = use;
                if (service.equals("ollama")) {
                    split = ModelUse.split(use, p.leases().observedByHolder());
                    p.leases().observedUse(split);
                }
                split.forEach((holder, bytes) -> b.holder(service, holder.orElseThrow(), bytes));
            });
            b.unattributed(Math.max(0, used - attributed));
            b.livenessKnown();
            for (Lease lease : l.view().leases()) {
                lease.holder().ifPresent(b::alive);
            }
            l.observe(b.build());
        } catch (RuntimeException e) {
            // the ledger is closed while the agent restarts
        }
    }

    /** Starts a process on the simulated GPU using {@code bytes}, attributed to {@code service}'s {@code holder}. */
    SimProcess run(String service, String holder, long bytes) {
        int pid = 8_000_000 + holders.size();
        SimProcess proc = gpu.startProcess(pid, service);
        if (bytes > proc.usedBytes()) {
            proc.allocate(bytes - proc.usedBytes());
        }
        holders.put(pid, new String[] {service, holder});
        return proc;
    }

    URI proxyUri(String path) {
        return URI.create("http://127.0.0.1:" + proxy.address().getPort() + path);
    }

    HttpResponse<String> post(URI uri, String body) throws IOException, InterruptedException {
        return client.send(HttpRequest.newBuilder(uri).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> generate(String model) throws IOException, InterruptedException {
        return post(proxyUri("/api/generate"), "{\"model\":\"" + model + "\",\"prompt\":\"hi\",\"stream\":false}");
    }

    /** The counted lease of {@code model}'s holder. */
    Optional<Lease> modelLease(String model) {
        return ledger.view().leases().stream()
                .filter(l -> l.holder().equals(Optional.of(ModelName.holder(model)))).findFirst();
    }

    /** The sizes the leases of {@code model} were granted at, in order. */
    List<Long> grantedSizes(String model) {
        return granted.stream().filter(l -> l.holder().equals(Optional.of(ModelName.holder(model))))
                .map(Lease::bytes).toList();
    }

    List<Lease> modelLeases() {
        return ledger.view().leases().stream()
                .filter(l -> l.holder().map(h -> h.startsWith(ModelName.HOLDER_PREFIX)).orElse(false)).toList();
    }

    LedgerView view() {
        return ledger.view();
    }

    /** Waits (at most 10 s) until {@code condition} holds; says what did not happen otherwise. */
    static void await(String what, java.util.function.BooleanSupplier condition) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(20);
        }
    }

    @Override
    public void close() throws IOException {
        exec.shutdownNow();
        proxy.close();
        ledger.close();
        ollama.close();
        try (var files = Files.walk(stateDir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
