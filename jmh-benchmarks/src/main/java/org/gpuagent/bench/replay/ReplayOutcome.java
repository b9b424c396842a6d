package org.gpuagent.bench.replay;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What one policy did to one scenario's day: per-service counts, the committed VRAM over time and
 * the moments something went wrong. Everything in file order, so rendering it is deterministic.
 */
record ReplayOutcome(String policy, long deviceTotalBytes, long budgetBytes, long peakCommittedBytes,
        Map<String, ServiceStats> services, List<Point> timeline, List<Mark> marks) {

    /** Per service, over the workload instances that arrived. */
    static final class ServiceStats {
        final String service;
        int arrived;
        int admitted;
        /** Admitted after waiting in the queue (for memory, or for a preemption's victims). */
        final List<Duration> waits = new ArrayList<>();
        int preempted;
        int denied;
        /** Started, then failed to allocate on the card (possible only without per-request leases). */
        int outOfMemory;
        long peakCommittedBytes;

        ServiceStats(String service) {
            this.service = service;
        }
    }

    /**
     * Committed VRAM per service (the larger of its leases and its observed use) at one moment,
     * in scenario service order.
     */
    record Point(Duration at, long[] committedBytes) {
    }

    enum MarkKind { DENIED, PREEMPTED, OUT_OF_MEMORY }

    record Mark(Duration at, String service, MarkKind kind) {
    }
}
