package org.gpuagent.exporter;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import org.gpuagent.nvml.ProcessInfo;
import org.gpuagent.nvml.ProcessUtilizationSample;
import org.gpuagent.nvml.sampler.DeviceSnapshot;
import org.gpuagent.nvml.sampler.GpuSnapshot;

/**
 * Maps a pid to the workload it belongs to (the agent reads {@code /proc/PID/cgroup}); empty for a
 * process it cannot place, whose memory then counts as {@code nvgpu_memory_unattributed_bytes}.
 * Called once per process and snapshot, on the thread that publishes snapshots: it must be quick
 * (cache by pid) and must not block.
 */
@FunctionalInterface
public interface WorkloadAttribution {

    Optional<WorkloadRef> workloadOf(int pid);

    /**
     * Groups the processes of every GPU in {@code snapshot} into workloads, ordered by kind, then
     * name. A pid in both the compute and the graphics list of a GPU counts once (NVML reports the
     * same memory for both). Utilization comes from the newest per-process sample of each pid; when
     * the GPU answered the per-process call, a process without a sample was idle (0); when the call
     * failed or is unsupported, utilization is absent.
     */
    default List<Workload> workloads(GpuSnapshot snapshot) {
        Map<WorkloadRef, List<WorkloadProcess>> byWorkload = new LinkedHashMap<>();
        for (DeviceSnapshot d : snapshot.devices()) {
            Map<Integer, Long> memory = new LinkedHashMap<>();
            Map<Integer, Boolean> memoryKnown = new HashMap<>();
            addProcesses(d.computeProcesses(), memory, memoryKnown);
            addProcesses(d.graphicsProcesses(), memory, memoryKnown);
            Optional<List<ProcessUtilizationSample>> samples = d.processUtilization();
            Map<Integer, ProcessUtilizationSample> newest = new HashMap<>();
            samples.ifPresent(list -> {
                for (ProcessUtilizationSample s : list) {
                    ProcessUtilizationSample seen = newest.get(s.pid());
                    if (seen == null || s.timestampMicros() >= seen.timestampMicros()) {
                        newest.put(s.pid(), s);
                    }
                }
            });
            for (Map.Entry<Integer, Long> e : memory.entrySet()) {
                int pid = e.getKey();
                Optional<WorkloadRef> ref = workloadOf(pid);
                if (ref.isEmpty()) {
                    continue;
                }
                OptionalLong used = memoryKnown.get(pid) ? OptionalLong.of(e.getValue()) : OptionalLong.empty();
                WorkloadProcess p;
                if (samples.isEmpty()) {
                    p = new WorkloadProcess(pid, d.index(), used, OptionalInt.empty(), OptionalInt.empty(),
                            OptionalInt.empty(), OptionalInt.empty());
                } else {
                    ProcessUtilizationSample s = newest.get(pid);
                    p = new WorkloadProcess(pid, d.index(), used,
                            OptionalInt.of(s == null ? 0 : s.smPercent()),
                            OptionalInt.of(s == null ? 0 : s.memoryPercent()),
                            OptionalInt.of(s == null ? 0 : s.encoderPercent()),
                            OptionalInt.of(s == null ? 0 : s.decoderPercent()));
                }
                byWorkload.computeIfAbsent(ref.get(), k -> new ArrayList<>()).add(p);
            }
        }
        List<Workload> out = new ArrayList<>(byWorkload.size());
        for (Map.Entry<WorkloadRef, List<WorkloadProcess>> e : byWorkload.entrySet()) {
            out.add(new Workload(e.getKey().name(), e.getKey().kind(), e.getValue()));
        }
        out.sort(Comparator.comparing(Workload::kind).thenComparing(Workload::name));
        return out;
    }

    private static void addProcesses(Optional<List<ProcessInfo>> list, Map<Integer, Long> memory,
                                     Map<Integer, Boolean> memoryKnown) {
        if (list.isEmpty()) {
            return;
        }
        for (ProcessInfo p : list.get()) {
            long bytes = p.usedBytes().orElse(0);
            memory.merge(p.pid(), bytes, Math::max);
            memoryKnown.merge(p.pid(), p.usedBytes().isPresent(), Boolean::logicalOr);
        }
    }
}
