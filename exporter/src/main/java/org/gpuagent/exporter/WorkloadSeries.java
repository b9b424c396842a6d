package org.gpuagent.exporter;

import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.Unit;
import java.util.List;
import java.util.OptionalDouble;

/**
 * The workload families of a published snapshot ({@code nvgpu_workload_*}): what each service,
 * unit or container the agent attributed uses of the GPU. Labels {@code kind} and
 * {@code workload}, plus {@code engine}, and {@code pid} for the opt-in per-process series.
 */
final class WorkloadSeries {
    private WorkloadSeries() {
    }

    /**
     * The workload families: per workload its memory, its processes and its engines' busy share;
     * with {@code perProcessSeries}, the same per pid.
     */
    static void add(Families f, List<Workload> workloads, boolean perProcessSeries) {
        Families.Family mem = f.gauge("nvgpu_workload_memory_used_bytes", "Frame-buffer memory the workload's "
                + "processes use in bytes (workload: the service, systemd unit or container name; kind: service, "
                + "unit or container).", Unit.BYTES);
        Families.Family procs = f.gauge("nvgpu_workload_processes", "Processes of the workload holding a GPU "
                + "context.", null);
        Families.Family util = f.gauge("nvgpu_workload_utilization_ratio", "Share of a GPU engine the "
                + "workload's processes kept busy, from NVML's per-process samples, 0 to 1 per GPU (engine: sm, "
                + "memory, encoder, decoder).", Unit.RATIO);
        Families.Family pMem = null;
        Families.Family pUtil = null;
        if (perProcessSeries) {
            pMem = f.gauge("nvgpu_workload_process_memory_used_bytes", "Frame-buffer memory one process of the "
                    + "workload uses in bytes (opt-in: one series per pid).", Unit.BYTES);
            pUtil = f.gauge("nvgpu_workload_process_utilization_ratio", "Share of a GPU engine one process of "
                    + "the workload kept busy, 0 to 1 (opt-in: one series per pid).", Unit.RATIO);
        }
        for (Workload w : workloads) {
            Labels wl = Labels.of("kind", w.kind().label(), "workload", w.name());
            mem.add(wl, w.memoryUsedBytes());
            procs.add(wl, w.processCount());
            for (WorkloadEngine e : WorkloadEngine.values()) {
                OptionalDouble r = w.utilizationRatio(e);
                if (r.isPresent()) {
                    util.add(wl.add("engine", e.label()), r.getAsDouble());
                }
            }
            if (perProcessSeries) {
                for (int pid : w.pids()) {
                    List<WorkloadProcess> ofPid = w.processes().stream().filter(p -> p.pid() == pid).toList();
                    Labels pl = wl.add("pid", Integer.toString(pid));
                    long bytes = 0;
                    boolean known = false;
                    for (WorkloadProcess p : ofPid) {
                        if (p.usedBytes().isPresent()) {
                            known = true;
                            bytes += p.usedBytes().getAsLong();
                        }
                    }
                    if (known) {
                        pMem.add(pl, bytes);
                    }
                    for (WorkloadEngine e : WorkloadEngine.values()) {
                        OptionalDouble r = Workload.utilizationRatio(e, ofPid);
                        if (r.isPresent()) {
                            pUtil.add(pl.add("engine", e.label()), r.getAsDouble());
                        }
                    }
                }
            }
        }
    }
}
