package org.gpuagent.nvml.sampler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.management.ManagementFactory;
import org.gpuagent.nvml.sim.ManualTime;
import org.junit.jupiter.api.Test;

/**
 * Guards the hot path against throwaway allocations (boxing, capturing lambdas, iterators, strings)
 * over a device that allocates nothing itself. Bytes, not time: the bound holds in the interpreter
 * too. The JMH {@code -prof gc} benchmark gives the precise figure.
 */
class SamplerAllocationTest {
    /** A fast collect holds: the snapshot, one device snapshot, its clock record, the memory Optional, two lists and an Instant or two. */
    private static final long FAST_COLLECT_BOUND = 512;
    /** A slow one adds the slow-field records (PCIe, thresholds, maximum clocks) and three list Optionals. */
    private static final long SLOW_COLLECT_BOUND = 896;
    private static final int ROUNDS = 20_000;

    @Test
    void aCollectAllocatesLittleMoreThanTheSnapshot() {
        long fast = bytesPerCollect(1_000_000);
        assertTrue(fast <= FAST_COLLECT_BOUND, "a fast collect allocated " + fast + " bytes");
        long slow = bytesPerCollect(1);
        assertTrue(slow <= SLOW_COLLECT_BOUND, "a slow collect allocated " + slow + " bytes");
        System.out.println("sampler allocation per collect over a constant device: fast " + fast + " B, slow " + slow + " B");
    }

    private static long bytesPerCollect(int slowEveryTicks) {
        java.lang.management.ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        assumeTrue(mx instanceof com.sun.management.ThreadMXBean, "needs per-thread allocation counters");
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) mx;
        assumeTrue(threads.isThreadAllocatedMemorySupported() && threads.isThreadAllocatedMemoryEnabled());

        ManualTime time = new ManualTime();
        ConstantNvml nvml = new ConstantNvml();
        try (Sampler sampler = new Sampler(() -> nvml, SamplerConfig.DEFAULTS.withSlowEveryTicks(slowEveryTicks), time,
                time.ticker())) {
            for (int i = 0; i < ROUNDS; i++) {
                sampler.collectOnce();
            }
            long id = Thread.currentThread().getId();
            long before = threads.getThreadAllocatedBytes(id);
            for (int i = 0; i < ROUNDS; i++) {
                sampler.collectOnce();
            }
            long perCollect = (threads.getThreadAllocatedBytes(id) - before) / ROUNDS;
            assertEquals(GpuSnapshot.Status.OK, sampler.latest().status());
            assertEquals(java.util.List.of(), sampler.latest().errors());
            return perCollect;
        }
    }
}
