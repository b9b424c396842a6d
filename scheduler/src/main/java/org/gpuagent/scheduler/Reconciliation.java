package org.gpuagent.scheduler;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * What each observation settles, once the accounts have taken it in: over-use raised, evictions
 * whose memory is back completed, leases whose holders are gone reclaimed, unattributed use
 * reported. Writer-only.
 */
final class Reconciliation {
    private final Accounts accounts;
    private final Retirement retire;
    private final Consumer<LedgerEvent> events;
    private long lastReportedUnattributed;

    Reconciliation(Accounts accounts, Retirement retire, Consumer<LedgerEvent> events) {
        this.accounts = accounts;
        this.retire = retire;
        this.events = events;
    }

    void settle(Observation o, Instant now) {
        for (LeaseGroup g : accounts.holderGroups()) {
            checkOverUse(g, now);
        }
        for (Accounts.ServiceState s : accounts.services()) {
            checkOverUse(s.holderless, now);
        }
        completeEvictions(o, now);
        reclaim(o, now);
        long unattributed = accounts.unattributed();
        if (unattributed > 0 && unattributed != lastReportedUnattributed) {
            events.accept(new LedgerEvent.UnattributedUse(now, unattributed, Sentences.unattributed(unattributed)));
        }
        lastReportedUnattributed = unattributed;
    }

    /** Raised when a group starts using more than it leased plus its tolerance; not repeated until it stops. */
    private void checkOverUse(LeaseGroup g, Instant now) {
        long tolerance = g.service.service.overUseToleranceBytes();
        boolean over = g.evicting == 0 && g.observedBytes > g.leasedBytes + tolerance;
        if (over && !g.overUse) {
            Optional<String> holder = Optional.ofNullable(g.holder);
            String name = g.service.service.name();
            events.accept(new LedgerEvent.OverUse(now, name, holder, g.leasedBytes, g.observedBytes, tolerance,
                    Sentences.overUse(name, holder, g.leasedBytes, g.observedBytes, tolerance)));
        }
        g.overUse = over;
    }

    /**
     * An evicting lease is done when an observation taken after its eviction began shows its group
     * using no more than its remaining active leases (plus the service's tolerance).
     */
    private void completeEvictions(Observation o, Instant now) {
        List<Accounts.Slot> done = new ArrayList<>();
        for (Accounts.Slot slot : accounts.slots()) {
            Lease l = slot.lease;
            if (l.state() != LeaseState.EVICTING || o.takenAt().isBefore(l.evictingSince().orElseThrow())) {
                continue;
            }
            LeaseGroup g = slot.group;
            long stillLeased = g.leasedBytes - g.evictingBytes;
            if (g.observedBytes <= stillLeased + g.service.service.overUseToleranceBytes()) {
                done.add(slot);
            }
        }
        for (Accounts.Slot slot : done) {
            retire.evicted(slot, now);
        }
    }

    /**
     * A lease with a holder or pids is reclaimed once the observation's liveness has shown none of
     * them alive for its service's grace period (counted from the first observation that missed them).
     */
    private void reclaim(Observation o, Instant now) {
        if (o.liveness().isEmpty()) {
            return;
        }
        Observation.Liveness live = o.liveness().get();
        List<Accounts.Slot> gone = new ArrayList<>();
        for (Accounts.Slot slot : accounts.slots()) {
            Lease l = slot.lease;
            if ((l.holder().isEmpty() && l.pids().isEmpty()) || o.takenAt().isBefore(l.grantedAt())) {
                continue;
            }
            boolean alive = (l.holder().isPresent() && live.holders().contains(l.holder().get()))
                    || l.pids().stream().anyMatch(live.pids()::contains);
            if (alive) {
                slot.goneSince = null;
                continue;
            }
            if (slot.goneSince == null) {
                slot.goneSince = o.takenAt();
            }
            if (!o.takenAt().isBefore(slot.goneSince.plus(slot.group.service.service.reconciliationGrace()))) {
                gone.add(slot);
            }
        }
        for (Accounts.Slot slot : gone) {
            retire.reclaimed(slot, now);
        }
    }
}
