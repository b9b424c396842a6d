package org.gpuagent.scheduler;

import java.io.IOException;
import java.time.InstantSource;
import java.util.function.Consumer;
import org.gpuagent.scheduler.journal.Journal;
import org.gpuagent.scheduler.journal.JournalRecord;

/**
 * What waits for the journal. A grant is acknowledged only once its lease is durable, and rolled
 * back when the journal cannot store it; a release is acknowledged once the ledger's state without
 * the lease is durable. Called on the writer; the journal's verdicts come back through
 * {@link Completions}.
 */
final class Acknowledgements {
    private final Accounts accounts;
    private final Journal journal;
    private final Retirement retire;
    private final Completions completions;
    private final InstantSource clock;

    Acknowledgements(Accounts accounts, Journal journal, Retirement retire, Completions completions,
            InstantSource clock) {
        this.accounts = accounts;
        this.journal = journal;
        this.retire = retire;
        this.completions = completions;
        this.clock = clock;
    }

    /** Completes {@code p} with {@code decision} once {@code lease} is durable; rolls it back if it cannot be. */
    void granted(Pending p, Lease lease, Decision.Final decision) {
        answerWhenDurable(p, decision, cause -> rollBack(lease, p, cause));
    }

    /** Completes {@code p} with {@code decision} once durable; else runs {@code undo} on the writer. */
    private void answerWhenDurable(Pending p, Decision.Final decision, Consumer<IOException> undo) {
        journal.afterDurable(new Journal.Durability() {
            @Override
            public void durable() {
                completions.afterStore(() -> {
                    p.first.complete(decision);
                    p.outcome.complete(decision);
                });
            }

            @Override
            public void failed(IOException cause) {
                completions.onWriter(() -> undo.accept(cause));
            }
        });
    }

    /**
     * Runs {@code durable} once everything journaled so far is durable, or {@code failed} when it
     * could not be stored (the journal is not writable; it will be stored when the journal
     * recovers, unless the agent stops first).
     */
    void released(Runnable durable, Consumer<JournalUnavailableException> failed) {
        journal.afterDurable(new Journal.Durability() {
            @Override
            public void durable() {
                completions.afterStore(durable);
            }

            @Override
            public void failed(IOException cause) {
                JournalUnavailableException e = new JournalUnavailableException(
                        "the release is not stored yet: " + cause.getMessage(), cause);
                completions.afterStore(() -> failed.accept(e));
            }
        });
    }

    /**
     * Completes a growth of {@code before} once durable; when it cannot be, the lease shrinks back
     * (if it is still larger) and the request fails, as a grant that cannot be stored does.
     */
    void grown(Pending p, Lease before, Decision.Final decision) {
        answerWhenDurable(p, decision, cause -> {
            Accounts.Slot slot = accounts.slot(before.id());
            if (slot != null && slot.lease.bytes() > before.bytes()) {
                accounts.resize(slot, before.bytes());
                journal.append(new JournalRecord.Resized(before.id(), before.bytes(), clock.instant()));
            }
            fail(p, new JournalUnavailableException("the ledger journal could not store the growth of lease "
                    + before.id() + ": " + cause.getMessage(), cause));
        });
    }

    /**
     * Completes a shrink once durable; when it cannot be, the lease stays smaller in the ledger (as
     * a release stays released) and the request fails; the journal stores it when it recovers.
     */
    void shrunk(Pending p, Decision.Final decision) {
        journal.afterDurable(new Journal.Durability() {
            @Override
            public void durable() {
                completions.afterStore(() -> {
                    p.first.complete(decision);
                    p.outcome.complete(decision);
                });
            }

            @Override
            public void failed(IOException cause) {
                JournalUnavailableException e = new JournalUnavailableException(
                        "the resize is not stored yet: " + cause.getMessage(), cause);
                completions.afterStore(() -> {
                    p.first.completeExceptionally(e);
                    p.outcome.completeExceptionally(e);
                });
            }
        });
    }

    private void fail(Pending p, JournalUnavailableException failure) {
        completions.afterBatch(() -> {
            p.first.completeExceptionally(failure);
            p.outcome.completeExceptionally(failure);
        });
    }

    private void rollBack(Lease lease, Pending p, IOException cause) {
        Accounts.Slot slot = accounts.slot(lease.id());
        if (slot != null) {
            retire.rolledBack(slot, clock.instant(), cause);
        }
        JournalUnavailableException failure = new JournalUnavailableException(
                "the ledger journal could not store lease " + lease.id() + ": " + cause.getMessage(), cause);
        completions.afterBatch(() -> {
            p.first.completeExceptionally(failure);
            p.outcome.completeExceptionally(failure);
        });
        // No drain: the journal is not writable now, and it drains when it is again.
    }
}
