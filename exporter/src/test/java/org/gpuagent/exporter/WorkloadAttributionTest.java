package org.gpuagent.exporter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import org.gpuagent.nvml.ProcessInfo;
import org.gpuagent.nvml.ProcessInfo.ProcessKind;
import org.gpuagent.nvml.ProcessUtilizationSample;
import org.gpuagent.nvml.sampler.GpuSnapshot;
import org.junit.jupiter.api.Test;

class WorkloadAttributionTest {
    private static final WorkloadRef FRIGATE = new WorkloadRef("frigate", WorkloadKind.SERVICE);
    private static final WorkloadRef WHISPER = new WorkloadRef("whisper", WorkloadKind.CONTAINER);
    private static final Map<Integer, WorkloadRef> PIDS = Map.of(10, FRIGATE, 11, FRIGATE, 20, WHISPER);
    private static final WorkloadAttribution BY_PID = pid -> Optional.ofNullable(PIDS.get(pid));

    private static ProcessInfo compute(int pid, long bytes) {
        return new ProcessInfo(pid, OptionalLong.of(bytes), ProcessKind.COMPUTE);
    }

    @Test
    void processesAreGroupedByWorkloadAcrossGpusAndUnknownPidsAreLeftOut() {
        GpuSnapshot s = TestSnapshots.ok(1, TestSnapshots.T0,
                TestSnapshots.device(0, "GPU-a").compute(compute(10, 100), compute(20, 50), compute(99, 70))
                        .samples(new ProcessUtilizationSample(10, 5, 30, 10, 0, 20),
                                new ProcessUtilizationSample(10, 9, 40, 12, 0, 25))
                        .build(),
                TestSnapshots.device(1, "GPU-b").compute(compute(11, 200)).build());
        List<Workload> w = BY_PID.workloads(s);
        assertEquals(List.of("frigate", "whisper"), w.stream().map(Workload::name).toList(),
                "services before containers, the unknown pid 99 in none");
        Workload frigate = w.get(0);
        assertEquals(300, frigate.memoryUsedBytes());
        assertEquals(2, frigate.processCount());
        assertEquals(List.of(10, 11), frigate.pids());
        assertEquals(0.40, frigate.utilizationRatio(WorkloadEngine.SM).getAsDouble(), 1e-9,
                "the newest sample of pid 10; GPU 1 gave no per-process samples");
        assertEquals(0.25, frigate.utilizationRatio(WorkloadEngine.DECODER).getAsDouble(), 1e-9);
        Workload whisper = w.get(1);
        assertEquals(0.0, whisper.utilizationRatio(WorkloadEngine.SM).getAsDouble(), 1e-9,
                "the GPU answered with samples and none was for pid 20: it was idle");
    }

    @Test
    void withoutPerProcessSamplesUtilizationIsAbsent() {
        GpuSnapshot s = TestSnapshots.ok(1, TestSnapshots.T0,
                TestSnapshots.device(0, "GPU-a").compute(compute(20, 50)).build());
        Workload whisper = BY_PID.workloads(s).get(0);
        for (WorkloadEngine e : WorkloadEngine.values()) {
            assertFalse(whisper.utilizationRatio(e).isPresent(), e.label());
        }
    }

    @Test
    void aPidInTheComputeAndTheGraphicsListCountsOnce() {
        GpuSnapshot s = TestSnapshots.ok(1, TestSnapshots.T0,
                TestSnapshots.device(0, "GPU-a").compute(compute(10, 300))
                        .graphics(new ProcessInfo(10, OptionalLong.of(300), ProcessKind.GRAPHICS)).build());
        Workload frigate = BY_PID.workloads(s).get(0);
        assertEquals(300, frigate.memoryUsedBytes());
        assertEquals(1, frigate.processCount());
    }

    @Test
    void memoryNvmlCouldNotReadIsAbsentButTheProcessCounts() {
        GpuSnapshot s = TestSnapshots.ok(1, TestSnapshots.T0, TestSnapshots.device(0, "GPU-a")
                .compute(new ProcessInfo(10, OptionalLong.empty(), ProcessKind.COMPUTE), compute(11, 64)).build());
        Workload frigate = BY_PID.workloads(s).get(0);
        assertEquals(64, frigate.memoryUsedBytes());
        assertEquals(2, frigate.processCount());
        assertTrue(frigate.processes().get(0).usedBytes().isEmpty());
    }

    @Test
    void badInputIsRefusedWithAMessage() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new WorkloadProcess(0, 0, OptionalLong.empty(), OptionalInt.empty(), OptionalInt.empty(),
                        OptionalInt.empty(), OptionalInt.empty()));
        assertTrue(e.getMessage().contains("pid"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new Workload(" ", WorkloadKind.UNIT, List.of()));
        assertTrue(e.getMessage().contains("name"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> WorkloadProcess.of(5, 0, -1));
        assertTrue(e.getMessage().contains("negative"), e.getMessage());
    }
}
