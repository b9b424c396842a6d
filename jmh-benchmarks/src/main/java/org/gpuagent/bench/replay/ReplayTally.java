package org.gpuagent.bench.replay;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.gpuagent.bench.replay.ReplayOutcome.Mark;
import org.gpuagent.bench.replay.ReplayOutcome.MarkKind;
import org.gpuagent.bench.replay.ReplayOutcome.Point;
import org.gpuagent.bench.replay.ReplayOutcome.ServiceStats;
import org.gpuagent.scheduler.LedgerView;

/**
 * What a {@link CardReplay} counts as its day goes: per service, arrivals and what became of them
 * (admitted, with the wait; denied; preempted; out of memory), the moments something went wrong,
 * and the committed VRAM over time. Times are from the start of the day.
 *
 * <p>The timeline keeps one point per change: a moment whose committed bytes equal the last
 * point's adds nothing, and a second change at the same moment replaces that moment's point.
 */
final class ReplayTally {
    private final List<String> serviceOrder;
    private final Map<String, ServiceStats> stats = new LinkedHashMap<>();
    private final List<Point> timeline = new ArrayList<>();
    private final List<Mark> marks = new ArrayList<>();
    private long peakCommitted;

    /** @param services the scenario's services, in the order the outcome lists them */
    ReplayTally(List<String> services) {
        this.serviceOrder = List.copyOf(services);
        for (String s : serviceOrder) {
            stats.put(s, new ServiceStats(s));
        }
    }

    void arrived(String service) {
        stats.get(service).arrived++;
    }

    /** Admitted; a positive {@code waited} counts as a wait in the queue. */
    void admitted(String service, Duration waited) {
        ServiceStats s = stats.get(service);
        s.admitted++;
        if (!waited.isZero() && !waited.isNegative()) {
            s.waits.add(waited);
        }
    }

    void denied(String service, Duration at) {
        stats.get(service).denied++;
        marks.add(new Mark(at, service, MarkKind.DENIED));
    }

    void preempted(String service, Duration at) {
        stats.get(service).preempted++;
        marks.add(new Mark(at, service, MarkKind.PREEMPTED));
    }

    void outOfMemory(String service, Duration at) {
        stats.get(service).outOfMemory++;
        marks.add(new Mark(at, service, MarkKind.OUT_OF_MEMORY));
    }

    /**
     * Records what the ledger commits at {@code at}: the peaks (overall and per service, a
     * service's commitment the larger of its leases and its observed use) and the timeline.
     */
    void committed(Duration at, LedgerView view) {
        peakCommitted = Math.max(peakCommitted, view.committedBytes());
        long[] committed = new long[serviceOrder.size()];
        for (int k = 0; k < committed.length; k++) {
            String s = serviceOrder.get(k);
            committed[k] = view.service(s).map(u -> Math.max(u.leasedBytes(), u.observedBytes())).orElse(0L);
            ServiceStats st = stats.get(s);
            st.peakCommittedBytes = Math.max(st.peakCommittedBytes, committed[k]);
        }
        if (!timeline.isEmpty()) {
            Point last = timeline.get(timeline.size() - 1);
            if (Arrays.equals(last.committedBytes(), committed)) {
                return;
            }
            if (last.at().equals(at)) {
                timeline.remove(timeline.size() - 1);
            }
        }
        timeline.add(new Point(at, committed));
    }

    /** The day's outcome under {@code policy}, on the card and budget {@code view} gives. */
    ReplayOutcome outcome(String policy, LedgerView view) {
        return new ReplayOutcome(policy, view.deviceTotalBytes(), view.budgetBytes(), peakCommitted, stats,
                List.copyOf(timeline), List.copyOf(marks));
    }
}
