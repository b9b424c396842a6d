package org.gpuagent.scheduler;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.OptionalLong;
import java.util.function.Consumer;
import org.gpuagent.scheduler.journal.Journal;
import org.gpuagent.scheduler.journal.JournalRecord;

/**
 * The resize path: a counted lease asks for another size. A shrink is applied at once; a growth
 * is an admission of the difference, which {@link VramLedger} decides as it does a request of the
 * lease's service and holder, measured again from the lease as it is before every fit check.
 * Applied, the lease keeps its id, holder, grant time and state. Writer-only.
 */
final class Resizing {
    private final Accounts accounts;
    private final WaitQueue queue;
    private final Journal journal;
    private final Consumer<LedgerEvent> events;
    private final Sentences say;
    private final Acknowledgements acknowledge;
    private final Answers answers;

    Resizing(Accounts accounts, WaitQueue queue, Journal journal, Consumer<LedgerEvent> events, Sentences say,
            Acknowledgements acknowledge, Answers answers) {
        this.accounts = accounts;
        this.queue = queue;
        this.journal = journal;
        this.events = events;
        this.say = say;
        this.acknowledge = acknowledge;
        this.answers = answers;
    }

    /**
     * On arrival: {@code p} becomes a request of the lease's service and holder for the growth
     * needed (zero or less for a shrink); false (and denied) when there is no such lease.
     */
    boolean adopt(Pending p) {
        Accounts.Slot slot = accounts.slot(p.resizing);
        if (slot == null) {
            answers.finish(p, new Decision.Denied(p.requestId, "", p.resizeTo, Decision.Reason.LEASE_NOT_FOUND, 0,
                    List.of(), Sentences.noSuchLease(p.resizing)));
            return false;
        }
        Lease lease = slot.lease;
        p.service = slot.group.service;
        p.request = new AdmissionRequest(lease.service(), OptionalLong.of(p.resizeTo), lease.holder(), List.of(),
                p.request.maxWait());
        p.bytes = p.resizeTo - lease.bytes();
        return true;
    }

    /**
     * Before a growth is fitted: the growth still needed, from the lease as it is now; false (and
     * denied) when the lease is gone or being evicted.
     */
    boolean stillResizable(Pending p, Instant now) {
        Accounts.Slot slot = accounts.slot(p.resizing);
        if (slot == null) {
            answers.deny(p, Decision.Reason.LEASE_NOT_FOUND, 0, List.of(), Sentences.noSuchLease(p.resizing), now);
            return false;
        }
        if (slot.lease.state() == LeaseState.EVICTING) {
            answers.deny(p, Decision.Reason.LEASE_EVICTING, 0, List.of(), Sentences.leaseEvicting(), now);
            return false;
        }
        p.bytes = p.resizeTo - slot.lease.bytes();
        return true;
    }

    /**
     * The lease now has the size asked for; a growth is acknowledged once durable (rolled back when
     * it cannot be), a shrink as a release is.
     */
    void resized(Pending p, Instant now) {
        Accounts.Slot slot = accounts.slot(p.resizing);
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

    /** A growth's sentences say which lease grows. */
    static String about(Pending p, String sentence) {
        return p.resizes() ? Sentences.growing(p.name(), p.resizing, p.resizeTo) + sentence : sentence;
    }
}
