package org.gpuagent.exporter;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;
import org.gpuagent.nvml.NvmlReturn;
import org.gpuagent.nvml.ProcessInfo.ProcessKind;
import org.gpuagent.nvml.sampler.GpuSnapshot;
import org.gpuagent.nvml.sampler.Sampler;
import org.gpuagent.nvml.sampler.SamplerConfig;
import org.gpuagent.nvml.sim.GpuProfile;
import org.gpuagent.nvml.sim.SimulatedDevice;
import org.gpuagent.nvml.sim.SimulatedGpuHost;
import org.gpuagent.scheduler.testing.ManualTime;

/**
 * The owner's host in the simulator, in manual time: one Quadro P1000 shared by Frigate (two
 * processes), Jellyfin, Immich and Ollama, a transcoding job in a stray systemd unit, and a display
 * server nobody accounts for; three collects one second apart, an Xid and one failed NVML call;
 * a ledger view and some admission events. Everything is fixed by the seed and the clock.
 */
final class HomelabScenario implements AutoCloseable {
    static final long MIB = 1024L * 1024L;
    static final long SEED = 42;
    static final List<String> SERVICES = List.of("frigate", "jellyfin", "immich", "ollama");
    static final long P1000_TOTAL_BYTES = 4096 * MIB;

    /** Families whose values depend on the JVM or on how often the test scraped. */
    static final Predicate<String> DETERMINISTIC = name -> !name.startsWith("jvm_") && !name.startsWith("process_")
            && !name.startsWith(DropwizardSeries.SCRAPES);

    /** {@code exposition} without the lines of the families {@link #DETERMINISTIC} rejects. */
    static String deterministicLines(String exposition) {
        StringBuilder out = new StringBuilder(exposition.length());
        for (String line : exposition.split("\n", -1)) {
            String name;
            if (line.startsWith("# ")) {
                String[] parts = line.split(" ", 4);
                name = parts.length > 2 ? parts[2] : "";
            } else {
                int end = line.indexOf('{');
                name = end >= 0 ? line.substring(0, end) : line.split(" ", 2)[0];
            }
            if (DETERMINISTIC.test(name)) {
                out.append(line).append('\n');
            }
        }
        out.setLength(Math.max(0, out.length() - 1));
        return out.toString();
    }

    final ManualTime time = new ManualTime();
    final SimulatedGpuHost host = SimulatedGpuHost.create(SEED, time, GpuProfile.QUADRO_P1000);
    final Sampler sampler = new Sampler(host, SamplerConfig.DEFAULTS.withSlowEveryTicks(1), time, time.ticker());
    final Map<Integer, WorkloadRef> attribution = new HashMap<>();
    final GpuMetrics metrics;

    HomelabScenario(boolean perProcessSeries) {
        metrics = GpuMetrics.builder()
                .time(time, time.ticker())
                .services(SERVICES)
                .perProcessSeries(perProcessSeries)
                .build();
        sampler.addListener(metrics.listener(attribution()));
    }

    static HomelabScenario started() {
        HomelabScenario s = new HomelabScenario(false);
        s.run();
        return s;
    }

    /** Starts the processes, collects three times a second apart, raises events; returns the last snapshot. */
    GpuSnapshot run() {
        SimulatedDevice gpu = host.device(0);
        start(gpu, 4100, "frigate.detector", "frigate", WorkloadKind.SERVICE, 348, 35, 0, 20);
        start(gpu, 4101, "frigate.ffmpeg", "frigate", WorkloadKind.SERVICE, 100, 5, 0, 30);
        start(gpu, 4200, "jellyfin-ffmpeg", "jellyfin", WorkloadKind.SERVICE, 150, 10, 40, 30);
        start(gpu, 4300, "immich-ml", "immich", WorkloadKind.SERVICE, 900, 20, 0, 0);
        start(gpu, 4400, "ollama", "ollama", WorkloadKind.SERVICE, 700, 0, 0, 0);
        start(gpu, 4500, "handbrake", "handbrake-batch.service", WorkloadKind.UNIT, 64, 0, 25, 0);
        gpu.startProcess(4900, "Xorg", ProcessKind.GRAPHICS);

        host.failCall("nvmlDeviceGetFanSpeed", NvmlReturn.UNKNOWN, 1);
        time.advanceSeconds(20);
        sampler.collectOnce();
        gpu.raiseXid(13);
        time.advanceSeconds(1);
        sampler.collectOnce();
        time.advanceSeconds(1);
        GpuSnapshot last = sampler.collectOnce();

        SchedulerMetrics sm = metrics.scheduler();
        sm.admitted("frigate", false, Duration.ZERO);
        sm.admitted("jellyfin", false, Duration.ofMillis(2));
        sm.admitted("immich", false, Duration.ofMillis(3));
        sm.denied("ollama", "insufficient_vram", Duration.ofMillis(1));
        sm.preempted("immich");
        sm.admitted("ollama", true, Duration.ofMillis(2500));
        sm.denied("plex", "unknown_service", Duration.ZERO);
        // The ledger's view as the agent would build it: observed use from the workloads.
        List<Workload> workloads = attribution().workloads(last);
        long budget = P1000_TOTAL_BYTES - 192 * MIB;
        // Jellyfin runs over its lease; the stray unit and the display server count against the budget.
        long[] leased = {900 * MIB, 256 * MIB, 1100 * MIB, 900 * MIB};
        List<SchedulerMetricsView.ServiceVram> services = new java.util.ArrayList<>();
        long committed = last.devices().get(0).memory().orElseThrow().usedBytes();
        for (int i = 0; i < SERVICES.size(); i++) {
            String name = SERVICES.get(i);
            long observed = workloads.stream().filter(w -> w.name().equals(name)).mapToLong(Workload::memoryUsedBytes)
                    .sum();
            services.add(new SchedulerMetricsView.ServiceVram(name, leased[i], observed));
            committed += Math.max(0, leased[i] - observed);
        }
        metrics.publish(new SchedulerMetricsView(budget, committed, services, 1));
        // What the agent learned: Jellyfin's 4K HDR streams outgrow its request; Frigate has no history yet.
        metrics.publishLearnedSizes(List.of(
                new LearnedSizeSeries.Service("frigate", 1100 * MIB, 0, 0, 0, 0, 0),
                new LearnedSizeSeries.Service("jellyfin", 768 * MIB, 212, 310 * MIB, 1400 * MIB, 1444 * MIB,
                        1408 * MIB)));
        return last;
    }

    WorkloadAttribution attribution() {
        return pid -> Optional.ofNullable(attribution.get(pid));
    }

    private void start(SimulatedDevice gpu, int pid, String process, String workload, WorkloadKind kind, long mib,
                       int sm, int enc, int dec) {
        gpu.startProcess(pid, process).allocate(mib * MIB).setLoad(sm, enc, dec);
        attribution.put(pid, new WorkloadRef(workload, kind));
    }

    @Override
    public void close() {
        sampler.close();
    }
}
