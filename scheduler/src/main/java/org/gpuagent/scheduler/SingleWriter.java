package org.gpuagent.scheduler;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

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
    private final Supplier<Runnable> afterBatch;
    /** The thread draining right now; only ever compared with the current thread. */
    private Thread drainer;

    /**
     * @param afterBatch runs while still the writer, after each batch of commands (publishes the
     *                   view, commits the journal); what it returns runs after the writer is
     *                   released (completing futures: waking callers is kept out of the writer)
     */
    SingleWriter(Executor overflow, int batchLimit, Supplier<Runnable> afterBatch) {
        this.overflow = Objects.requireNonNull(overflow, "overflow");
        this.batchLimit = batchLimit;
        this.afterBatch = Objects.requireNonNull(afterBatch, "afterBatch");
    }

    /** True on the thread that is running commands right now. */
    boolean onWriter() {
        return drainer == Thread.currentThread();
    }

    void submit(Runnable command) {
        commands.offer(command);
        drain();
    }

    private void drain() {
        while (!commands.isEmpty() && draining.compareAndSet(false, true)) {
            int ran = 0;
            Runnable afterRelease = null;
            drainer = Thread.currentThread();
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
                    afterRelease = afterBatch.get();
                } catch (RuntimeException e) {
                    LOG.log(Level.ERROR, "publishing the ledger failed", e);
                } finally {
                    drainer = null;
                    draining.set(false);
                }
            }
            if (afterRelease != null) {
                try {
                    afterRelease.run();
                } catch (RuntimeException e) {
                    LOG.log(Level.ERROR, "completing requests failed", e);
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
