package org.gpuagent.bench.exporter;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicLong;
import org.gpuagent.exporter.GpuMetrics;
import org.gpuagent.exporter.SchedulerMetricsView;
import org.gpuagent.exporter.Workload;
import org.gpuagent.exporter.WorkloadAttribution;
import org.gpuagent.exporter.WorkloadKind;
import org.gpuagent.exporter.WorkloadProcess;
import org.gpuagent.exporter.WorkloadRef;
import org.gpuagent.nvml.sampler.GpuSnapshot;
import org.gpuagent.nvml.sampler.Sampler;
import org.gpuagent.nvml.sampler.SamplerConfig;
import org.gpuagent.nvml.sim.GpuProfile;
import org.gpuagent.nvml.sim.SimulatedDevice;
import org.gpuagent.nvml.sim.SimulatedGpuHost;

/**
 * The benchmark's exporter state: a simulated P1000 with Frigate, Jellyfin, Immich and Ollama
 * (the default set), sampled three times in manual time, a ledger view and admission events; with
 * {@code workloads > 4}, that many workloads in all (the extra ones are systemd units and containers
 * of one process each, as the agent would supply them).
 */
final class HomelabMetrics {
    private static final long MIB = 1024L * 1024L;
    static final List<String> SERVICES = List.of("frigate", "jellyfin", "immich", "ollama");

    final GpuMetrics metrics;
    final GpuSnapshot snapshot;
    final List<Workload> workloads;

    HomelabMetrics(int workloadCount, boolean jvmMetrics) {
        ManualClock time = new ManualClock();
        SimulatedGpuHost host = SimulatedGpuHost.create(42, time, GpuProfile.QUADRO_P1000);
        metrics = GpuMetrics.builder().time(time, time::nanos).services(SERVICES).jvmMetrics(jvmMetrics).build();
        Map<Integer, WorkloadRef> byPid = new HashMap<>();
        SimulatedDevice gpu = host.device(0);
        start(gpu, byPid, 4100, "frigate", 348, 35, 0, 20);
        start(gpu, byPid, 4101, "frigate", 100, 5, 0, 30);
        start(gpu, byPid, 4200, "jellyfin", 150, 10, 40, 30);
        start(gpu, byPid, 4300, "immich", 900, 20, 0, 0);
        start(gpu, byPid, 4400, "ollama", 700, 0, 0, 0);
        WorkloadAttribution attribution = pid -> Optional.ofNullable(byPid.get(pid));
        GpuSnapshot last;
        try (Sampler sampler = new Sampler(host, SamplerConfig.DEFAULTS.withSlowEveryTicks(1), time, time::nanos)) {
            time.advance(Duration.ofSeconds(20));
            sampler.collectOnce();
            time.advance(Duration.ofSeconds(1));
            last = sampler.collectOnce();
        }
        List<Workload> all = new ArrayList<>(attribution.workloads(last));
        for (int i = all.size(); i < workloadCount; i++) {
            WorkloadKind kind = i % 2 == 0 ? WorkloadKind.UNIT : WorkloadKind.CONTAINER;
            String name = kind == WorkloadKind.UNIT ? "batch-" + i + ".service" : "container-" + i;
            all.add(new Workload(name, kind, List.of(new WorkloadProcess(10_000 + i, 0, OptionalLong.of(64 * MIB),
                    OptionalInt.of(i % 7), OptionalInt.of(i % 3), OptionalInt.of(0), OptionalInt.of(i % 5)))));
        }
        snapshot = last;
        workloads = List.copyOf(all);
        metrics.publish(snapshot, workloads);
        List<SchedulerMetricsView.ServiceVram> services = new ArrayList<>();
        for (String s : SERVICES) {
            services.add(new SchedulerMetricsView.ServiceVram(s, 900 * MIB, 800 * MIB));
        }
        metrics.publish(new SchedulerMetricsView(3904 * MIB, 3700 * MIB, services, 1));
        metrics.scheduler().admitted("frigate", false, Duration.ZERO);
        metrics.scheduler().admitted("ollama", true, Duration.ofMillis(2500));
        metrics.scheduler().denied("ollama", "insufficient_vram", Duration.ofMillis(1));
        metrics.scheduler().preempted("immich");
    }

    private static void start(SimulatedDevice gpu, Map<Integer, WorkloadRef> byPid, int pid, String service, long mib,
                              int sm, int enc, int dec) {
        gpu.startProcess(pid, service + "-" + pid).allocate(mib * MIB).setLoad(sm, enc, dec);
        byPid.put(pid, new WorkloadRef(service, WorkloadKind.SERVICE));
    }

    /** Wall time and a nano ticker that move only when told (the simulator reads no real clock). */
    static final class ManualClock implements InstantSource {
        private final Instant start = Instant.parse("2026-01-15T12:00:00Z");
        private final AtomicLong nanos = new AtomicLong();

        @Override
        public Instant instant() {
            return start.plusNanos(nanos.get());
        }

        long nanos() {
            return nanos.get();
        }

        void advance(Duration d) {
            nanos.addAndGet(d.toNanos());
        }
    }
}
