package org.gpuagent.scheduler;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The ledger's accounting: every lease, grouped, and what the groups commit against the budget.
 * Writer-only, like the rest of the ledger.
 *
 * <p>Leases are grouped by (service, holder); each service also has one group for its leases
 * without a holder. A holder group's observed use is what the observation shows for that holder;
 * a service's holderless group observes the service's use that its holder groups do not account
 * for (so use by a service's unleased processes still counts). Committed C = Σ over groups of
 * max(leased, observed) + unattributed, kept up to date incrementally and recomputed from scratch
 * on every observation. A group ({@link LeaseGroup}) is also the unit of preemption: evicting a
 * holder frees all it uses.
 */
final class Accounts {

    private record GroupKey(String service, String holder) {
    }

    /** One service's counts and its holderless group. */
    static final class ServiceState {
        final Service service;
        final LeaseGroup holderless;
        long observedBytes;
        long holderGroupsObserved;
        long leasedBytes;
        int active;
        int evicting;

        ServiceState(Service service) {
            this.service = service;
            this.holderless = new LeaseGroup(this, null);
        }
    }

    /** Where one lease stands: its current state and its group. */
    static final class Slot {
        Lease lease;
        final LeaseGroup group;
        /** When reconciliation first saw its holder gone; null while it is alive. */
        Instant goneSince;
        /**
         * When its holder last used it ({@code touch}); null when never. Not journaled: after a
         * restart every lease starts as never used, and age orders them until touched again.
         */
        Instant lastUsed;

        Slot(Lease lease, LeaseGroup group) {
            this.lease = lease;
            this.group = group;
        }
    }

    private final SchedulerConfig config;
    private final Logger log;
    private final Map<String, ServiceState> services = new LinkedHashMap<>();
    private final Set<String> configured;
    private final LinkedHashMap<LeaseId, Slot> leases = new LinkedHashMap<>();
    /** Holder groups in creation order, which is age order (a group's age is its first lease id). */
    private final LinkedHashMap<GroupKey, LeaseGroup> holderGroups = new LinkedHashMap<>();

    private Budget budget;
    private long committed;
    private long leased;
    private long unattributed;
    private Observation observation;
    private long version;

    /** @param log where a lease of a service no longer configured is told (the ledger's name) */
    Accounts(SchedulerConfig config, Logger log) {
        this.config = config;
        this.log = log;
        for (Service s : config.services()) {
            services.put(s.name(), new ServiceState(s));
        }
        configured = Set.copyOf(services.keySet());
        budget = config.budgetOn(config.deviceTotalBytes());
    }

    // ---- reading

    /** A configured service's state; null for one that is not configured (a recovered lease's may exist). */
    ServiceState configured(String name) {
        return configured.contains(name) ? services.get(name) : null;
    }

    /**
     * The state of the service a lease names; a recovered lease of a service no longer configured
     * gets one here: kept counted, never preempted.
     */
    ServiceState serviceOf(String name) {
        ServiceState s = services.get(name);
        if (s == null) {
            log.log(Level.WARNING, "a recovered lease belongs to service '" + name
                    + "', which is no longer configured; it stays counted until released or reclaimed");
            s = new ServiceState(new Service(name, PriorityClass.OPPORTUNISTIC, 1, false,
                    Service.DEFAULT_EVICTION_DEADLINE, Service.DEFAULT_RECONCILIATION_GRACE,
                    Service.DEFAULT_OVER_USE_TOLERANCE));
            services.put(name, s);
        }
        return s;
    }

    Slot slot(LeaseId id) {
        return leases.get(id);
    }

    /** Every lease, in grant order. */
    Collection<Slot> slots() {
        return leases.values();
    }

    /** The leases of {@code holder}, in grant order. */
    List<Slot> heldBy(String holder) {
        List<Slot> held = new ArrayList<>();
        for (Slot s : leases.values()) {
            if (s.lease.holder().isPresent() && s.lease.holder().get().equals(holder)) {
                held.add(s);
            }
        }
        return held;
    }

    /** Holder groups, oldest first. */
    Collection<LeaseGroup> holderGroups() {
        return holderGroups.values();
    }

    /** Every service known, configured ones first, each with its holderless group. */
    Collection<ServiceState> services() {
        return services.values();
    }

    Budget budget() {
        return budget;
    }

    long committed() {
        return committed;
    }

    long leased() {
        return leased;
    }

    long unattributed() {
        return unattributed;
    }

    /** What is free now: B − C, negative when over-committed. */
    long free() {
        return budget.bytes() - committed;
    }

    boolean fits(long bytes) {
        return committed + bytes <= budget.bytes();
    }

    /** The last observation; null before the first. */
    Observation observation() {
        return observation;
    }

    /** Changes with every change of the accounts. */
    long version() {
        return version;
    }

    /** C recomputed from scratch; must equal the incrementally kept value. */
    long recomputeCommitted() {
        long c = unattributed;
        for (LeaseGroup g : holderGroups.values()) {
            c += Math.max(g.leasedBytes, g.observedBytes);
        }
        for (ServiceState s : services.values()) {
            c += Math.max(s.holderless.leasedBytes, s.holderless.observedBytes);
        }
        return c;
    }

    /** Every lease now, in grant order. */
    List<Lease> leases() {
        Lease[] list = new Lease[leases.size()];
        int i = 0;
        for (Slot s : leases.values()) {
            list[i++] = s.lease;
        }
        return List.of(list);
    }

    /** Per service: leased, observed, active and evicting counts. */
    List<LedgerView.ServiceUsage> usage() {
        LedgerView.ServiceUsage[] usage = new LedgerView.ServiceUsage[services.size()];
        int i = 0;
        for (ServiceState s : services.values()) {
            usage[i++] = new LedgerView.ServiceUsage(s.service.name(), s.service.priority(), s.leasedBytes,
                    s.observedBytes, s.active, s.evicting);
        }
        return List.of(usage);
    }

    // ---- changing

    void add(Lease lease) {
        ServiceState s = serviceOf(lease.service());
        LeaseGroup g;
        if (lease.holder().isPresent()) {
            GroupKey key = new GroupKey(s.service.name(), lease.holder().get());
            g = holderGroups.get(key);
            if (g == null) {
                g = new LeaseGroup(s, key.holder());
                g.observedBytes = observation == null ? 0 : observation.holderBytes(key.holder());
                holderGroups.put(key, g);
                s.holderGroupsObserved += g.observedBytes;
                refreshHolderless(s);
            }
        } else {
            g = s.holderless;
        }
        if (g.members.isEmpty()) {
            g.age = lease.id().value();
        }
        Slot slot = new Slot(lease, g);
        g.members.put(lease.id(), slot);
        leases.put(lease.id(), slot);
        g.leasedBytes += lease.bytes();
        s.leasedBytes += lease.bytes();
        leased += lease.bytes();
        if (lease.state() == LeaseState.EVICTING) {
            g.evicting++;
            g.evictingBytes += lease.bytes();
            s.evicting++;
        } else {
            s.active++;
        }
        recontribute(g);
        version++;
    }

    /** Takes the lease out of every count; returns it as released. */
    Lease remove(Slot slot) {
        Lease lease = slot.lease;
        LeaseGroup g = slot.group;
        ServiceState s = g.service;
        leases.remove(lease.id());
        g.members.remove(lease.id());
        g.leasedBytes -= lease.bytes();
        s.leasedBytes -= lease.bytes();
        leased -= lease.bytes();
        if (lease.state() == LeaseState.EVICTING) {
            g.evicting--;
            g.evictingBytes -= lease.bytes();
            s.evicting--;
        } else {
            s.active--;
        }
        if (g.holder != null && g.members.isEmpty()) {
            committed -= g.contribution;
            g.contribution = 0;
            holderGroups.remove(new GroupKey(s.service.name(), g.holder));
            s.holderGroupsObserved -= g.observedBytes;
            refreshHolderless(s);
        } else {
            recontribute(g);
        }
        version++;
        return lease.released();
    }

    /**
     * Records a use of a counted lease; a time earlier than the one recorded is ignored (uses may
     * be reported out of order). Changes no count and no view (the version stays), and is not
     * journaled. False when the lease is not counted.
     */
    boolean touch(LeaseId id, Instant lastUsed) {
        Slot slot = leases.get(id);
        if (slot == null) {
            return false;
        }
        if (slot.lastUsed == null || lastUsed.isAfter(slot.lastUsed)) {
            slot.lastUsed = lastUsed;
        }
        return true;
    }

    /** The lease keeps its state and group, now with {@code bytes}. */
    void resize(Slot slot, long bytes) {
        Lease lease = slot.lease;
        long delta = bytes - lease.bytes();
        LeaseGroup g = slot.group;
        slot.lease = lease.withBytes(bytes);
        g.leasedBytes += delta;
        g.service.leasedBytes += delta;
        leased += delta;
        if (lease.state() == LeaseState.EVICTING) {
            g.evictingBytes += delta;
        }
        recontribute(g);
        version++;
    }

    /** The lease stays counted, now as EVICTING since {@code now}. */
    void markEvicting(Slot slot, Instant now) {
        LeaseGroup g = slot.group;
        slot.lease = slot.lease.evicting(now);
        g.evicting++;
        g.evictingBytes += slot.lease.bytes();
        g.service.evicting++;
        g.service.active--;
        version++;
    }

    /**
     * Takes in a sample: the device's total (and with it the budget), per-service and per-holder
     * use, unattributed use (use by services not configured included), and C from scratch.
     */
    void observe(Observation o) {
        observation = o;
        budget = config.budgetOn(o.deviceTotalBytes());
        long unconfigured = 0;
        for (Map.Entry<String, Long> e : o.bytesByService().entrySet()) {
            if (!services.containsKey(e.getKey())) {
                unconfigured += e.getValue();
            }
        }
        unattributed = o.unattributedBytes() + unconfigured;
        for (ServiceState s : services.values()) {
            s.observedBytes = o.serviceBytes(s.service.name());
            s.holderGroupsObserved = 0;
        }
        for (LeaseGroup g : holderGroups.values()) {
            g.observedBytes = o.holderBytes(g.holder);
            g.service.holderGroupsObserved += g.observedBytes;
        }
        for (ServiceState s : services.values()) {
            s.holderless.observedBytes = Math.max(0, s.observedBytes - s.holderGroupsObserved);
        }
        committed = unattributed;
        for (LeaseGroup g : holderGroups.values()) {
            g.contribution = Math.max(g.leasedBytes, g.observedBytes);
            committed += g.contribution;
        }
        for (ServiceState s : services.values()) {
            LeaseGroup g = s.holderless;
            g.contribution = Math.max(g.leasedBytes, g.observedBytes);
            committed += g.contribution;
        }
        version++;
    }

    private void recontribute(LeaseGroup g) {
        long c = Math.max(g.leasedBytes, g.observedBytes);
        committed += c - g.contribution;
        g.contribution = c;
    }

    private void refreshHolderless(ServiceState s) {
        s.holderless.observedBytes = Math.max(0, s.observedBytes - s.holderGroupsObserved);
        recontribute(s.holderless);
    }
}
