package org.gpuagent.scheduler;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.function.Consumer;
import org.gpuagent.scheduler.journal.Journal;
import org.gpuagent.scheduler.journal.JournalRecord;

/**
 * How a request is answered once {@link VramLedger} has decided: queued, granted a new lease, or
 * denied, each with its event to the listeners (at once, in order) and its decision to the
 * caller's futures (after the batch, through {@link Completions}; a grant only once its lease is
 * durable, through {@link Acknowledgements}). A resize's grant is {@link Resizing}'s. Writer-only.
 */
final class Answers {
    private final Accounts accounts;
    private final WaitQueue queue;
    private final Journal journal;
    private final Consumer<LedgerEvent> events;
    private final Completions completions;
    private final Sentences say;
    private final Acknowledgements acknowledge;

    /** The id the next lease gets; never reused, carried across restarts by the journal. */
    private long nextLeaseId;

    Answers(Accounts accounts, WaitQueue queue, Journal journal, Consumer<LedgerEvent> events,
            Completions completions, Sentences say, Acknowledgements acknowledge, long nextLeaseId) {
        this.accounts = accounts;
        this.queue = queue;
        this.journal = journal;
        this.events = events;
        this.completions = completions;
        this.say = say;
        this.acknowledge = acknowledge;
        this.nextLeaseId = nextLeaseId;
    }

    /** What a snapshot of the journal records as the next lease id. */
    long nextLeaseId() {
        return nextLeaseId;
    }

    void enqueue(Pending p, Instant deadline, List<Lease> awaited, String sentence, Instant now) {
        sentence = Resizing.about(p, sentence);
        int position = queue.add(p, deadline);
        events.accept(new LedgerEvent.Queued(now, p.requestId, p.name(), p.bytes, position, deadline, sentence));
        Decision.Queued d = new Decision.Queued(p.requestId, p.name(), p.bytes, position, deadline, awaited, sentence);
        completions.afterBatch(() -> p.first.complete(d));
    }

    /** A new lease of {@code p.bytes} for the request's service and holder. */
    void grant(Pending p, Instant now) {
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

    void deny(Pending p, Decision.Reason reason, long shortfall, List<Lease> inTheWay, String sentence,
            Instant now) {
        sentence = Resizing.about(p, sentence);
        queue.remove(p);
        Duration waited = p.submittedAt == null ? Duration.ZERO : Duration.between(p.submittedAt, now);
        Decision.Denied d = new Decision.Denied(p.requestId, p.name(), p.bytes, reason, Math.max(0, shortfall), inTheWay,
                sentence);
        finish(p, d);
        events.accept(new LedgerEvent.Denied(now, p.requestId, p.name(), p.bytes, reason, d.shortfallBytes(), waited,
                sentence));
    }

    /** Ends {@code p} with {@code d} and no event: for a request refused before it names a service. */
    void finish(Pending p, Decision.Denied d) {
        p.done = true;
        completions.afterBatch(() -> {
            p.first.complete(d);
            p.outcome.complete(d);
        });
    }
}
