package org.gpuagent.scheduler;

import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * An immutable snapshot of the ledger, published after each batch of changes; safe to read from
 * any thread (the exporter, the HTTP status, the CLI).
 *
 * @param version           increases with every published change
 * @param deviceTotalBytes  from the last observation, or the configured total before one
 * @param headroomBytes     kept free
 * @param budgetBytes       B = total − headroom
 * @param committedBytes    C = Σ over lease groups of max(leased, observed) + observed use no lease
 *                          accounts for + unattributed use
 * @param leasedBytes       Σ bytes of counted (ACTIVE and EVICTING) leases; never above the budget
 *                          the ledger admitted them under
 * @param unattributedBytes from the last observation
 * @param observedAt        when the last observation was taken; empty before the first
 * @param leases            counted leases, in grant order
 * @param queue             waiting requests, in queue order (position 1 first)
 * @param services          per service, in configuration order (then any unconfigured service a
 *                          recovered lease still names)
 */
public record LedgerView(
        long version,
        long deviceTotalBytes,
        long headroomBytes,
        long budgetBytes,
        long committedBytes,
        long leasedBytes,
        long unattributedBytes,
        Optional<Instant> observedAt,
        List<Lease> leases,
        List<QueuedRequest> queue,
        List<ServiceUsage> services) {

    public LedgerView {
        Objects.requireNonNull(observedAt, "observedAt");
        leases = List.copyOf(leases);
        queue = List.copyOf(queue);
        services = List.copyOf(services);
    }

    public Optional<ServiceUsage> service(String name) {
        for (ServiceUsage s : services) {
            if (s.service().equals(name)) {
                return Optional.of(s);
            }
        }
        return Optional.empty();
    }

    /** B − C, at least 0: what a request could get right now. */
    public long freeBytes() {
        return Math.max(0, budgetBytes - committedBytes);
    }

    public Optional<Lease> lease(LeaseId id) {
        return leases.stream().filter(l -> l.id().equals(id)).findFirst();
    }

    /**
     * One service's share.
     *
     * @param leasedBytes   Σ of its counted leases
     * @param observedBytes its use in the last observation (0 before the first)
     */
    public record ServiceUsage(String service, PriorityClass priority, long leasedBytes, long observedBytes,
            int activeLeases, int evictingLeases) {
    }

    /**
     * A waiting request.
     *
     * @param awaitedEvictions the EVICTING leases it preempted and waits for
     */
    public record QueuedRequest(long requestId, String service, PriorityClass priority, long bytes,
            Optional<String> holder, int position, Instant submittedAt, Instant deadline,
            List<LeaseId> awaitedEvictions) {
        public QueuedRequest {
            awaitedEvictions = List.copyOf(awaitedEvictions);
        }
    }
}
