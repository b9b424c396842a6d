package org.gpuagent.agent.api;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.function.Function;
import org.gpuagent.agent.config.ServiceConfig;
import org.gpuagent.nvml.sampler.DeviceSnapshot;
import org.gpuagent.nvml.sampler.GpuSnapshot;
import org.gpuagent.scheduler.LedgerView;

/**
 * The body of {@code GET /v1/status} (and so of {@code gpu-agent status --json}): the agent, the
 * GPU's last sample, the budget, every device, each service's lease and use, the leases and the
 * queue. Fields a GPU does not report are left out, never given a sentinel.
 */
public final class StatusJson {
    private StatusJson() {
    }

    /** What the agent says about itself. */
    public record Agent(String version, String backend, Instant startedAt, Path stateDir) {
    }

    /**
     * @param arbitrated the NVML index of the GPU the ledger arbitrates, when the sample lists it
     * @param services   a service's configuration by name (its request, fail mode and preemption)
     */
    public static Map<String, Object> of(Agent agent, GpuSnapshot sample, OptionalInt arbitrated, LedgerView view,
            Function<String, Optional<ServiceConfig>> services) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("version", agent.version());
        m.put("backend", agent.backend());
        m.put("startedAt", agent.startedAt().toString());
        m.put("stateDir", agent.stateDir().toString());
        m.put("gpu", gpu(sample));
        m.put("budget", budget(view));
        m.put("devices", devices(sample, arbitrated));
        m.put("services", services(view, services));
        m.put("leases", LeaseJson.of(view.leases()));
        m.put("queue", queue(view));
        return m;
    }

    private static Map<String, Object> gpu(GpuSnapshot sample) {
        Map<String, Object> gpu = new LinkedHashMap<>();
        gpu.put("status", sample.status().name().toLowerCase(Locale.ROOT));
        sample.statusDetail().ifPresent(d -> gpu.put("statusDetail", d));
        gpu.put("collectedAt", sample.collectedAt().toString());
        sample.driverVersion().ifPresent(x -> gpu.put("driverVersion", x));
        return gpu;
    }

    private static Map<String, Object> budget(LedgerView v) {
        Map<String, Object> budget = new LinkedHashMap<>();
        budget.put("deviceTotalBytes", v.deviceTotalBytes());
        budget.put("headroomBytes", v.headroomBytes());
        budget.put("budgetBytes", v.budgetBytes());
        budget.put("committedBytes", v.committedBytes());
        budget.put("leasedBytes", v.leasedBytes());
        budget.put("freeBytes", v.freeBytes());
        budget.put("unattributedBytes", v.unattributedBytes());
        budget.put("observedAt", v.observedAt().map(Instant::toString).orElse(null));
        return budget;
    }

    private static List<Map<String, Object>> devices(GpuSnapshot sample, OptionalInt arbitrated) {
        List<Map<String, Object>> devices = new ArrayList<>();
        for (DeviceSnapshot d : sample.devices()) {
            Map<String, Object> dm = new LinkedHashMap<>();
            dm.put("index", d.index());
            dm.put("uuid", d.uuid());
            dm.put("name", d.name());
            dm.put("arbitrated", arbitrated.isPresent() && arbitrated.getAsInt() == d.index());
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
        return devices;
    }

    private static List<Map<String, Object>> services(LedgerView v,
            Function<String, Optional<ServiceConfig>> configured) {
        List<Map<String, Object>> services = new ArrayList<>();
        for (LedgerView.ServiceUsage u : v.services()) {
            Map<String, Object> sm = new LinkedHashMap<>();
            sm.put("service", u.service());
            sm.put("priority", u.priority().label());
            configured.apply(u.service()).ifPresent(sc -> {
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
        return services;
    }

    private static List<Map<String, Object>> queue(LedgerView v) {
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
        return queue;
    }
}
