package org.gpuagent.scheduler;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;
import org.gpuagent.scheduler.journal.Journal;

/**
 * The dry run: what {@link VramLedger} would decide for a request now, changing nothing (no
 * lease, no queue entry, no eviction, no event). It makes the same checks in the same order as
 * a request's arrival and decision; {@code ForecastTest} holds the two together, so a change to
 * one is a change to the other. Writer-only: it reads the accounts, the queue and the plans as
 * one batch leaves them.
 */
final class DryRun {
    private final SchedulerConfig config;
    private final InstantSource clock;
    private final Journal journal;
    private final Sentences say;
    private final Accounts accounts;
    private final WaitQueue queue;
    private final Preemption preemption;

    DryRun(SchedulerConfig config, InstantSource clock, Journal journal, Sentences say, Accounts accounts,
            WaitQueue queue, Preemption preemption) {
        this.config = config;
        this.clock = clock;
        this.journal = journal;
        this.say = say;
        this.accounts = accounts;
        this.queue = queue;
        this.preemption = preemption;
    }

    /** The forecast for {@code r}; {@code closed}: the ledger no longer admits anything. */
    Forecast forecast(AdmissionRequest r, boolean closed) {
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
}
