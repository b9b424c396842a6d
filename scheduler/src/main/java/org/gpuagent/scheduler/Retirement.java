package org.gpuagent.scheduler;

import java.io.IOException;
import java.time.Instant;
import java.util.function.Consumer;
import org.gpuagent.scheduler.journal.Journal;
import org.gpuagent.scheduler.journal.JournalRecord;

/**
 * The one way a lease leaves the ledger: out of the accounts, into the journal as released with
 * its cause, and out to the listeners as the event of that cause. Writer-only.
 */
final class Retirement {
    private final Accounts accounts;
    private final Journal journal;
    private final Consumer<LedgerEvent> events;
    private final Sentences say;

    Retirement(Accounts accounts, Journal journal, Consumer<LedgerEvent> events, Sentences say) {
        this.accounts = accounts;
        this.journal = journal;
        this.events = events;
        this.say = say;
    }

    /** Released on request, by id or by holder. */
    void released(Accounts.Slot slot, Instant now) {
        Lease gone = retire(slot, JournalRecord.Cause.RELEASED, now);
        events.accept(new LedgerEvent.Released(now, gone, Sentences.released(gone)));
    }

    /** An evicting lease whose memory came back. */
    void evicted(Accounts.Slot slot, Instant now) {
        Lease gone = retire(slot, JournalRecord.Cause.EVICTED, now);
        events.accept(new LedgerEvent.Evicted(now, gone, Sentences.evicted(gone)));
    }

    /** A lease whose holder has been gone since {@link Accounts.Slot#goneSince} for the grace period. */
    void reclaimed(Accounts.Slot slot, Instant now) {
        Instant since = slot.goneSince;
        Lease gone = retire(slot, JournalRecord.Cause.RECLAIMED, now);
        events.accept(new LedgerEvent.Reclaimed(now, gone, since, say.reclaimed(gone, since, now)));
    }

    /** A granted lease the journal could not store: its request failed, so it never was. */
    void rolledBack(Accounts.Slot slot, Instant now, IOException cause) {
        Lease gone = retire(slot, JournalRecord.Cause.ROLLED_BACK, now);
        events.accept(new LedgerEvent.RolledBack(now, gone, Sentences.rolledBack(gone, cause)));
    }

    private Lease retire(Accounts.Slot slot, JournalRecord.Cause cause, Instant now) {
        Lease gone = accounts.remove(slot);
        journal.append(new JournalRecord.Released(gone.id(), now, cause));
        return gone;
    }
}
