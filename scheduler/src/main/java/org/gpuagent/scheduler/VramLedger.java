package org.gpuagent.scheduler;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;
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
 * <li>{@link Answers}: how a request is told what was decided (queued, granted, denied), with its
 *     event;
 * <li>{@link Resizing}: the resize path (a lease asking for another size);
 * <li>{@link DryRun}: what a request would be told now, changing nothing;
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
    private final Completions completions;
    private final Sentences say;
    private final Accounts accounts;
    private final WaitQueue queue;
    private final Preemption preemption;
    private final Retirement retire;
    private final Reconciliation reconciliation;
    private final Acknowledgements acknowledge;
    private final Answers answers;
    private final Resizing resizing;
    private final DryRun dryRun;

    private boolean closed;

    VramLedger(SchedulerConfig config, InstantSource clock, Timers timers, Journal journal, Evictor evictor,
            Consumer<LedgerEvent> events, Completions completions, Sentences say) {
        this.config = config;
        this.clock = clock;
        this.journal = journal;
        this.completions = completions;
        this.say = say;
        this.accounts = new Accounts(config, LOG);
        this.queue = new WaitQueue(timers, completions, this::expire);
        this.preemption = new Preemption(accounts, journal, evictor, events, say, LOG);
        this.retire = new Retirement(accounts, journal, events, say);
        this.reconciliation = new Reconciliation(accounts, retire, events);
        this.acknowledge = new Acknowledgements(accounts, journal, retire, completions, clock);
        RecoveredLedger recovered = journal.recovered();
        this.answers = new Answers(accounts, queue, journal, events, completions, say, acknowledge,
                recovered.nextLeaseId());
        this.resizing = new Resizing(accounts, queue, journal, events, say, acknowledge, answers);
        this.dryRun = new DryRun(config, clock, journal, say, accounts, queue, preemption);
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
            answers.finish(p, new Decision.Denied(p.requestId, p.request.service(), requested, Decision.Reason.UNKNOWN_SERVICE,
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

    /** A resize: a shrink is applied at once (and may admit requests waiting); a growth is decided as a request. */
    private void arriveResize(Pending p) {
        Instant now = clock.instant();
        p.submittedAt = now;
        if (!resizing.adopt(p) || refusedOutright(p, p.resizeTo, now)) {
            return;
        }
        if (p.bytes <= 0) {
            resizing.resized(p, now);
            drain();
            return;
        }
        if (resizing.stillResizable(p, now)) {
            decide(p, now);
        }
    }

    /** Refuses {@code p} when the ledger is closed, the journal not writable, or {@code total} over the budget. */
    private boolean refusedOutright(Pending p, long total, Instant now) {
        if (closed) {
            answers.deny(p, Decision.Reason.SHUTDOWN, 0, List.of(), Sentences.shutdown(p.name(), p.bytes), now);
            return true;
        }
        Journal.Health health = journal.health();
        if (!health.writable()) {
            answers.deny(p, Decision.Reason.JOURNAL_UNAVAILABLE, 0, List.of(),
                    Sentences.journalUnavailable(p.name(), p.bytes, health.problem().orElseThrow()), now);
            return true;
        }
        Budget budget = accounts.budget();
        if (budget.exceededBy(total)) {
            answers.deny(p, Decision.Reason.EXCEEDS_BUDGET, p.bytes - Math.max(0, accounts.free()), List.of(),
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
                answers.deny(p, Decision.Reason.WAITING_AHEAD, Math.max(0, p.bytes - accounts.free()), List.of(),
                        Sentences.deniedBehind(p.name(), p.bytes, ahead), now);
            } else {
                Instant deadline = now.plus(wait);
                answers.enqueue(p, deadline, List.of(), say.queuedBehind(p.name(), p.bytes, ahead, deadline, now), now);
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
                answers.enqueue(p, deadline, planned.awaited(),
                        say.comingBack(p.name(), p.bytes, free, planned.awaited(), deadline, now), now);
            }
            case PREEMPT -> {
                Instant deadline = Preemption.later(now.plus(wait), Preemption.evictionDeadline(plan.victims(), now));
                p.deadline = deadline;
                List<Lease> victims = preemption.evict(p, plan.victims(), now);
                answers.enqueue(p, deadline, victims, say.preempting(p.name(), p.bytes, free, victims, deadline, now), now);
            }
            case CANNOT_HELP -> {
                boolean lowerButNotPreemptible = preemption.lowerButNotPreemptible(p.priority());
                if (wait.isZero()) {
                    answers.deny(p, Decision.Reason.INSUFFICIENT_VRAM, p.bytes - free, preemption.inTheWay(p.priority()),
                            Sentences.deniedNoRoom(p.name(), p.bytes, free, plan, lowerButNotPreemptible), now);
                } else {
                    Instant deadline = now.plus(wait);
                    answers.enqueue(p, deadline, List.of(), say.queuedNoRoom(p.name(), p.bytes, free, plan,
                            lowerButNotPreemptible, deadline, now), now);
                }
            }
        }
    }

    /** What {@link #request} would decide for {@code r} now, changing nothing: see {@link DryRun}. */
    Forecast forecast(AdmissionRequest r) {
        return dryRun.forecast(r, closed);
    }

    private void grant(Pending p, Instant now) {
        if (p.resizes()) {
            resizing.resized(p, now);
        } else {
            answers.grant(p, now);
        }
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
            answers.deny(p, Decision.Reason.EVICTION_TOO_SLOW, p.bytes - free, preemption.inTheWay(p.priority()),
                    say.evictionTooSlow(p.name(), p.bytes, free, outstanding, now), now);
        } else {
            answers.deny(p, Decision.Reason.DEADLINE_PASSED, p.bytes - free, preemption.inTheWay(p.priority()),
                    say.deadlinePassed(p.name(), p.bytes, free, Duration.between(p.submittedAt, now), now), now);
        }
        drain();
    }

    void cancel(Pending p) {
        if (p.done || !p.queued) {
            return;
        }
        Instant now = clock.instant();
        answers.deny(p, Decision.Reason.CANCELLED, 0, List.of(),
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
            if (p.resizes() && !resizing.stillResizable(p, now)) {
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
            answers.deny(p, Decision.Reason.CANCELLED, 0, List.of(), Sentences.withdrawn(p.name(), p.bytes, holder,
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
            answers.deny(p, Decision.Reason.SHUTDOWN, 0, List.of(), Sentences.shutdown(p.name(), p.bytes), now);
        }
    }

    /** Called by the writer after each batch: compaction when due, then the group commit. */
    void afterBatch() {
        if (journal.wantsCompaction()) {
            journal.compact(new JournalRecord.Snapshot(answers.nextLeaseId(), accounts.leases()));
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
