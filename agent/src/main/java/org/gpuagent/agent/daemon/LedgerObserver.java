package org.gpuagent.agent.daemon;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import org.gpuagent.agent.attribution.HolderLiveness;
import org.gpuagent.agent.attribution.ProcessAttributor;
import org.gpuagent.agent.logging.DaemonLog;
import org.gpuagent.nvml.MemoryInfo;
import org.gpuagent.nvml.ProcessInfo;
import org.gpuagent.nvml.sampler.DeviceSnapshot;
import org.gpuagent.nvml.sampler.GpuSnapshot;
import org.gpuagent.scheduler.AdmissionController;
import org.gpuagent.scheduler.Lease;
import org.gpuagent.scheduler.LedgerView;
import org.gpuagent.scheduler.Observation;

/**
 * Turns each sampler snapshot into the ledger's {@link Observation}: the selected GPU's total and
 * used memory, its processes attributed to lease holders and services, the rest unattributed, and
 * which holders and pids are alive.
 *
 * <p>Only snapshots whose process lists were read in that same collect are used (the sampler
 * reads them every {@code slow-every} ticks and carries them forward in between): mixing this
 * tick's used memory with an older process list would show a process that just allocated as
 * unattributed, counted twice next to its lease. A STALE, LOST or UNAVAILABLE snapshot is skipped;
 * the ledger keeps its last observation.
 *
 * <p>Accounting: {@code unattributed = device used − Σ attributed process memory}, at least 0. It
 * holds unmanaged processes and memory no process explains (driver-reserved memory on drivers
 * that report it as used). When the process lists cannot be read at all, nothing is attributed and
 * nothing counts as unattributed (else every lease would be counted twice).
 */
final class LedgerObserver implements Consumer<GpuSnapshot> {
    private final AdmissionController ledger;
    private final DeviceChoice device;
    private final ProcessAttributor attributor;
    private final HolderLiveness liveness;
    private final Consumer<Observation> observed;
    private volatile UseSplit split = (service, use) -> use;
    private boolean warnedNoProcesses;

    /**
     * Re-divides one service's observed use among its holders (the Ollama proxy gives each model
     * lease what {@code /api/ps} shows for it); must keep the total.
     */
    @FunctionalInterface
    interface UseSplit {
        Map<Optional<String>, Long> apply(String service, Map<Optional<String>, Long> use);
    }

    /**
     * @param observed called with each observation the ledger has applied (on the writer's
     *                 completion path: keep it short)
     */
    LedgerObserver(AdmissionController ledger, DeviceChoice device, ProcessAttributor attributor,
            HolderLiveness liveness, Consumer<Observation> observed) {
        this.ledger = ledger;
        this.device = device;
        this.attributor = attributor;
        this.liveness = liveness;
        this.observed = observed;
    }

    /** Sets how observed use is divided among a service's holders; default as attributed. */
    LedgerObserver withSplit(UseSplit s) {
        this.split = s;
        return this;
    }

    @Override
    public void accept(GpuSnapshot snapshot) {
        Optional<Observation> o = observe(snapshot, ledger.view());
        o.ifPresent(obs -> ledger.observe(obs).thenRun(() -> observed.accept(obs)));
    }

    /** The observation for {@code snapshot}, or empty when it must not be used (see the class comment). */
    Optional<Observation> observe(GpuSnapshot snapshot, LedgerView view) {
        if (snapshot.status() != GpuSnapshot.Status.OK) {
            return Optional.empty();
        }
        Optional<DeviceSnapshot> d = device.select(snapshot);
        if (d.isEmpty() || d.get().memory().isEmpty()) {
            return Optional.empty();
        }
        DeviceSnapshot dev = d.get();
        if (!dev.slowFieldsReadAt().equals(snapshot.collectedAt())) {
            return Optional.empty();
        }
        MemoryInfo mem = dev.memory().get();
        if (mem.totalBytes() <= 0) {
            return Optional.empty();
        }
        Observation.Builder b = Observation.builder(snapshot.collectedAt(), mem.totalBytes()).used(mem.usedBytes());
        Optional<List<ProcessInfo>> compute = dev.computeProcesses();
        Optional<List<ProcessInfo>> graphics = dev.graphicsProcesses();
        if (compute.isPresent() || graphics.isPresent()) {
            Map<Integer, Long> byPid = new HashMap<>();
            compute.ifPresent(l -> l.forEach(p -> byPid.merge(p.pid(), p.usedBytes().orElse(0), Math::max)));
            graphics.ifPresent(l -> l.forEach(p -> byPid.merge(p.pid(), p.usedBytes().orElse(0), Math::max)));
            long attributed = 0;
            Map<String, Map<Optional<String>, Long>> byService = new LinkedHashMap<>();
            for (Map.Entry<Integer, Long> e : byPid.entrySet()) {
                Optional<ProcessAttributor.Attribution> a = attributor.attribute(e.getKey());
                if (a.isEmpty()) {
                    continue;
                }
                long bytes = e.getValue();
                attributed += bytes;
                byService.computeIfAbsent(a.get().service(), k -> new LinkedHashMap<>())
                        .merge(a.get().holder(), bytes, Long::sum);
            }
            UseSplit s = split;
            byService.forEach((service, use) -> s.apply(service, use).forEach((holder, bytes) -> {
                if (holder.isPresent()) {
                    b.holder(service, holder.get(), bytes);
                } else {
                    b.service(service, bytes);
                }
            }));
            b.unattributed(Math.max(0, mem.usedBytes() - attributed));
        } else if (!warnedNoProcesses) {
            warnedNoProcesses = true;
            DaemonLog.warn("GPU " + dev.index() + " does not list its processes; observed use per service is "
                    + "unknown, so leases are counted at their size only");
        }
        b.livenessKnown();
        for (Lease lease : view.leases()) {
            for (Long pid : lease.pids()) {
                if (liveness.pidAlive(pid)) {
                    b.alivePid(pid);
                }
            }
            if (lease.holder().isPresent()) {
                String holder = lease.holder().get();
                Optional<Boolean> alive = liveness.holderAlive(holder);
                // A holder nobody can check lives as long as its pids, or for ever without any.
                if (alive.orElse(lease.pids().isEmpty())) {
                    b.alive(holder);
                }
            }
        }
        return Optional.of(b.build());
    }
}
