package org.gpuagent.scheduler;

import java.io.IOException;
import java.time.InstantSource;
import java.util.function.Consumer;
import org.gpuagent.scheduler.journal.Journal;

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
                completions.onWriter(() -> rollBack(lease, p, cause));
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
