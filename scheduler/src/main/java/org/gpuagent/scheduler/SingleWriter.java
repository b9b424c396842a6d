package org.gpuagent.scheduler;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Runs commands one at a time, in submission order, on whichever thread finds it idle: the
 * ledger's single writer without a dedicated thread. {@link #submit} never waits for another
 * thread; when the writer is busy the command is left in a lock-free queue for the thread that
 * is draining it. A drainer runs at most {@code batchLimit} commands, then hands the rest to
 * {@code overflow}, so no caller is kept busy with other callers' work for long.
 *
 * <p>Mutual exclusion and memory visibility come from the {@code draining} flag: every command
 * runs while it is held, and successive holders synchronise through it.
 */
final class SingleWriter {
    private static final Logger LOG = System.getLogger(SingleWriter.class.getName());

    private final ConcurrentLinkedQueue<Runnable> commands = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean draining = new AtomicBoolean();
    private final Executor overflow;
    private final int batchLimit;
    private final Runnable afterBatch;

    /**
     * @param afterBatch runs while still the writer, after each batch of commands (publishes the
     *                   view, commits the journal)
     */
    SingleWriter(Executor overflow, int batchLimit, Runnable afterBatch) {
        this.overflow = Objects.requireNonNull(overflow, "overflow");
        this.batchLimit = batchLimit;
        this.afterBatch = Objects.requireNonNull(afterBatch, "afterBatch");
    }

    void submit(Runnable command) {
        commands.offer(command);
        drain();
    }

    private void drain() {
        while (!commands.isEmpty() && draining.compareAndSet(false, true)) {
            int ran = 0;
            try {
                Runnable c;
                while (ran < batchLimit && (c = commands.poll()) != null) {
                    ran++;
                    try {
                        c.run();
                    } catch (RuntimeException | Error e) {
                        if (e instanceof VirtualMachineError) {
                            throw e;
                        }
                        LOG.log(Level.ERROR, "a ledger command failed; the ledger carries on", e);
                    }
                }
            } finally {
                try {
                    afterBatch.run();
                } catch (RuntimeException e) {
                    LOG.log(Level.ERROR, "publishing the ledger failed", e);
                } finally {
                    draining.set(false);
                }
            }
            if (ran == batchLimit && !commands.isEmpty()) {
                try {
                    overflow.execute(this::drain);
                    return;
                } catch (RejectedExecutionException e) {
                    // The overflow executor is shut down: keep draining here rather than strand commands.
                }
            }
        }
    }
}
