package org.gpuagent.scheduler.journal;

import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.gpuagent.scheduler.Timers;
import org.gpuagent.scheduler.journal.Journal.Durability;
import org.gpuagent.scheduler.journal.Journal.Health;

/**
 * The journal's one sync thread, and all that only it touches: the open file, the image of what
 * the journal was handed ({@link JournaledLeases}), the id high-water mark, and the journal's
 * {@link Health}. {@link FileJournal} describes what it promises; this class keeps it.
 *
 * <p><b>Threads.</b> The ledger's writer {@linkplain #hand hands over} items (encoded records, or
 * a snapshot to compact to) and durability callbacks under the {@code handoff} lock; everything
 * else here runs on the sync thread, except {@link #health()} (volatile) and {@link #stop()}.
 * A round takes everything handed over since the last one: one write, one fsync.
 *
 * <p><b>Failure.</b> A failed write or sync makes the journal unwritable: the round's callbacks
 * fail, and so does everything handed over until a retry ({@link RetrySchedule}) has written the
 * whole image as a fresh snapshot.
 */
final class SyncThread {
    /** What the writer's commit hands over: encoded records, and the records for the image. */
    record Chunk(byte[] bytes, List<JournalRecord> records) {
    }

    private final Path dir;
    private final Path file;
    private final FileOpener files;
    private final InstantSource clock;
    private final RetrySchedule retries;
    private final Logger log;
    private final List<Runnable> healthListeners = new CopyOnWriteArrayList<>();

    // Handed over by the writer, guarded by handoff.
    private final ReentrantLock handoff = new ReentrantLock();
    private final Condition work = handoff.newCondition();
    private List<Object> pendingItems = new ArrayList<>();
    private List<Durability> pendingCallbacks = new ArrayList<>();
    private boolean retryDue;
    private volatile boolean closing;
    private boolean closed;

    // The sync thread's own.
    private FileChannel channel;
    private final JournaledLeases image;
    private final LeaseIdReservation ids;
    private Instant failedSince;
    private volatile Health health = Health.WRITABLE;
    private final AtomicLong syncs = new AtomicLong();
    private final AtomicLong compactions = new AtomicLong();
    private final Thread thread;

    /**
     * @param opened      the directory, the file to append to, what it held and the id mark
     * @param threads     makes the sync thread
     * @param retryTimers fire the retries; empty: a timer thread of its own, started when first needed
     * @param log         where the journal's failures and recoveries are told (the journal's name)
     */
    SyncThread(JournalFiles.Opened opened, ThreadFactory threads, Optional<Timers> retryTimers, Duration firstRetry,
            Duration longestRetry, FileOpener files, InstantSource clock, Logger log) {
        this.dir = opened.dir();
        this.file = dir.resolve(JournalFiles.FILE_NAME);
        this.channel = opened.channel();
        this.ids = opened.ids();
        this.image = new JournaledLeases(new JournalRecord.Snapshot(opened.recovered().nextLeaseId(),
                opened.recovered().leases()));
        this.retries = new RetrySchedule(retryTimers, firstRetry, longestRetry, clock,
                daemonThreads("gpu-agent-journal-retry"));
        this.files = files;
        this.clock = clock;
        this.log = log;
        this.thread = threads.newThread(this::loop);
    }

    /** Daemon threads: the journal never keeps the JVM alive (the agent closes it at shutdown). */
    static ThreadFactory daemonThreads(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }

    void start() {
        thread.start();
    }

    Health health() {
        return health;
    }

    void onHealthChange(Runnable listener) {
        healthListeners.add(Objects.requireNonNull(listener, "listener"));
    }

    long syncCount() {
        return syncs.get();
    }

    long compactionCount() {
        return compactions.get();
    }

    /**
     * Hands over the writer's items and callbacks for the next round (the lists are copied).
     *
     * @return false when the thread is stopped: nothing was taken
     */
    boolean hand(List<Object> items, List<Durability> callbacks) {
        handoff.lock();
        try {
            if (closed) {
                return false;
            }
            pendingItems.addAll(items);
            pendingCallbacks.addAll(callbacks);
            work.signal();
            return true;
        } finally {
            handoff.unlock();
        }
    }

    private void loop() {
        List<Object> batch = new ArrayList<>();
        List<Durability> done = new ArrayList<>();
        while (true) {
            boolean retry;
            handoff.lock();
            try {
                while (pendingItems.isEmpty() && pendingCallbacks.isEmpty() && !retryDue && !closing) {
                    work.awaitUninterruptibly();
                }
                if (pendingItems.isEmpty() && pendingCallbacks.isEmpty() && !retryDue) {
                    break;
                }
                List<Object> i = batch;
                batch = pendingItems;
                pendingItems = i;
                List<Durability> c = done;
                done = pendingCallbacks;
                pendingCallbacks = c;
                retry = retryDue;
                retryDue = false;
            } finally {
                handoff.unlock();
            }
            for (Object item : batch) {
                // A compaction's snapshot was made from the state these records add up to: nothing to apply.
                if (item instanceof Chunk c) {
                    c.records().forEach(image::apply);
                }
            }
            if (health.writable()) {
                writeRound(batch);
            } else if (retry) {
                recover();
            }
            Health h = health;
            IOException unavailable = h.writable() ? null : new IOException("the ledger journal " + file
                    + " cannot be written (" + h.problem().orElseThrow() + ")");
            for (Durability d : done) {
                if (unavailable == null) {
                    notifyDurable(d);
                } else {
                    notifyFailed(d, unavailable);
                }
            }
            batch.clear();
            done.clear();
        }
        finish();
    }

    /** Writes one round: the id mark if the round hands out new ids, then the records, then one sync. */
    private void writeRound(List<Object> batch) {
        try {
            ids.cover(image.nextLeaseId() - 1);
            boolean appended = false;
            for (Object item : batch) {
                if (item instanceof Chunk c) {
                    DurableFile.writeFully(channel, ByteBuffer.wrap(c.bytes()));
                    appended = true;
                } else {
                    switchToSnapshot((JournalRecord.Snapshot) item);
                    compactions.incrementAndGet();
                }
            }
            if (appended) {
                channel.force(false);
                syncs.incrementAndGet();
            }
        } catch (IOException | RuntimeException e) {
            failed(e);
        }
    }

    private void switchToSnapshot(JournalRecord.Snapshot snapshot) throws IOException {
        JournalFiles.writeSnapshot(files, dir, snapshot);
        FileChannel old = channel;
        channel = JournalFiles.openForAppend(files, file);
        old.close();
    }

    /** A write or sync failed: stop appending to a file that cannot be trusted, and retry later. */
    private void failed(Exception e) {
        String problem = Objects.requireNonNullElse(e.getMessage(), e.toString());
        boolean first = health.writable();
        health = new Health(false, health.failedWrites() + 1, Optional.of(problem));
        if (first) {
            failedSince = clock.instant();
            retries.restart();
            log.log(Level.ERROR, "ledger journal " + file + " cannot be written (" + problem + "): admissions are"
                    + " refused and releases not acknowledged until it can; retrying");
            closeQuietly(channel);
            channel = null;
        } else {
            retries.backOff();
        }
        JournalFiles.removeHalfWrittenSnapshot(dir);
        // A retry that slips past stop() only finds the loop gone.
        if (!closing) {
            retries.schedule(this::retryNow);
        }
        healthChanged();
    }

    /** Stores everything the journal was handed as a fresh snapshot; on success it is writable again. */
    private void recover() {
        try {
            ids.cover(image.nextLeaseId() - 1);
            JournalFiles.writeSnapshot(files, dir, image.snapshot());
            channel = JournalFiles.openForAppend(files, file);
        } catch (IOException | RuntimeException e) {
            failed(e);
            return;
        }
        Health was = health;
        health = new Health(true, was.failedWrites(), Optional.empty());
        log.log(Level.INFO, "ledger journal " + file + " is writable again after " + Duration.between(failedSince,
                clock.instant()).toSeconds() + " s (" + was.failedWrites() + " failed writes so far); it holds"
                + " everything the ledger holds");
        healthChanged();
    }

    private void retryNow() {
        handoff.lock();
        try {
            retryDue = true;
            work.signal();
        } finally {
            handoff.unlock();
        }
    }

    private void healthChanged() {
        for (Runnable r : healthListeners) {
            try {
                r.run();
            } catch (RuntimeException e) {
                log.log(Level.ERROR, "a journal health listener failed", e);
            }
        }
    }

    /** After the last round: one more try if writing had failed, then the clean-close mark. */
    private void finish() {
        if (!health.writable()) {
            recover();
        }
        if (health.writable()) {
            try {
                DurableFile.writeNumber(files, dir.resolve(JournalFiles.CLOSED_NAME), channel.size());
            } catch (IOException e) {
                // Without the mark the next start treats this like a crash: nothing is lost.
                log.log(Level.WARNING, "ledger journal " + file + ": could not record its clean close: "
                        + e.getMessage());
            }
        }
    }

    void notifyDurable(Durability d) {
        try {
            d.durable();
        } catch (RuntimeException e) {
            log.log(Level.ERROR, "a durability callback failed", e);
        }
    }

    void notifyFailed(Durability d, IOException cause) {
        try {
            d.failed(cause);
        } catch (RuntimeException e) {
            log.log(Level.ERROR, "a durability callback failed", e);
        }
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // it is being given up
        }
    }

    /**
     * Lets the last round run (and {@link #finish} after it), waiting uninterruptibly for the thread
     * to end (an interrupt meanwhile is kept for the caller), then closes the file. Refuses later
     * hand-overs.
     *
     * @return false when it was stopped already (then it does nothing)
     * @throws IOException the file could not be closed, or the journal could not store everything
     *                     it was handed (it failed and its last retry failed too)
     */
    boolean stop() throws IOException {
        handoff.lock();
        try {
            if (closed) {
                return false;
            }
            closed = true;
            closing = true;
            work.signal();
        } finally {
            handoff.unlock();
        }
        retries.cancel();
        boolean interrupted = false;
        while (thread.isAlive()) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        retries.shutdown();
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (channel != null) {
            channel.close();
        }
        return true;
    }

    /**
     * @throws IOException the journal could not store the ledger's changes since it failed: the
     *                     next start replays it as it was then
     */
    void checkStored() throws IOException {
        Health h = health;
        if (!h.writable()) {
            throw new IOException("ledger journal " + file + " could not store the ledger's changes since "
                    + failedSince + " (" + h.problem().orElseThrow() + "); the next start replays it as it was then");
        }
    }
}
