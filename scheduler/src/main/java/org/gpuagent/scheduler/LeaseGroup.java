package org.gpuagent.scheduler;

import java.time.Instant;
import java.util.LinkedHashMap;

/**
 * The leases of one service and one holder (or the service's holderless leases), and what they
 * commit: the unit of preemption (evicting a holder frees all it uses). Its counts are kept by
 * {@link Accounts}, the only class that changes them; writer-only, like the rest of the ledger.
 */
final class LeaseGroup implements PreemptionPlanner.Candidate {
    final Accounts.ServiceState service;
    final String holder;
    final LinkedHashMap<LeaseId, Accounts.Slot> members = new LinkedHashMap<>();
    long leasedBytes;
    long evictingBytes;
    int evicting;
    long observedBytes;
    long contribution;
    long age;
    boolean overUse;

    LeaseGroup(Accounts.ServiceState service, String holder) {
        this.service = service;
        this.holder = holder;
    }

    @Override
    public PriorityClass priority() {
        return service.service.priority();
    }

    @Override
    public boolean preemptible() {
        return service.service.preemptible();
    }

    @Override
    public long releasableBytes() {
        return contribution;
    }

    @Override
    public long age() {
        return age;
    }

    /** The latest last use of its leases; {@link Instant#MIN} when none was ever touched. */
    @Override
    public Instant lastUsed() {
        Instant latest = Instant.MIN;
        for (Accounts.Slot s : members.values()) {
            if (s.lastUsed != null && s.lastUsed.isAfter(latest)) {
                latest = s.lastUsed;
            }
        }
        return latest;
    }

    boolean hasActive() {
        return evicting < members.size();
    }
}
