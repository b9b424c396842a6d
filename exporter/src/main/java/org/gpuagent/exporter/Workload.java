package org.gpuagent.exporter;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.OptionalDouble;
import java.util.OptionalInt;

/**
 * GPU use of one service, systemd unit or container at one snapshot, as the agent attributed it
 * (pid → cgroup → unit or container → service). The input behind the {@code nvgpu_workload_*}
 * series; {@link WorkloadAttribution} builds these from a snapshot.
 *
 * @param name      the {@code workload} label: the service name, the unit name or the container name
 * @param kind      the {@code kind} label
 * @param processes its processes, one entry per (pid, GPU)
 */
public record Workload(String name, WorkloadKind kind, List<WorkloadProcess> processes) {
    public Workload {
        Objects.requireNonNull(name, "name");
        if (name.isBlank()) {
            throw new IllegalArgumentException("a workload needs a name");
        }
        Objects.requireNonNull(kind, () -> "workload " + name + ": kind");
        processes = List.copyOf(processes);
    }

    /** Σ of the processes' memory that NVML reported. */
    public long memoryUsedBytes() {
        long sum = 0;
        for (WorkloadProcess p : processes) {
            if (p.usedBytes().isPresent()) {
                sum += p.usedBytes().getAsLong();
            }
        }
        return sum;
    }

    /** Distinct pids (a process on two GPUs counts once). */
    public int processCount() {
        return pids().size();
    }

    /** Distinct pids, ascending. */
    public List<Integer> pids() {
        List<Integer> pids = new ArrayList<>(processes.size());
        for (WorkloadProcess p : processes) {
            if (!pids.contains(p.pid())) {
                pids.add(p.pid());
            }
        }
        pids.sort(null);
        return pids;
    }

    /**
     * Σ over its processes of the engine's per-process percent / 100: the share of one GPU's
     * engine this workload kept busy (summed over GPUs on a multi-GPU host, so it may exceed 1
     * there). Absent when none of its processes has a sample for the engine.
     */
    public OptionalDouble utilizationRatio(WorkloadEngine engine) {
        return utilizationRatio(engine, processes);
    }

    static OptionalDouble utilizationRatio(WorkloadEngine engine, List<WorkloadProcess> processes) {
        boolean any = false;
        int sum = 0;
        for (WorkloadProcess p : processes) {
            OptionalInt v = p.percent(engine);
            if (v.isPresent()) {
                any = true;
                sum += v.getAsInt();
            }
        }
        return any ? OptionalDouble.of(sum / 100.0) : OptionalDouble.empty();
    }
}
