package org.gpuagent.scheduler;

import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import org.gpuagent.scheduler.journal.Journal;
import org.gpuagent.scheduler.journal.JournalRecord;
import org.gpuagent.scheduler.journal.RecoveredLedger;

/**
 * The ledger's state and rules. Not thread-safe: only the single writer calls it
 * ({@link AdmissionController} arranges that); everything it hands out is immutable.
 *
 * <p><b>Accounting.</b> Leases are grouped by (service, holder); each service also has one group
 * for its leases without a holder. A holder group's observed use is what the observation shows for
 * that holder; a service's holderless group observes the service's use that its holder groups do
 * not account for (so use by a service's unleased processes still counts). Committed
 * C = Σ over groups of max(leased, observed) + unattributed, kept up to date incrementally and
 * recomputed from scratch on every observation. A group is also the unit of preemption: evicting
 * a holder frees all it uses.
 *
 * <p><b>Queue.</b> Waiting requests are ordered by priority, then arrival. Only the head is ever
 * admitted or allowed to preempt: a request never overtakes an earlier one of equal or higher
 * priority, even when it would fit (head-of-line blocking, so the head cannot starve; deadlines
 * bound every wait). A new request of higher priority than everything waiting becomes the head.
 */
final class VramLedger {
    private static final Logger LOG = System.getLogger(VramLedger.class.getName());

    private final SchedulerConfig config;
    private final InstantSource clock;
    private final Timers timers;
    private final Journal journal;
    private final Evictor evictor;
    private final Consumer<LedgerEvent> events;
    private final Consumer<Runnable> writer;
    private final Executor completions;
    private final Consumer<Runnable> settle;
    private final Sentences say;

    private final Map<String, ServiceState> services = new LinkedHashMap<>();
    private final Set<String> configured;
    private final LinkedHashMap<LeaseId, Slot> leases = new LinkedHashMap<>();
    /** Holder groups in creation order, which is age order (a group's age is its first lease id). */
    private final LinkedHashMap<GroupKey, Group> holderGroups = new LinkedHashMap<>();
    private final List<LinkedHashSet<Pending>> queue = new ArrayList<>();

    private long deviceTotal;
    private long headroom;
    private long budget;
    private long committed;
    private long leased;
    private long unattributed;
    private long lastReportedUnattributed;
    private Observation observation;
    private long nextLeaseId;
    private long version;
    private boolean closed;

    VramLedger(SchedulerConfig config, InstantSource clock, Timers timers, Journal journal, Evictor evictor,
            Consumer<LedgerEvent> events, Consumer<Runnable> writer, Executor completions, Consumer<Runnable> settle,
            Sentences say) {
        this.config = config;
        this.clock = clock;
        this.timers = timers;
        this.journal = journal;
        this.evictor = evictor;
        this.events = events;
        this.writer = writer;
        this.completions = completions;
        this.settle = settle;
        this.say = say;
        for (PriorityClass ignored : PriorityClass.values()) {
            queue.add(new LinkedHashSet<>());
        }
        for (Service s : config.services()) {
            services.put(s.name(), new ServiceState(s));
        }
        configured = Set.copyOf(services.keySet());
        setDevice(config.deviceTotalBytes());
        RecoveredLedger recovered = journal.recovered();
        nextLeaseId = recovered.nextLeaseId();
        for (Lease l : recovered.leases()) {
            addLease(l);
        }
        if (leased > budget) {
            LOG.log(Level.WARNING, "the recovered leases hold " + ByteSize.format(leased) + ", more than the "
                    + ByteSize.format(budget) + " budget; nothing is admitted until enough is released");
        }
    }

    // ---------------------------------------------------------------- accounting

    private record GroupKey(String service, String holder) {
    }

    /** Leases of one service and one holder (or the service's holderless leases). */
    static final class Group implements PreemptionPlanner.Candidate {
        final ServiceState service;
        final String holder;
        final LinkedHashMap<LeaseId, Slot> members = new LinkedHashMap<>();
        long leasedBytes;
        long evictingBytes;
        int evicting;
        long observedBytes;
        long contribution;
        long age;
        boolean overUse;

        Group(ServiceState service, String holder) {
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

        boolean hasActive() {
            return evicting < members.size();
        }
    }

    static final class ServiceState {
        final Service service;
        final Group holderless;
        long observedBytes;
        long holderGroupsObserved;
        long leasedBytes;
        int active;
        int evicting;

        ServiceState(Service service) {
            this.service = service;
            this.holderless = new Group(this, null);
        }
    }

    static final class Slot {
        Lease lease;
        final Group group;
        Instant goneSince;

        Slot(Lease lease, Group group) {
            this.lease = lease;
            this.group = group;
        }
    }

    private void setDevice(long total) {
        deviceTotal = total;
        Budget b = config.budgetOn(total);
        headroom = b.headroomBytes();
        budget = b.bytes();
    }

    private ServiceState serviceOf(String name) {
        ServiceState s = services.get(name);
        if (s == null) {
            // A recovered lease of a service no longer configured: keep it counted, never preempt it.
            LOG.log(Level.WARNING, "a recovered lease belongs to service '" + name
                    + "', which is no longer configured; it stays counted until released or reclaimed");
            s = new ServiceState(new Service(name, PriorityClass.OPPORTUNISTIC, 1, false,
                    Service.DEFAULT_EVICTION_DEADLINE, Service.DEFAULT_RECONCILIATION_GRACE,
                    Service.DEFAULT_OVER_USE_TOLERANCE));
            services.put(name, s);
        }
        return s;
    }

    private void recontribute(Group g) {
        long c = Math.max(g.leasedBytes, g.observedBytes);
        committed += c - g.contribution;
        g.contribution = c;
    }

    private void refreshHolderless(ServiceState s) {
        s.holderless.observedBytes = Math.max(0, s.observedBytes - s.holderGroupsObserved);
        recontribute(s.holderless);
    }

    private void addLease(Lease lease) {
        ServiceState s = serviceOf(lease.service());
        Group g;
        if (lease.holder().isPresent()) {
            GroupKey key = new GroupKey(s.service.name(), lease.holder().get());
            g = holderGroups.get(key);
            if (g == null) {
                g = new Group(s, key.holder());
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

    private Lease removeLease(Slot slot) {
        Lease lease = slot.lease;
        Group g = slot.group;
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

    private void markEvicting(Slot slot, Instant now) {
        Group g = slot.group;
        slot.lease = slot.lease.evicting(now);
        g.evicting++;
        g.evictingBytes += slot.lease.bytes();
        g.service.evicting++;
        g.service.active--;
        version++;
    }

    /** C recomputed from scratch; must equal the incrementally kept value. */
    long recomputeCommitted() {
        long c = unattributed;
        for (Group g : holderGroups.values()) {
            c += Math.max(g.leasedBytes, g.observedBytes);
        }
        for (ServiceState s : services.values()) {
            c += Math.max(s.holderless.leasedBytes, s.holderless.observedBytes);
        }
        return c;
    }

    long committed() {
        return committed;
    }

    private long free() {
        return budget - committed;
    }

    private boolean fits(long bytes) {
        return committed + bytes <= budget;
    }

    // ---------------------------------------------------------------- requests

    /** One request, from arrival until its final decision. Touched only by the writer. */
    static final class Pending {
        final long requestId;
        final AdmissionRequest request;
        final CompletableFuture<Decision> first;
        final CompletableFuture<Decision.Final> outcome;
        ServiceState service;
        long bytes;
        Instant submittedAt;
        Instant deadline;
        List<Lease> victims = List.of();
        Timers.Cancellable timer;
        boolean queued;
        boolean done;

        Pending(long requestId, AdmissionRequest request, CompletableFuture<Decision> first,
                CompletableFuture<Decision.Final> outcome) {
            this.requestId = requestId;
            this.request = request;
            this.first = first;
            this.outcome = outcome;
        }

        PriorityClass priority() {
            return service.service.priority();
        }

        String name() {
            return service.service.name();
        }
    }

    void request(Pending p) {
        try {
            arrive(p);
        } catch (RuntimeException e) {
            p.done = true;
            settle.accept(() -> {
                p.first.completeExceptionally(e);
                p.outcome.completeExceptionally(e);
            });
            throw e;
        }
    }

    private void arrive(Pending p) {
        Instant now = clock.instant();
        p.submittedAt = now;
        ServiceState s = configured.contains(p.request.service()) ? services.get(p.request.service()) : null;
        long requested = p.request.bytes().orElse(s == null ? 0 : s.service.defaultRequestBytes());
        if (s == null) {
            List<String> known = config.services().stream().map(Service::name).toList();
            finish(p, new Decision.Denied(p.requestId, p.request.service(), requested, Decision.Reason.UNKNOWN_SERVICE,
                    0, List.of(), Sentences.unknownService(p.request.service(), known)), now);
            return;
        }
        p.service = s;
        p.bytes = requested;
        if (closed) {
            deny(p, Decision.Reason.SHUTDOWN, 0, List.of(), Sentences.shutdown(p.name(), p.bytes), now);
            return;
        }
        Journal.Health health = journal.health();
        if (!health.writable()) {
            deny(p, Decision.Reason.JOURNAL_UNAVAILABLE, 0, List.of(),
                    Sentences.journalUnavailable(p.name(), p.bytes, health.problem().orElseThrow()), now);
            return;
        }
        if (p.bytes > budget) {
            deny(p, Decision.Reason.EXCEEDS_BUDGET, p.bytes - Math.max(0, free()), List.of(),
                    Sentences.exceedsBudget(p.name(), p.bytes, new Budget(deviceTotal, headroom)), now);
            return;
        }
        Duration wait = p.request.maxWait();
        int ahead = countAhead(p.priority());
        if (ahead > 0) {
            if (wait.isZero()) {
                deny(p, Decision.Reason.WAITING_AHEAD, Math.max(0, p.bytes - free()), List.of(),
                        Sentences.ahead(p.name(), p.bytes, ahead) + "; not waiting", now);
            } else {
                Instant deadline = now.plus(wait);
                enqueue(p, deadline, List.of(), Sentences.ahead(p.name(), p.bytes, ahead) + " (position "
                        + (ahead + 1) + "); " + say.until(deadline, now), now);
            }
            return;
        }
        if (fits(p.bytes)) {
            grant(p, now);
            return;
        }
        long free = free();
        Planned planned = plan(p, now);
        switch (planned.plan.outcome()) {
            case FITS -> {
                Instant deadline = later(now.plus(wait), planned.awaitedDeadline);
                enqueue(p, deadline, planned.awaited,
                        say.comingBack(p.name(), p.bytes, free, planned.awaited, deadline, now), now);
            }
            case PREEMPT -> {
                Instant deadline = later(now.plus(wait), now.plus(longestEvictionDeadline(planned.plan.victims())));
                p.deadline = deadline;
                List<Lease> victims = evict(p, planned.plan.victims(), now);
                enqueue(p, deadline, victims, say.preempting(p.name(), p.bytes, free, victims, deadline, now), now);
            }
            case CANNOT_HELP -> {
                String why = Sentences.noPreemption(planned.plan, lowerButNotPreemptible(p.priority()));
                if (wait.isZero()) {
                    deny(p, Decision.Reason.INSUFFICIENT_VRAM, p.bytes - free, inTheWay(p.priority()),
                            Sentences.needs(p.name(), p.bytes, free) + "; " + why + "; not waiting", now);
                } else {
                    Instant deadline = now.plus(wait);
                    enqueue(p, deadline, List.of(), Sentences.needs(p.name(), p.bytes, free) + "; " + why + "; "
                            + say.until(deadline, now), now);
                }
            }
        }
    }

    private static Instant later(Instant a, Instant b) {
        return a.isAfter(b) ? a : b;
    }

    private Duration longestEvictionDeadline(List<Group> victims) {
        Duration longest = Duration.ZERO;
        for (Group g : victims) {
            Duration d = g.service.service.evictionDeadline();
            if (d.compareTo(longest) > 0) {
                longest = d;
            }
        }
        return longest;
    }

    /** A preemption plan for {@code p}, counting memory already on its way back. */
    private record Planned(PreemptionPlanner.Plan<Group> plan, List<Lease> awaited, Instant awaitedDeadline) {
    }

    private Planned plan(Pending p, Instant now) {
        long comingBack = 0;
        List<Lease> awaited = new ArrayList<>();
        Instant awaitedDeadline = now;
        List<Group> units = new ArrayList<>(holderGroups.size() + services.size());
        for (Group g : holderGroups.values()) {
            comingBack += considerUnit(g, units, awaited, now);
        }
        for (ServiceState s : services.values()) {
            if (!s.holderless.members.isEmpty()) {
                comingBack += considerUnit(s.holderless, units, awaited, now);
            }
        }
        for (Lease l : awaited) {
            awaitedDeadline = later(awaitedDeadline, evictionDeadlineOf(l));
        }
        PreemptionPlanner.Plan<Group> plan = PreemptionPlanner.plan(p.priority(), p.bytes, free() + comingBack, units);
        if (plan.outcome() != PreemptionPlanner.Outcome.FITS) {
            awaited = List.of();
        }
        return new Planned(plan, awaited, awaitedDeadline);
    }

    /**
     * Adds a group with active leases to the preemption units; returns the bytes of a group that is
     * wholly evicting and still within its eviction deadline (memory on its way back).
     */
    private long considerUnit(Group g, List<Group> units, List<Lease> awaited, Instant now) {
        if (g.hasActive()) {
            units.add(g);
            return 0;
        }
        for (Slot s : g.members.values()) {
            if (!now.isBefore(evictionDeadlineOf(s.lease))) {
                return 0;
            }
        }
        for (Slot s : g.members.values()) {
            awaited.add(s.lease);
        }
        return g.contribution;
    }

    private Instant evictionDeadlineOf(Lease evicting) {
        return evicting.evictingSince().orElseThrow().plus(serviceOf(evicting.service()).service.evictionDeadline());
    }

    private boolean lowerButNotPreemptible(PriorityClass requester) {
        for (Slot s : leases.values()) {
            Service svc = s.group.service.service;
            if (requester.outranks(svc.priority()) && !svc.preemptible()) {
                return true;
            }
        }
        return false;
    }

    /** How many leases a denial names as in the way; the view lists them all. */
    static final int IN_THE_WAY_LISTED = 16;

    /**
     * The largest counted leases {@code requester} may not preempt (evicting ones included: they
     * are already going), largest first, at most {@link #IN_THE_WAY_LISTED}.
     */
    private List<Lease> inTheWay(PriorityClass requester) {
        // Top 16 by insertion into a small sorted array: one comparison for most leases.
        Lease[] top = new Lease[IN_THE_WAY_LISTED];
        int n = 0;
        for (Slot s : leases.values()) {
            Service svc = s.group.service.service;
            if (requester.outranks(svc.priority()) && svc.preemptible() && s.lease.state() != LeaseState.EVICTING) {
                continue;
            }
            Lease l = s.lease;
            if (n == top.length && !largerFirst(l, top[n - 1])) {
                continue;
            }
            int at = n == top.length ? n - 1 : n++;
            while (at > 0 && largerFirst(l, top[at - 1])) {
                top[at] = top[at - 1];
                at--;
            }
            top[at] = l;
        }
        return List.of(java.util.Arrays.copyOf(top, n));
    }

    private static boolean largerFirst(Lease a, Lease b) {
        return a.bytes() != b.bytes() ? a.bytes() > b.bytes() : a.id().value() < b.id().value();
    }

    /** Turns every active lease of the victim groups EVICTING and starts their actuators. */
    private List<Lease> evict(Pending p, List<Group> victimGroups, Instant now) {
        List<Lease> victims = new ArrayList<>();
        for (Group g : victimGroups) {
            for (Slot slot : g.members.values()) {
                if (slot.lease.state() == LeaseState.ACTIVE) {
                    markEvicting(slot, now);
                    journal.append(new JournalRecord.Evicting(slot.lease.id(), now));
                    victims.add(slot.lease);
                }
            }
        }
        if (p.victims.isEmpty()) {
            p.victims = new ArrayList<>();
        }
        p.victims.addAll(victims);
        for (Lease v : victims) {
            ServiceState s = serviceOf(v.service());
            Instant expected = now.plus(s.service.evictionDeadline());
            String sentence = say.preempted(v, p.name(), p.requestId, expected, now);
            emit(new LedgerEvent.Preempted(now, v, p.name(), p.requestId, sentence));
            startActuator(new Evictor.Order(v, s.service, p.name(), p.requestId, p.deadline, sentence));
        }
        return victims;
    }

    private void startActuator(Evictor.Order order) {
        try {
            evictor.evict(order).whenComplete((ok, failure) -> {
                if (failure != null) {
                    LOG.log(Level.WARNING, "the actuator for " + order.victim().describe() + " failed: " + failure
                            + "; the lease stays evicting until its memory shows up free or it is released");
                }
            });
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "the actuator for " + order.victim().describe() + " could not start", e);
        }
    }

    private int countAhead(PriorityClass priority) {
        int n = 0;
        for (int c = 0; c <= priority.ordinal(); c++) {
            n += queue.get(c).size();
        }
        return n;
    }

    private int position(Pending p) {
        int n = 0;
        for (int c = 0; c < p.priority().ordinal(); c++) {
            n += queue.get(c).size();
        }
        for (Pending q : queue.get(p.priority().ordinal())) {
            n++;
            if (q == p) {
                return n;
            }
        }
        throw new IllegalStateException("request " + p.requestId + " is not queued");
    }

    private Pending head() {
        for (LinkedHashSet<Pending> cls : queue) {
            if (!cls.isEmpty()) {
                return cls.iterator().next();
            }
        }
        return null;
    }

    private void enqueue(Pending p, Instant deadline, List<Lease> awaited, String sentence, Instant now) {
        p.deadline = deadline;
        p.queued = true;
        queue.get(p.priority().ordinal()).add(p);
        version++;
        int position = position(p);
        schedule(p);
        emit(new LedgerEvent.Queued(now, p.requestId, p.name(), p.bytes, position, deadline, sentence));
        Decision.Queued d = new Decision.Queued(p.requestId, p.name(), p.bytes, position, deadline, awaited, sentence);
        settle.accept(() -> p.first.complete(d));
    }

    private void dequeue(Pending p) {
        if (p.queued) {
            queue.get(p.priority().ordinal()).remove(p);
            p.queued = false;
            version++;
        }
        if (p.timer != null) {
            p.timer.cancel();
            p.timer = null;
        }
    }

    private void schedule(Pending p) {
        if (p.timer != null) {
            p.timer.cancel();
        }
        p.timer = timers.schedule(p.deadline, () -> writer.accept(() -> expire(p)));
    }

    private void grant(Pending p, Instant now) {
        dequeue(p);
        p.done = true;
        Lease lease = Lease.active(new LeaseId(nextLeaseId++), p.name(), p.bytes, p.request.holder(),
                p.request.pids(), now);
        addLease(lease);
        journal.append(new JournalRecord.Granted(lease));
        Duration waited = Duration.between(p.submittedAt, now);
        List<Lease> victims = List.copyOf(p.victims);
        Decision.Final d = victims.isEmpty()
                ? new Decision.Admitted(p.requestId, lease, waited, say.admitted(lease, waited, free(), budget))
                : new Decision.AdmittedAfterPreemption(p.requestId, lease, victims, waited,
                        say.admittedAfterPreemption(lease, victims, waited));
        emit(new LedgerEvent.Admitted(now, p.requestId, lease, victims, waited, d.sentence()));
        journal.afterDurable(new Journal.Durability() {
            @Override
            public void durable() {
                completions.execute(() -> {
                    p.first.complete(d);
                    p.outcome.complete(d);
                });
            }

            @Override
            public void failed(IOException cause) {
                writer.accept(() -> rollBack(lease, p, cause));
            }
        });
    }

    private void rollBack(Lease lease, Pending p, IOException cause) {
        Slot slot = leases.get(lease.id());
        if (slot != null) {
            Instant now = clock.instant();
            Lease gone = removeLease(slot);
            journal.append(new JournalRecord.Released(lease.id(), now, JournalRecord.Cause.ROLLED_BACK));
            emit(new LedgerEvent.RolledBack(now, gone, Sentences.rolledBack(gone, cause)));
        }
        JournalUnavailableException failure = new JournalUnavailableException(
                "the ledger journal could not store lease " + lease.id() + ": " + cause.getMessage(), cause);
        settle.accept(() -> {
            p.first.completeExceptionally(failure);
            p.outcome.completeExceptionally(failure);
        });
        // No drain: the journal is not writable now, and it drains when it is again.
    }

    private void deny(Pending p, Decision.Reason reason, long shortfall, List<Lease> inTheWay, String sentence,
            Instant now) {
        dequeue(p);
        Duration waited = p.submittedAt == null ? Duration.ZERO : Duration.between(p.submittedAt, now);
        Decision.Denied d = new Decision.Denied(p.requestId, p.name(), p.bytes, reason, Math.max(0, shortfall), inTheWay,
                sentence);
        finish(p, d, now);
        emit(new LedgerEvent.Denied(now, p.requestId, p.name(), p.bytes, reason, d.shortfallBytes(), waited, sentence));
    }

    private void finish(Pending p, Decision.Denied d, Instant now) {
        p.done = true;
        settle.accept(() -> {
            p.first.complete(d);
            p.outcome.complete(d);
        });
    }

    /** The deadline timer fired (or fired early). */
    void expire(Pending p) {
        if (p.done || !p.queued) {
            return;
        }
        Instant now = clock.instant();
        if (now.isBefore(p.deadline)) {
            schedule(p);
            return;
        }
        List<Lease> outstanding = outstandingVictims(p);
        if (!outstanding.isEmpty()) {
            deny(p, Decision.Reason.EVICTION_TOO_SLOW, p.bytes - free(), inTheWay(p.priority()),
                    say.evictionTooSlow(p.name(), p.bytes, free(), outstanding, now), now);
        } else {
            deny(p, Decision.Reason.DEADLINE_PASSED, p.bytes - free(), inTheWay(p.priority()),
                    say.deadlinePassed(p.name(), p.bytes, free(), Duration.between(p.submittedAt, now), now), now);
        }
        drain();
    }

    void cancel(Pending p) {
        if (p.done || !p.queued) {
            return;
        }
        Instant now = clock.instant();
        deny(p, Decision.Reason.CANCELLED, 0, List.of(),
                Sentences.cancelled(p.name(), p.bytes, Duration.between(p.submittedAt, now)), now);
        drain();
    }

    private List<Lease> outstandingVictims(Pending p) {
        List<Lease> out = new ArrayList<>();
        for (Lease v : p.victims) {
            Slot s = leases.get(v.id());
            if (s != null && s.lease.state() == LeaseState.EVICTING) {
                out.add(s.lease);
            }
        }
        return out;
    }

    /**
     * Admits from the head of the queue while it fits. A head that does not fit waits for its
     * victims if it has any in flight, else may preempt; either way it blocks those behind it.
     */
    private void drain() {
        if (!journal.health().writable()) {
            // Whatever it granted would be rolled back, whatever it preempted evicted for nothing.
            return;
        }
        Pending p;
        while ((p = head()) != null) {
            Instant now = clock.instant();
            if (fits(p.bytes)) {
                grant(p, now);
                continue;
            }
            if (!outstandingVictims(p).isEmpty()) {
                return;
            }
            Planned planned = plan(p, now);
            if (planned.plan.outcome() == PreemptionPlanner.Outcome.PREEMPT) {
                Instant deadline = later(p.deadline, now.plus(longestEvictionDeadline(planned.plan.victims())));
                if (!deadline.equals(p.deadline)) {
                    p.deadline = deadline;
                    schedule(p);
                }
                evict(p, planned.plan.victims(), now);
            }
            return;
        }
    }

    // ---------------------------------------------------------------- releases

    boolean release(LeaseId id) {
        Slot slot = leases.get(id);
        if (slot == null) {
            return false;
        }
        Instant now = clock.instant();
        Lease gone = removeLease(slot);
        journal.append(new JournalRecord.Released(id, now, JournalRecord.Cause.RELEASED));
        emit(new LedgerEvent.Released(now, gone, Sentences.released(gone)));
        drain();
        return true;
    }

    /**
     * Releases every lease of {@code holder} and withdraws its waiting requests (a stopped
     * container or unit no longer wants them), so that a second call finds nothing.
     */
    int releaseHolder(String holder) {
        List<LeaseId> ids = new ArrayList<>();
        for (Slot s : leases.values()) {
            if (s.lease.holder().isPresent() && s.lease.holder().get().equals(holder)) {
                ids.add(s.lease.id());
            }
        }
        Instant now = clock.instant();
        List<Pending> withdrawn = new ArrayList<>();
        for (LinkedHashSet<Pending> cls : queue) {
            for (Pending p : cls) {
                if (p.request.holder().isPresent() && p.request.holder().get().equals(holder)) {
                    withdrawn.add(p);
                }
            }
        }
        for (Pending p : withdrawn) {
            deny(p, Decision.Reason.CANCELLED, 0, List.of(), Sentences.withdrawn(p.name(), p.bytes, holder,
                    Duration.between(p.submittedAt, now)), now);
        }
        for (LeaseId id : ids) {
            Lease gone = removeLease(leases.get(id));
            journal.append(new JournalRecord.Released(id, now, JournalRecord.Cause.RELEASED));
            emit(new LedgerEvent.Released(now, gone, Sentences.released(gone)));
        }
        if (!ids.isEmpty() || !withdrawn.isEmpty()) {
            drain();
        }
        return ids.size();
    }

    /**
     * Runs {@code durable} once everything journaled so far is durable, or {@code failed} when it
     * could not be stored (the journal is not writable; it will be stored when the journal
     * recovers, unless the agent stops first).
     */
    void afterDurable(Runnable durable, Consumer<JournalUnavailableException> failed) {
        journal.afterDurable(new Journal.Durability() {
            @Override
            public void durable() {
                completions.execute(durable);
            }

            @Override
            public void failed(IOException cause) {
                JournalUnavailableException e = new JournalUnavailableException(
                        "the release is not stored yet: " + cause.getMessage(), cause);
                completions.execute(() -> failed.accept(e));
            }
        });
    }

    /** The journal became writable again (or failed once more): requests waiting may now be admitted. */
    void journalHealthChanged() {
        drain();
    }

    // ---------------------------------------------------------------- observations

    void observe(Observation o) {
        Instant now = clock.instant();
        observation = o;
        setDevice(o.deviceTotalBytes());
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
        for (Group g : holderGroups.values()) {
            g.observedBytes = o.holderBytes(g.holder);
            g.service.holderGroupsObserved += g.observedBytes;
        }
        for (ServiceState s : services.values()) {
            s.holderless.observedBytes = Math.max(0, s.observedBytes - s.holderGroupsObserved);
        }
        committed = unattributed;
        for (Group g : holderGroups.values()) {
            g.contribution = Math.max(g.leasedBytes, g.observedBytes);
            committed += g.contribution;
        }
        for (ServiceState s : services.values()) {
            Group g = s.holderless;
            g.contribution = Math.max(g.leasedBytes, g.observedBytes);
            committed += g.contribution;
        }
        version++;

        checkOverUse(now);
        completeEvictions(o, now);
        reconcile(o, now);
        if (unattributed > 0 && unattributed != lastReportedUnattributed) {
            emit(new LedgerEvent.UnattributedUse(now, unattributed, Sentences.unattributed(unattributed)));
        }
        lastReportedUnattributed = unattributed;
        drain();
    }

    private void checkOverUse(Instant now) {
        for (Group g : holderGroups.values()) {
            checkOverUse(g, now);
        }
        for (ServiceState s : services.values()) {
            checkOverUse(s.holderless, now);
        }
    }

    private void checkOverUse(Group g, Instant now) {
        long tolerance = g.service.service.overUseToleranceBytes();
        boolean over = g.evicting == 0 && g.observedBytes > g.leasedBytes + tolerance;
        if (over && !g.overUse) {
            Optional<String> holder = Optional.ofNullable(g.holder);
            String name = g.service.service.name();
            emit(new LedgerEvent.OverUse(now, name, holder, g.leasedBytes, g.observedBytes, tolerance,
                    Sentences.overUse(name, holder, g.leasedBytes, g.observedBytes, tolerance)));
        }
        g.overUse = over;
    }

    /**
     * An evicting lease is done when an observation taken after its eviction began shows its group
     * using no more than its remaining active leases (plus the service's tolerance).
     */
    private void completeEvictions(Observation o, Instant now) {
        List<Slot> done = new ArrayList<>();
        for (Slot slot : leases.values()) {
            Lease l = slot.lease;
            if (l.state() != LeaseState.EVICTING || o.takenAt().isBefore(l.evictingSince().orElseThrow())) {
                continue;
            }
            Group g = slot.group;
            long stillLeased = g.leasedBytes - g.evictingBytes;
            if (g.observedBytes <= stillLeased + g.service.service.overUseToleranceBytes()) {
                done.add(slot);
            }
        }
        for (Slot slot : done) {
            Lease gone = removeLease(slot);
            journal.append(new JournalRecord.Released(gone.id(), now, JournalRecord.Cause.EVICTED));
            emit(new LedgerEvent.Evicted(now, gone, Sentences.evicted(gone)));
        }
    }

    private void reconcile(Observation o, Instant now) {
        if (o.liveness().isEmpty()) {
            return;
        }
        Observation.Liveness live = o.liveness().get();
        List<Slot> gone = new ArrayList<>();
        for (Slot slot : leases.values()) {
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
        for (Slot slot : gone) {
            Instant since = slot.goneSince;
            Lease l = removeLease(slot);
            journal.append(new JournalRecord.Released(l.id(), now, JournalRecord.Cause.RECLAIMED));
            emit(new LedgerEvent.Reclaimed(now, l, since, say.reclaimed(l, since, now)));
        }
    }

    // ---------------------------------------------------------------- lifecycle, views

    void close() {
        closed = true;
        Instant now = clock.instant();
        List<Pending> waiting = new ArrayList<>();
        queue.forEach(waiting::addAll);
        for (Pending p : waiting) {
            deny(p, Decision.Reason.SHUTDOWN, 0, List.of(), Sentences.shutdown(p.name(), p.bytes), now);
        }
    }

    /** Called by the writer after each batch: compaction when due, then the group commit. */
    void afterBatch() {
        if (journal.wantsCompaction()) {
            List<Lease> live = new ArrayList<>(leases.size());
            for (Slot s : leases.values()) {
                live.add(s.lease);
            }
            journal.compact(new JournalRecord.Snapshot(nextLeaseId, live));
        }
        journal.commit();
    }

    long version() {
        return version;
    }

    /** Built once per batch that changed something; two passes over the leases, no sorting. */
    LedgerView view() {
        Lease[] list = new Lease[leases.size()];
        int i = 0;
        for (Slot s : leases.values()) {
            list[i++] = s.lease;
        }
        List<LedgerView.QueuedRequest> waiting = List.of();
        if (countAhead(PriorityClass.OPPORTUNISTIC) > 0) {
            waiting = new ArrayList<>();
            int position = 0;
            for (LinkedHashSet<Pending> cls : queue) {
                for (Pending p : cls) {
                    List<LeaseId> awaited = new ArrayList<>();
                    for (Lease v : outstandingVictims(p)) {
                        awaited.add(v.id());
                    }
                    waiting.add(new LedgerView.QueuedRequest(p.requestId, p.name(), p.priority(), p.bytes,
                            p.request.holder(), ++position, p.submittedAt, p.deadline, awaited));
                }
            }
        }
        LedgerView.ServiceUsage[] usage = new LedgerView.ServiceUsage[services.size()];
        i = 0;
        for (ServiceState s : services.values()) {
            usage[i++] = new LedgerView.ServiceUsage(s.service.name(), s.service.priority(), s.leasedBytes,
                    s.observedBytes, s.active, s.evicting);
        }
        return new LedgerView(version, deviceTotal, headroom, budget, committed, leased, unattributed,
                observation == null ? Optional.empty() : Optional.of(observation.takenAt()), List.of(list), waiting,
                List.of(usage));
    }

    private void emit(LedgerEvent e) {
        events.accept(Objects.requireNonNull(e));
    }
}
