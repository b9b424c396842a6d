package org.gpuagent.scheduler;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Consumer;
import org.gpuagent.scheduler.journal.Journal;
import org.gpuagent.scheduler.journal.JournalRecord;
import org.gpuagent.scheduler.journal.RecoveredLedger;

/**
 * The ledger's decisions: what happens to a request, a release, an observation. Everything it
 * hands out is immutable.
 *
 * <p><b>How the ledger is built.</b> This class decides; its parts keep the state and do one job
 * each:
 * <ul>
 * <li>{@link Accounts}: every lease in its (service, holder) group ({@link LeaseGroup}), and what
 *     the groups commit against the {@link Budget};
 * <li>{@link WaitQueue}: the requests waiting, in priority then arrival order, with their deadline
 *     timers;
 * <li>{@link Preemption}: plans on the groups ({@link PreemptionPlanner} chooses), turns the
 *     victims EVICTING and starts their actuators;
 * <li>{@link Reconciliation}: what each observation settles (over-use, evictions done, holders
 *     gone, unattributed use);
 * <li>{@link Retirement}: the one way a lease leaves (out of the accounts, into the journal, out
 *     to the listeners);
 * <li>{@link Acknowledgements}: what waits for the journal (a grant is acknowledged once durable,
 *     rolled back when it cannot be; a release once durable);
 * <li>{@link Sentences}: every sentence a decision or an event carries, from its fields.
 * </ul>
 * Results go back to the controller through {@link Completions}, events to its listeners.
 *
 * <p><b>Single writer.</b> None of these classes is thread-safe, and none needs to be: only the
 * controller's single writer calls them ({@link AdmissionController} arranges that through
 * {@link SingleWriter}), one command at a time. Work that arises elsewhere (a deadline timer, the
 * journal's verdict) comes back as a command ({@link Completions#onWriter}); futures are completed
 * outside the writer.
 */
final class VramLedger {
    /** The ledger's parts log under this one name: what an operator filters on. */
    private static final Logger LOG = System.getLogger(VramLedger.class.getName());

    private final SchedulerConfig config;
    private final InstantSource clock;
    private final Journal journal;
    private final Consumer<LedgerEvent> events;
    private final Completions completions;
    private final Sentences say;
    private final Accounts accounts;
    private final WaitQueue queue;
    private final Preemption preemption;
    private final Retirement retire;
    private final Reconciliation reconciliation;
    private final Acknowledgements acknowledge;

    private long nextLeaseId;
    private boolean closed;

    VramLedger(SchedulerConfig config, InstantSource clock, Timers timers, Journal journal, Evictor evictor,
            Consumer<LedgerEvent> events, Completions completions, Sentences say) {
        this.config = config;
        this.clock = clock;
        this.journal = journal;
        this.events = events;
        this.completions = completions;
        this.say = say;
        this.accounts = new Accounts(config, LOG);
        this.queue = new WaitQueue(timers, completions, this::expire);
        this.preemption = new Preemption(accounts, journal, evictor, events, say, LOG);
        this.retire = new Retirement(accounts, journal, events, say);
        this.reconciliation = new Reconciliation(accounts, retire, events);
        this.acknowledge = new Acknowledgements(accounts, journal, retire, completions, clock);
        RecoveredLedger recovered = journal.recovered();
        nextLeaseId = recovered.nextLeaseId();
        for (Lease l : recovered.leases()) {
            accounts.add(l);
        }
        Budget budget = accounts.budget();
        if (budget.exceededBy(accounts.leased())) {
            LOG.log(Level.WARNING, "the recovered leases hold " + ByteSize.format(accounts.leased()) + ", more than the "
                    + ByteSize.format(budget.bytes()) + " budget; nothing is admitted until enough is released");
        }
    }

    // ---------------------------------------------------------------- requests

    void request(Pending p) {
        try {
            if (p.resizes()) {
                arriveResize(p);
            } else {
                arrive(p);
            }
        } catch (RuntimeException e) {
            p.done = true;
            completions.afterBatch(() -> {
                p.first.completeExceptionally(e);
                p.outcome.completeExceptionally(e);
            });
            throw e;
        }
    }

    private void arrive(Pending p) {
        Instant now = clock.instant();
        p.submittedAt = now;
        Accounts.ServiceState s = accounts.configured(p.request.service());
        long requested = p.request.bytes().orElse(s == null ? 0 : s.service.defaultRequestBytes());
        if (s == null) {
            List<String> known = config.services().stream().map(Service::name).toList();
            finish(p, new Decision.Denied(p.requestId, p.request.service(), requested, Decision.Reason.UNKNOWN_SERVICE,
                    0, List.of(), Sentences.unknownService(p.request.service(), known)));
            return;
        }
        p.service = s;
        p.bytes = requested;
        if (refusedOutright(p, p.bytes, now)) {
            return;
        }
        decide(p, now);
    }

    /**
     * A resize: a shrink is applied at once (and may admit requests waiting); a growth is an
     * admission of the difference, decided as a request of the lease's service and holder is.
     */
    private void arriveResize(Pending p) {
        Instant now = clock.instant();
        p.submittedAt = now;
        Accounts.Slot slot = accounts.slot(p.resizing);
        if (slot == null) {
            finish(p, new Decision.Denied(p.requestId, "", p.resizeTo, Decision.Reason.LEASE_NOT_FOUND, 0, List.of(),
                    Sentences.noSuchLease(p.resizing)));
            return;
        }
        Lease lease = slot.lease;
        p.service = slot.group.service;
        p.request = new AdmissionRequest(lease.service(), OptionalLong.of(p.resizeTo), lease.holder(), List.of(),
                p.request.maxWait());
        p.bytes = p.resizeTo - lease.bytes();
        if (refusedOutright(p, p.resizeTo, now)) {
            return;
        }
        if (p.bytes <= 0) {
            resized(p, slot, now);
            drain();
            return;
        }
        if (lease.state() == LeaseState.EVICTING) {
            deny(p, Decision.Reason.LEASE_EVICTING, 0, List.of(), Sentences.leaseEvicting(), now);
            return;
        }
        decide(p, now);
    }

    /** Refuses {@code p} when the ledger is closed, the journal not writable, or {@code total} over the budget. */
    private boolean refusedOutright(Pending p, long total, Instant now) {
        if (closed) {
            deny(p, Decision.Reason.SHUTDOWN, 0, List.of(), Sentences.shutdown(p.name(), p.bytes), now);
            return true;
        }
        Journal.Health health = journal.health();
        if (!health.writable()) {
            deny(p, Decision.Reason.JOURNAL_UNAVAILABLE, 0, List.of(),
                    Sentences.journalUnavailable(p.name(), p.bytes, health.problem().orElseThrow()), now);
            return true;
        }
        Budget budget = accounts.budget();
        if (budget.exceededBy(total)) {
            deny(p, Decision.Reason.EXCEEDS_BUDGET, p.bytes - Math.max(0, accounts.free()), List.of(),
                    Sentences.exceedsBudget(p.name(), total, budget), now);
            return true;
        }
        return false;
    }

    /** Admits, queues, preempts or denies a request that passed the checks on arrival. */
    private void decide(Pending p, Instant now) {
        Duration wait = p.request.maxWait();
        int ahead = queue.ahead(p.priority());
        if (ahead > 0) {
            if (wait.isZero()) {
                deny(p, Decision.Reason.WAITING_AHEAD, Math.max(0, p.bytes - accounts.free()), List.of(),
                        Sentences.deniedBehind(p.name(), p.bytes, ahead), now);
            } else {
                Instant deadline = now.plus(wait);
                enqueue(p, deadline, List.of(), say.queuedBehind(p.name(), p.bytes, ahead, deadline, now), now);
            }
            return;
        }
        if (accounts.fits(p.bytes)) {
            grant(p, now);
            return;
        }
        long free = accounts.free();
        Preemption.Planned planned = preemption.plan(p, now);
        PreemptionPlanner.Plan<LeaseGroup> plan = planned.plan();
        switch (plan.outcome()) {
            case FITS -> {
                Instant deadline = Preemption.later(now.plus(wait), planned.awaitedDeadline());
                enqueue(p, deadline, planned.awaited(),
                        say.comingBack(p.name(), p.bytes, free, planned.awaited(), deadline, now), now);
            }
            case PREEMPT -> {
                Instant deadline = Preemption.later(now.plus(wait), Preemption.evictionDeadline(plan.victims(), now));
                p.deadline = deadline;
                List<Lease> victims = preemption.evict(p, plan.victims(), now);
                enqueue(p, deadline, victims, say.preempting(p.name(), p.bytes, free, victims, deadline, now), now);
            }
            case CANNOT_HELP -> {
                boolean lowerButNotPreemptible = preemption.lowerButNotPreemptible(p.priority());
                if (wait.isZero()) {
                    deny(p, Decision.Reason.INSUFFICIENT_VRAM, p.bytes - free, preemption.inTheWay(p.priority()),
                            Sentences.deniedNoRoom(p.name(), p.bytes, free, plan, lowerButNotPreemptible), now);
                } else {
                    Instant deadline = now.plus(wait);
                    enqueue(p, deadline, List.of(), say.queuedNoRoom(p.name(), p.bytes, free, plan,
                            lowerButNotPreemptible, deadline, now), now);
                }
            }
        }
    }

    /**
     * What {@link #request} would decide for {@code r} now, changing nothing: the same checks in the
     * same order as {@link #arrive} and {@link #decide}. {@code ForecastTest} holds the two together.
     */
    Forecast forecast(AdmissionRequest r) {
        Instant now = clock.instant();
        Accounts.ServiceState s = accounts.configured(r.service());
        String name = r.service();
        long bytes = r.bytes().orElse(s == null ? 0 : s.service.defaultRequestBytes());
        if (s == null) {
            List<String> known = config.services().stream().map(Service::name).toList();
            return Forecast.deny(name, bytes, Decision.Reason.UNKNOWN_SERVICE, 0, Sentences.unknownService(name, known));
        }
        if (closed) {
            return Forecast.deny(name, bytes, Decision.Reason.SHUTDOWN, 0, Sentences.shutdown(name, bytes));
        }
        Journal.Health health = journal.health();
        if (!health.writable()) {
            return Forecast.deny(name, bytes, Decision.Reason.JOURNAL_UNAVAILABLE, 0,
                    Sentences.journalUnavailable(name, bytes, health.problem().orElseThrow()));
        }
        Budget budget = accounts.budget();
        if (budget.exceededBy(bytes)) {
            return Forecast.deny(name, bytes, Decision.Reason.EXCEEDS_BUDGET, bytes - Math.max(0, accounts.free()),
                    Sentences.exceedsBudget(name, bytes, budget));
        }
        PriorityClass priority = s.service.priority();
        Duration wait = r.maxWait();
        int ahead = queue.ahead(priority);
        if (ahead > 0) {
            if (wait.isZero()) {
                return Forecast.deny(name, bytes, Decision.Reason.WAITING_AHEAD, Math.max(0, bytes - accounts.free()),
                        Sentences.deniedBehind(name, bytes, ahead));
            }
            Instant deadline = now.plus(wait);
            return Forecast.waiting(name, bytes, List.of(), ahead + 1, deadline,
                    say.queuedBehind(name, bytes, ahead, deadline, now));
        }
        if (accounts.fits(bytes)) {
            return new Forecast(Forecast.Outcome.ADMIT, name, bytes, List.of(), List.of(), 0, Optional.empty(),
                    Optional.empty(), 0, Sentences.wouldAdmit(name, bytes, accounts.free() - bytes, budget.bytes()));
        }
        long free = accounts.free();
        Preemption.Planned planned = preemption.plan(priority, bytes, now);
        PreemptionPlanner.Plan<LeaseGroup> plan = planned.plan();
        return switch (plan.outcome()) {
            case FITS -> {
                Instant deadline = Preemption.later(now.plus(wait), planned.awaitedDeadline());
                yield Forecast.waiting(name, bytes, planned.awaited(), 1, deadline,
                        say.comingBack(name, bytes, free, planned.awaited(), deadline, now));
            }
            case PREEMPT -> {
                Instant deadline = Preemption.later(now.plus(wait), Preemption.evictionDeadline(plan.victims(), now));
                List<Lease> victims = Preemption.activeLeasesOf(plan.victims());
                yield new Forecast(Forecast.Outcome.PREEMPT, name, bytes, victims, List.of(), 0, Optional.of(deadline),
                        Optional.empty(), 0, say.preempting(name, bytes, free, victims, deadline, now));
            }
            case CANNOT_HELP -> {
                boolean lowerButNotPreemptible = preemption.lowerButNotPreemptible(priority);
                if (wait.isZero()) {
                    yield Forecast.deny(name, bytes, Decision.Reason.INSUFFICIENT_VRAM, bytes - free,
                            Sentences.deniedNoRoom(name, bytes, free, plan, lowerButNotPreemptible));
                }
                Instant deadline = now.plus(wait);
                yield Forecast.waiting(name, bytes, List.of(), 1, deadline,
                        say.queuedNoRoom(name, bytes, free, plan, lowerButNotPreemptible, deadline, now));
            }
        };
    }

    private void enqueue(Pending p, Instant deadline, List<Lease> awaited, String sentence, Instant now) {
        sentence = about(p, sentence);
        int position = queue.add(p, deadline);
        events.accept(new LedgerEvent.Queued(now, p.requestId, p.name(), p.bytes, position, deadline, sentence));
        Decision.Queued d = new Decision.Queued(p.requestId, p.name(), p.bytes, position, deadline, awaited, sentence);
        completions.afterBatch(() -> p.first.complete(d));
    }

    private void grant(Pending p, Instant now) {
        if (p.resizes()) {
            resized(p, accounts.slot(p.resizing), now);
            return;
        }
        queue.remove(p);
        p.done = true;
        Lease lease = Lease.active(new LeaseId(nextLeaseId++), p.name(), p.bytes, p.request.holder(),
                p.request.pids(), now);
        accounts.add(lease);
        journal.append(new JournalRecord.Granted(lease));
        Duration waited = Duration.between(p.submittedAt, now);
        List<Lease> victims = List.copyOf(p.victims);
        Decision.Final d = victims.isEmpty()
                ? new Decision.Admitted(p.requestId, lease, waited,
                        say.admitted(lease, waited, accounts.free(), accounts.budget().bytes()))
                : new Decision.AdmittedAfterPreemption(p.requestId, lease, victims, waited,
                        say.admittedAfterPreemption(lease, victims, waited));
        events.accept(new LedgerEvent.Admitted(now, p.requestId, lease, victims, waited, d.sentence()));
        acknowledge.granted(p, lease, d);
    }

    /**
     * The lease keeps its id, holder, grant time and state, now with the size asked for; a growth
     * is acknowledged once durable (rolled back when it cannot be), a shrink as a release is.
     */
    private void resized(Pending p, Accounts.Slot slot, Instant now) {
        queue.remove(p);
        p.done = true;
        Lease before = slot.lease;
        accounts.resize(slot, p.resizeTo);
        Lease after = slot.lease;
        journal.append(new JournalRecord.Resized(after.id(), after.bytes(), now));
        Duration waited = Duration.between(p.submittedAt, now);
        List<Lease> victims = List.copyOf(p.victims);
        String sentence = say.resized(before, after, victims, waited, accounts.free(), accounts.budget().bytes());
        Decision.Final d = victims.isEmpty()
                ? new Decision.Admitted(p.requestId, after, waited, sentence)
                : new Decision.AdmittedAfterPreemption(p.requestId, after, victims, waited, sentence);
        events.accept(new LedgerEvent.Resized(now, p.requestId, before.bytes(), after, victims, waited, sentence));
        if (after.bytes() > before.bytes()) {
            acknowledge.grown(p, before, d);
        } else {
            acknowledge.shrunk(p, d);
        }
    }

    /**
     * Before a waiting growth is fitted: the growth still needed, from the lease as it is now;
     * false (and denied) when the lease is gone or being evicted.
     */
    private boolean stillResizable(Pending p, Instant now) {
        Accounts.Slot slot = accounts.slot(p.resizing);
        if (slot == null) {
            deny(p, Decision.Reason.LEASE_NOT_FOUND, 0, List.of(), Sentences.noSuchLease(p.resizing), now);
            return false;
        }
        if (slot.lease.state() == LeaseState.EVICTING) {
            deny(p, Decision.Reason.LEASE_EVICTING, 0, List.of(), Sentences.leaseEvicting(), now);
            return false;
        }
        p.bytes = p.resizeTo - slot.lease.bytes();
        return true;
    }

    /** A growth's sentences say which lease grows. */
    private static String about(Pending p, String sentence) {
        return p.resizes() ? Sentences.growing(p.name(), p.resizing, p.resizeTo) + sentence : sentence;
    }

    private void deny(Pending p, Decision.Reason reason, long shortfall, List<Lease> inTheWay, String sentence,
            Instant now) {
        sentence = about(p, sentence);
        queue.remove(p);
        Duration waited = p.submittedAt == null ? Duration.ZERO : Duration.between(p.submittedAt, now);
        Decision.Denied d = new Decision.Denied(p.requestId, p.name(), p.bytes, reason, Math.max(0, shortfall), inTheWay,
                sentence);
        finish(p, d);
        events.accept(new LedgerEvent.Denied(now, p.requestId, p.name(), p.bytes, reason, d.shortfallBytes(), waited,
                sentence));
    }

    private void finish(Pending p, Decision.Denied d) {
        p.done = true;
        completions.afterBatch(() -> {
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
            queue.schedule(p);
            return;
        }
        List<Lease> outstanding = preemption.outstandingVictims(p);
        long free = accounts.free();
        if (!outstanding.isEmpty()) {
            deny(p, Decision.Reason.EVICTION_TOO_SLOW, p.bytes - free, preemption.inTheWay(p.priority()),
                    say.evictionTooSlow(p.name(), p.bytes, free, outstanding, now), now);
        } else {
            deny(p, Decision.Reason.DEADLINE_PASSED, p.bytes - free, preemption.inTheWay(p.priority()),
                    say.deadlinePassed(p.name(), p.bytes, free, Duration.between(p.submittedAt, now), now), now);
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
        while ((p = queue.head()) != null) {
            Instant now = clock.instant();
            if (p.resizes() && !stillResizable(p, now)) {
                continue;
            }
            if (p.bytes <= 0 || accounts.fits(p.bytes)) {
                grant(p, now);
                continue;
            }
            if (!preemption.outstandingVictims(p).isEmpty()) {
                return;
            }
            Preemption.Planned planned = preemption.plan(p, now);
            if (planned.plan().outcome() == PreemptionPlanner.Outcome.PREEMPT) {
                List<LeaseGroup> victims = planned.plan().victims();
                Instant deadline = Preemption.later(p.deadline, Preemption.evictionDeadline(victims, now));
                if (!deadline.equals(p.deadline)) {
                    p.deadline = deadline;
                    queue.schedule(p);
                }
                preemption.evict(p, victims, now);
            }
            return;
        }
    }

    // ---------------------------------------------------------------- releases

    boolean release(LeaseId id) {
        Accounts.Slot slot = accounts.slot(id);
        if (slot == null) {
            return false;
        }
        retire.released(slot, clock.instant());
        drain();
        return true;
    }

    /**
     * Releases every lease of {@code holder} and withdraws its waiting requests (a stopped
     * container or unit no longer wants them), so that a second call finds nothing.
     */
    int releaseHolder(String holder) {
        List<Accounts.Slot> held = accounts.heldBy(holder);
        Instant now = clock.instant();
        List<Pending> withdrawn = queue.heldBy(holder);
        for (Pending p : withdrawn) {
            deny(p, Decision.Reason.CANCELLED, 0, List.of(), Sentences.withdrawn(p.name(), p.bytes, holder,
                    Duration.between(p.submittedAt, now)), now);
        }
        for (Accounts.Slot s : held) {
            retire.released(s, now);
        }
        if (!held.isEmpty() || !withdrawn.isEmpty()) {
            drain();
        }
        return held.size();
    }

    /** Records a use of a counted lease: see {@link Accounts#touch}. */
    boolean touch(LeaseId id, Instant lastUsed) {
        return accounts.touch(id, lastUsed);
    }

    /** Runs {@code durable} once everything journaled so far is durable, or {@code failed}: see {@link Acknowledgements}. */
    void afterDurable(Runnable durable, Consumer<JournalUnavailableException> failed) {
        acknowledge.released(durable, failed);
    }

    /** The journal became writable again (or failed once more): requests waiting may now be admitted. */
    void journalHealthChanged() {
        drain();
    }

    // ---------------------------------------------------------------- observations

    void observe(Observation o) {
        Instant now = clock.instant();
        accounts.observe(o);
        reconciliation.settle(o, now);
        drain();
    }

    // ---------------------------------------------------------------- lifecycle, views

    void close() {
        closed = true;
        Instant now = clock.instant();
        for (Pending p : queue.all()) {
            deny(p, Decision.Reason.SHUTDOWN, 0, List.of(), Sentences.shutdown(p.name(), p.bytes), now);
        }
    }

    /** Called by the writer after each batch: compaction when due, then the group commit. */
    void afterBatch() {
        if (journal.wantsCompaction()) {
            journal.compact(new JournalRecord.Snapshot(nextLeaseId, accounts.leases()));
        }
        journal.commit();
    }

    /** Changes whenever the view would. */
    long version() {
        return accounts.version() + queue.version();
    }

    long committed() {
        return accounts.committed();
    }

    /** C recomputed from scratch; must equal {@link #committed()}. */
    long recomputeCommitted() {
        return accounts.recomputeCommitted();
    }

    /** Built once per batch that changed something; two passes over the leases, no sorting. */
    LedgerView view() {
        Budget budget = accounts.budget();
        Observation o = accounts.observation();
        return new LedgerView(version(), budget.deviceTotalBytes(), budget.headroomBytes(), budget.bytes(),
                accounts.committed(), accounts.leased(), accounts.unattributed(),
                o == null ? Optional.empty() : Optional.of(o.takenAt()), accounts.leases(),
                queue.view(preemption::outstandingVictims), accounts.usage());
    }
}
