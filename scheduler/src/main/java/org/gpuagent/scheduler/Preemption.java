package org.gpuagent.scheduler;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import org.gpuagent.scheduler.journal.Journal;
import org.gpuagent.scheduler.journal.JournalRecord;

/**
 * Preemption on the ledger's groups: the plan for a request ({@link PreemptionPlanner} chooses,
 * counting memory that evictions already under way are giving back), the victims turned
 * EVICTING with their actuators started, and the leases a refused request could not preempt.
 * Writer-only.
 */
final class Preemption {
    /** How many leases a denial names as in the way; the view lists them all. */
    static final int IN_THE_WAY_LISTED = 16;

    /**
     * A plan for a request, counting memory already on its way back.
     *
     * @param awaited         the evicting leases whose memory the plan counts on (FITS only)
     * @param awaitedDeadline the latest of their eviction deadlines
     */
    record Planned(PreemptionPlanner.Plan<LeaseGroup> plan, List<Lease> awaited, Instant awaitedDeadline) {
    }

    private final Accounts accounts;
    private final Journal journal;
    private final Evictor evictor;
    private final Consumer<LedgerEvent> events;
    private final Sentences say;
    private final Logger log;

    /** @param log where an actuator's failure is told (the ledger's name) */
    Preemption(Accounts accounts, Journal journal, Evictor evictor, Consumer<LedgerEvent> events, Sentences say,
            Logger log) {
        this.accounts = accounts;
        this.journal = journal;
        this.evictor = evictor;
        this.events = events;
        this.say = say;
        this.log = log;
    }

    Planned plan(Pending p, Instant now) {
        return plan(p.priority(), p.bytes, now);
    }

    /** The plan for a request of {@code bytes} at {@code priority}; changes nothing. */
    Planned plan(PriorityClass priority, long bytes, Instant now) {
        long comingBack = 0;
        List<Lease> awaited = new ArrayList<>();
        Instant awaitedDeadline = now;
        List<LeaseGroup> units = new ArrayList<>(accounts.holderGroups().size() + accounts.services().size());
        for (LeaseGroup g : accounts.holderGroups()) {
            comingBack += considerUnit(g, units, awaited, now);
        }
        for (Accounts.ServiceState s : accounts.services()) {
            if (!s.holderless.members.isEmpty()) {
                comingBack += considerUnit(s.holderless, units, awaited, now);
            }
        }
        for (Lease l : awaited) {
            awaitedDeadline = later(awaitedDeadline, evictionDeadlineOf(l));
        }
        PreemptionPlanner.Plan<LeaseGroup> plan = PreemptionPlanner.plan(priority, bytes,
                accounts.free() + comingBack, units);
        if (plan.outcome() != PreemptionPlanner.Outcome.FITS) {
            awaited = List.of();
        }
        return new Planned(plan, awaited, awaitedDeadline);
    }

    /**
     * Adds a group with active leases to the preemption units; returns the bytes of a group that is
     * wholly evicting and still within its eviction deadline (memory on its way back).
     */
    private long considerUnit(LeaseGroup g, List<LeaseGroup> units, List<Lease> awaited, Instant now) {
        if (g.hasActive()) {
            units.add(g);
            return 0;
        }
        for (Accounts.Slot s : g.members.values()) {
            if (!now.isBefore(evictionDeadlineOf(s.lease))) {
                return 0;
            }
        }
        for (Accounts.Slot s : g.members.values()) {
            awaited.add(s.lease);
        }
        return g.contribution;
    }

    private Instant evictionDeadlineOf(Lease evicting) {
        return evicting.evictingSince().orElseThrow().plus(accounts.serviceOf(evicting.service()).service
                .evictionDeadline());
    }

    /** The deadline a request that preempts {@code victims} at {@code now} waits for at least. */
    static Instant evictionDeadline(List<LeaseGroup> victims, Instant now) {
        Duration longest = Duration.ZERO;
        for (LeaseGroup g : victims) {
            Duration d = g.service.service.evictionDeadline();
            if (d.compareTo(longest) > 0) {
                longest = d;
            }
        }
        return now.plus(longest);
    }

    static Instant later(Instant a, Instant b) {
        return a.isAfter(b) ? a : b;
    }

    /** True when some lease of lower priority than {@code requester} may not be preempted. */
    boolean lowerButNotPreemptible(PriorityClass requester) {
        for (Accounts.Slot s : accounts.slots()) {
            Service svc = s.group.service.service;
            if (requester.outranks(svc.priority()) && !svc.preemptible()) {
                return true;
            }
        }
        return false;
    }

    /**
     * The largest counted leases {@code requester} may not preempt (evicting ones included: they
     * are already going), largest first, at most {@link #IN_THE_WAY_LISTED}.
     */
    List<Lease> inTheWay(PriorityClass requester) {
        // Top 16 by insertion into a small sorted array: one comparison for most leases.
        Lease[] top = new Lease[IN_THE_WAY_LISTED];
        int n = 0;
        for (Accounts.Slot s : accounts.slots()) {
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
        return List.of(Arrays.copyOf(top, n));
    }

    private static boolean largerFirst(Lease a, Lease b) {
        return a.bytes() != b.bytes() ? a.bytes() > b.bytes() : a.id().value() < b.id().value();
    }

    /** The leases {@link #evict} would turn EVICTING for these groups, as they are now. */
    static List<Lease> activeLeasesOf(List<LeaseGroup> victimGroups) {
        List<Lease> out = new ArrayList<>();
        for (LeaseGroup g : victimGroups) {
            for (Accounts.Slot slot : g.members.values()) {
                if (slot.lease.state() == LeaseState.ACTIVE) {
                    out.add(slot.lease);
                }
            }
        }
        return out;
    }

    /** Turns every active lease of the victim groups EVICTING, journals it, and starts their actuators. */
    List<Lease> evict(Pending p, List<LeaseGroup> victimGroups, Instant now) {
        List<Lease> victims = new ArrayList<>();
        for (LeaseGroup g : victimGroups) {
            for (Accounts.Slot slot : g.members.values()) {
                if (slot.lease.state() == LeaseState.ACTIVE) {
                    accounts.markEvicting(slot, now);
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
            Service service = accounts.serviceOf(v.service()).service;
            Instant expected = now.plus(service.evictionDeadline());
            String sentence = say.preempted(v, p.name(), p.requestId, expected, now);
            events.accept(new LedgerEvent.Preempted(now, v, p.name(), p.requestId, sentence));
            startActuator(new Evictor.Order(v, service, p.name(), p.requestId, p.deadline, sentence));
        }
        return victims;
    }

    /** The leases {@code p} preempted that are still evicting, as they are now. */
    List<Lease> outstandingVictims(Pending p) {
        List<Lease> out = new ArrayList<>();
        for (Lease v : p.victims) {
            Accounts.Slot s = accounts.slot(v.id());
            if (s != null && s.lease.state() == LeaseState.EVICTING) {
                out.add(s.lease);
            }
        }
        return out;
    }

    private void startActuator(Evictor.Order order) {
        try {
            evictor.evict(order).whenComplete((ok, failure) -> {
                if (failure != null) {
                    log.log(Level.WARNING, "the actuator for " + order.victim().describe() + " failed: "
                            + failure + "; the lease stays evicting until its memory shows up free or it is released");
                }
            });
        } catch (RuntimeException e) {
            log.log(Level.WARNING, "the actuator for " + order.victim().describe() + " could not start", e);
        }
    }
}
