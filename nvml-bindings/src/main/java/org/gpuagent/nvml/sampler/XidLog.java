package org.gpuagent.nvml.sampler;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Xid errors since the sampler started, per GPU (by UUID) and Xid number, and the last few
 * events. Survives re-initialisation: the counts belong to the sampler, not to a session. Guarded
 * by the sampler's collect lock; allocates only when an Xid arrives.
 */
final class XidLog {
    private final int recentLimit;
    /** count, device index, epoch second, nano of second: the last time each Xid was seen. */
    private final Map<XidKey, long[]> counts = new HashMap<>();
    private List<XidCount> countList = List.of();
    private final ArrayDeque<XidEvent> recent = new ArrayDeque<>();
    private List<XidEvent> recentList = List.of();

    XidLog(int recentLimit) {
        this.recentLimit = recentLimit;
    }

    void count(int deviceIndex, String uuid, long xid, Instant at) {
        long[] count = counts.computeIfAbsent(new XidKey(uuid, xid), k -> new long[4]);
        count[0]++;
        count[1] = deviceIndex;
        count[2] = at.getEpochSecond();
        count[3] = at.getNano();
        List<XidCount> list = new ArrayList<>(counts.size());
        for (Map.Entry<XidKey, long[]> en : counts.entrySet()) {
            long[] c = en.getValue();
            list.add(new XidCount((int) c[1], en.getKey().uuid(), en.getKey().xid(), c[0],
                    Instant.ofEpochSecond(c[2], c[3])));
        }
        list.sort(Comparator.comparingInt(XidCount::deviceIndex).thenComparing(XidCount::uuid)
                .thenComparingLong(XidCount::xid));
        countList = List.copyOf(list);
        if (recentLimit > 0) {
            recent.addLast(new XidEvent(deviceIndex, uuid, xid, at));
            while (recent.size() > recentLimit) {
                recent.removeFirst();
            }
            recentList = List.copyOf(recent);
        }
    }

    /** Sorted by GPU index, UUID and Xid; the same object until the next Xid. */
    List<XidCount> counts() {
        return countList;
    }

    /** Oldest first; the same object until the next Xid. */
    List<XidEvent> recent() {
        return recentList;
    }

    private record XidKey(String uuid, long xid) {
    }
}
