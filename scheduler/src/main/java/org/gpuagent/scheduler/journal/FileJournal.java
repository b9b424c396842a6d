package org.gpuagent.scheduler.journal;

import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.gpuagent.scheduler.ScheduledExecutorTimers;
import org.gpuagent.scheduler.Timers;

/**
 * The ledger journal in a state directory: {@code <dir>/ledger.journal}, append-only, every record
 * checksummed (length + CRC32C, see {@link JournalCodec}), synced with
 * {@link FileChannel#force(boolean)} before the ledger acknowledges what it holds. Its files are
 * mode 0600 whatever the umask.
 *
 * <p><b>Group commit.</b> Appends go to a buffer owned by the ledger's writer; {@link #commit()}
 * hands the buffer to one sync thread, which writes everything handed over since its last round
 * and syncs once. While it syncs, new records gather for the next round, so concurrent requests
 * share fsyncs instead of queueing for one each.
 *
 * <p><b>Compaction.</b> When more than {@link Options#compactionThresholdBytes()} were appended
 * since the last snapshot, the ledger hands over a snapshot: the sync thread writes it alone to
 * {@code ledger.journal.compacting}, syncs it, renames it over {@code ledger.journal} (atomic),
 * syncs the directory, and appends to the new file from then on. A crash at any point leaves
 * either the old or the new file, both complete.
 *
 * <p><b>A failed write is a state the journal leaves by itself.</b> When a write or sync fails
 * (a full disk, an I/O error), the records of that round are not acknowledged (their
 * {@link Durability}s fail) and the journal is {@linkplain #health() not writable}: what it is
 * handed meanwhile fails at once, and the ledger admits nothing. After a failed fsync the file's
 * content cannot be trusted, so the journal does not append to it again: the sync thread keeps
 * what every record handed to it adds up to ({@link JournaledLeases}) and retries, after
 * {@link Options#firstRetry()} and then twice as long each time up to
 * {@link Options#longestRetry()}, by writing all of it as a fresh snapshot (as compaction does).
 * When that succeeds the journal is writable again and holds everything, including releases that
 * were refused meanwhile (their callers were told so, and asking again now succeeds).
 *
 * <p><b>Lease ids</b> never repeat for the life of the directory: see {@link LeaseIdReservation}.
 *
 * <p><b>Recovery</b> at {@link #open}: see {@link JournalReplay} for what is tolerated (an
 * unfinished last record after a run that did not close the journal) and what is refused (all other
 * damage: {@link JournalCorruptedException} with the byte offset; the file is left in place and
 * the message gives the command that moves it aside). A clean {@link #close()} records the file's
 * length in {@code ledger.closed}, removed at the next open, so that a journal cut short after a
 * clean stop is refused rather than read as a crash. The recovered state is then rewritten as a
 * fresh snapshot, so the file is clean before the first append. A lock on {@code ledger.lock}
 * keeps a second process off the same directory.
 */
public final class FileJournal implements Journal {
    public static final String FILE_NAME = "ledger.journal";
    public static final String LOCK_NAME = "ledger.lock";
    /** Holds the journal's length after a clean close; absent while the journal is open. */
    public static final String CLOSED_NAME = "ledger.closed";
    public static final String IDS_NAME = LeaseIdReservation.FILE_NAME;
    static final String COMPACTING_SUFFIX = ".compacting";

    private static final Logger LOG = System.getLogger(FileJournal.class.getName());
    private static final DateTimeFormatter STAMP =
            DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

    /**
     * @param compactionThresholdBytes bytes appended since the last snapshot before another is
     *                                 wanted
     * @param syncThreads              makes the one sync thread (the agent owns threads)
     * @param retryTimers              fires the retries after a failed write; empty: the journal
     *                                 starts its own timer thread when it first needs one
     * @param firstRetry               the wait before the first retry
     * @param longestRetry             the longest wait between retries (each doubles the last)
     * @param files                    opens the files; {@code FileChannel::open} but in tests
     */
    public record Options(long compactionThresholdBytes, ThreadFactory syncThreads, Optional<Timers> retryTimers,
            Duration firstRetry, Duration longestRetry, FileOpener files) {
        public Options {
            Objects.requireNonNull(syncThreads, "syncThreads");
            Objects.requireNonNull(retryTimers, "retryTimers");
            Objects.requireNonNull(files, "files");
            if (compactionThresholdBytes <= 0) {
                throw new IllegalArgumentException("compaction threshold must be positive");
            }
            if (firstRetry.isNegative() || firstRetry.isZero() || longestRetry.compareTo(firstRetry) < 0) {
                throw new IllegalArgumentException("retry delays must be positive, the longest at least the first; got "
                        + firstRetry + " and " + longestRetry);
            }
        }

        /** 4 MiB between snapshots; retries after 250 ms, then up to every 5 s. */
        public static Options defaults() {
            return new Options(4L << 20, daemonThreads("gpu-agent-journal-sync"), Optional.empty(),
                    Duration.ofMillis(250), Duration.ofSeconds(5), FileChannel::open);
        }

        public Options withCompactionThreshold(long bytes) {
            return new Options(bytes, syncThreads, retryTimers, firstRetry, longestRetry, files);
        }

        public Options withRetries(Timers timers, Duration first, Duration longest) {
            return new Options(compactionThresholdBytes, syncThreads, Optional.of(timers), first, longest, files);
        }

        public Options withFiles(FileOpener opener) {
            return new Options(compactionThresholdBytes, syncThreads, retryTimers, firstRetry, longestRetry, opener);
        }
    }

    /** What {@link #commit()} hands over: encoded records, and the records for the sync thread's image. */
    private record Chunk(byte[] bytes, List<JournalRecord> records) {
    }

    /** Daemon threads: the journal never keeps the JVM alive (the agent closes it at shutdown). */
    static ThreadFactory daemonThreads(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }

    private final Path dir;
    private final Path file;
    private final Options options;
    private final InstantSource clock;
    private final RecoveredLedger recovered;
    private final FileChannel lockChannel;
    private final List<Runnable> healthListeners = new CopyOnWriteArrayList<>();

    // Writer side (the ledger's single writer): records gather here until commit().
    private final FrameBuffer out = new FrameBuffer(4096);
    private List<JournalRecord> outRecords = new ArrayList<>();
    private final List<Object> items = new ArrayList<>();
    private final List<Durability> callbacks = new ArrayList<>();
    private long bytesSinceSnapshot;

    // Handed over to the sync thread, guarded by handoff.
    private final ReentrantLock handoff = new ReentrantLock();
    private final Condition work = handoff.newCondition();
    private List<Object> pendingItems = new ArrayList<>();
    private List<Durability> pendingCallbacks = new ArrayList<>();
    private boolean retryDue;
    private volatile boolean closing;
    private boolean closed;
    private volatile Timers.Cancellable retryTimer;
    private ScheduledThreadPoolExecutor ownTimerThread;

    // Sync thread side.
    private FileChannel channel;
    private final JournaledLeases image;
    private final LeaseIdReservation ids;
    private Duration retryDelay;
    private Instant failedSince;
    private volatile Health health = Health.WRITABLE;
    private final AtomicLong syncs = new AtomicLong();
    private final AtomicLong compactions = new AtomicLong();
    private final Thread syncThread;

    private FileJournal(Path dir, Options options, InstantSource clock, RecoveredLedger recovered,
            LeaseIdReservation ids, FileChannel lockChannel, FileChannel channel) {
        this.dir = dir;
        this.file = dir.resolve(FILE_NAME);
        this.options = options;
        this.clock = clock;
        this.recovered = recovered;
        this.ids = ids;
        this.lockChannel = lockChannel;
        this.channel = channel;
        this.image = new JournaledLeases(new JournalRecord.Snapshot(recovered.nextLeaseId(), recovered.leases()));
        this.syncThread = options.syncThreads().newThread(this::syncLoop);
    }

    /** Opens (creating if needed) the journal in {@code stateDir}, with default options. */
    public static FileJournal open(Path stateDir, InstantSource clock) throws IOException {
        return open(stateDir, clock, Options.defaults());
    }

    /**
     * Opens the journal, replays it and rewrites it as one snapshot.
     *
     * @param clock times retries, and names the file a damaged journal should be moved to
     * @throws JournalCorruptedException the file is damaged; it was left untouched
     * @throws IOException               the directory is unusable or locked by another process, the
     *                                   file was written by a newer version, or the id high-water
     *                                   mark is unreadable
     */
    public static FileJournal open(Path stateDir, InstantSource clock, Options options) throws IOException {
        Objects.requireNonNull(clock, "clock");
        Objects.requireNonNull(options, "options");
        Path dir = stateDir.toAbsolutePath();
        Files.createDirectories(dir);
        FileChannel lockChannel = DurableFile.openOwnerOnly(options.files(), dir.resolve(LOCK_NAME));
        FileLock lock = null;
        try {
            try {
                lock = lockChannel.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null;
            }
            if (lock == null) {
                throw new IOException("state directory " + dir + " is in use by another gpu-agent ("
                        + dir.resolve(LOCK_NAME) + " is locked)");
            }
            Path file = dir.resolve(FILE_NAME);
            Files.deleteIfExists(dir.resolve(FILE_NAME + COMPACTING_SUFFIX));
            LeaseIdReservation ids = LeaseIdReservation.read(options.files(), dir);
            Path closedMark = dir.resolve(CLOSED_NAME);
            OptionalLong closedLength = DurableFile.readNumber(closedMark, "the journal's clean-close mark");
            RecoveredLedger recovered = recover(file, closedLength, ids, clock);
            for (String w : recovered.warnings()) {
                LOG.log(Level.WARNING, "ledger journal " + file + ": " + w);
            }
            // Before the file changes: a mark that outlived it would make the next start refuse it.
            if (Files.deleteIfExists(closedMark)) {
                DurableFile.forceDirectory(options.files(), dir);
            }
            writeSnapshotFile(options.files(), dir, new JournalRecord.Snapshot(recovered.nextLeaseId(),
                    recovered.leases()));
            FileChannel channel = openForAppend(options.files(), file);
            FileJournal journal = new FileJournal(dir, options, clock, recovered, ids, lockChannel, channel);
            journal.syncThread.start();
            return journal;
        } catch (IOException | RuntimeException e) {
            lockChannel.close(); // and with it the lock
            throw e;
        }
    }

    private static RecoveredLedger recover(Path file, OptionalLong closedLength, LeaseIdReservation ids,
            InstantSource clock) throws IOException {
        long floor = ids.reservedThrough() + 1;
        byte[] data;
        try {
            data = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            List<String> warnings = closedLength.isPresent()
                    ? List.of("there is no journal, although the agent closed it cleanly at " + closedLength.getAsLong()
                            + " bytes (moved or deleted?): starting with an empty ledger")
                    : List.of();
            return new RecoveredLedger(floor, List.of(), warnings);
        }
        JournalReplay.Result result = JournalReplay.replay(data, closedLength);
        if (result instanceof JournalReplay.Recovered r) {
            RecoveredLedger l = r.ledger();
            return new RecoveredLedger(Math.max(l.nextLeaseId(), floor), l.leases(), l.warnings());
        }
        if (result instanceof JournalReplay.UnsupportedVersion v) {
            throw new IOException("ledger journal " + file + " has format version " + v.version()
                    + ", which this gpu-agent cannot read (it reads version " + JournalCodec.VERSION
                    + "); it was left untouched: run the newer gpu-agent, or move the file away to start empty");
        }
        JournalReplay.Corrupt c = (JournalReplay.Corrupt) result;
        Path aside = file.resolveSibling(file.getFileName() + ".damaged-" + STAMP.format(clock.instant()));
        throw new JournalCorruptedException("ledger journal " + file + " is damaged at byte " + c.offset() + ": "
                + c.reason() + ". The agent did not start and left the file as it is, so that no acknowledged lease"
                + " is forgotten unnoticed. To start with an empty ledger (the leases it held are forgotten; what the"
                + " services use on the GPU is still observed and counted; lease ids continue above every id handed"
                + " out), move it aside: mv " + file + " " + aside, file, c.offset());
    }

    private static FileChannel openForAppend(FileOpener files, Path file) throws IOException {
        return files.open(file, EnumSet.of(StandardOpenOption.WRITE, StandardOpenOption.APPEND));
    }

    private static void writeSnapshotFile(FileOpener files, Path dir, JournalRecord.Snapshot snapshot)
            throws IOException {
        FrameBuffer buf = new FrameBuffer(4096);
        JournalCodec.writeHeader(buf);
        JournalCodec.writeFrame(buf, snapshot);
        DurableFile.replace(files, dir.resolve(FILE_NAME), dir.resolve(FILE_NAME + COMPACTING_SUFFIX),
                buf.asByteBuffer());
    }

    @Override
    public RecoveredLedger recovered() {
        return recovered;
    }

    public Path file() {
        return file;
    }

    @Override
    public Health health() {
        return health;
    }

    @Override
    public void onHealthChange(Runnable listener) {
        healthListeners.add(Objects.requireNonNull(listener, "listener"));
    }

    /** How many fsync rounds ran; with group commit, far fewer than acknowledged records. */
    public long syncCount() {
        return syncs.get();
    }

    /** How many compactions ran since open (not counting the one at open, nor recoveries). */
    public long compactionCount() {
        return compactions.get();
    }

    @Override
    public void append(JournalRecord record) {
        int before = out.size();
        JournalCodec.writeFrame(out, record);
        outRecords.add(record);
        bytesSinceSnapshot += out.size() - before;
    }

    @Override
    public void afterDurable(Durability callback) {
        callbacks.add(Objects.requireNonNull(callback, "callback"));
    }

    @Override
    public boolean wantsCompaction() {
        return bytesSinceSnapshot > options.compactionThresholdBytes();
    }

    @Override
    public void compact(JournalRecord.Snapshot snapshot) {
        moveBufferToItems();
        items.add(snapshot);
        bytesSinceSnapshot = 0;
    }

    private void moveBufferToItems() {
        if (out.size() > 0) {
            items.add(new Chunk(out.toByteArray(), outRecords));
            out.reset();
            outRecords = new ArrayList<>();
        }
    }

    @Override
    public void commit() {
        moveBufferToItems();
        if (items.isEmpty() && callbacks.isEmpty()) {
            return;
        }
        boolean refused;
        handoff.lock();
        try {
            refused = closed;
            if (!refused) {
                pendingItems.addAll(items);
                pendingCallbacks.addAll(callbacks);
                work.signal();
            }
        } finally {
            handoff.unlock();
        }
        items.clear();
        if (refused) {
            IOException e = new IOException("ledger journal " + file + " is closed");
            for (Durability d : callbacks) {
                notifyFailed(d, e);
            }
        }
        callbacks.clear();
    }

    private void syncLoop() {
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
        writeSnapshotFile(options.files(), dir, snapshot);
        FileChannel old = channel;
        channel = openForAppend(options.files(), file);
        old.close();
    }

    /** A write or sync failed: stop appending to a file that cannot be trusted, and retry later. */
    private void failed(Exception e) {
        String problem = Objects.requireNonNullElse(e.getMessage(), e.toString());
        boolean first = health.writable();
        health = new Health(false, health.failedWrites() + 1, Optional.of(problem));
        if (first) {
            failedSince = clock.instant();
            retryDelay = options.firstRetry();
            LOG.log(Level.ERROR, "ledger journal " + file + " cannot be written (" + problem + "): admissions are"
                    + " refused and releases not acknowledged until it can; retrying");
            closeQuietly(channel);
            channel = null;
        } else {
            retryDelay = retryDelay.multipliedBy(2);
            if (retryDelay.compareTo(options.longestRetry()) > 0) {
                retryDelay = options.longestRetry();
            }
        }
        try {
            // A half-written snapshot would hold on to the space the retry needs.
            Files.deleteIfExists(dir.resolve(FILE_NAME + COMPACTING_SUFFIX));
        } catch (IOException ignored) {
            // the retry truncates it anyway
        }
        scheduleRetry();
        healthChanged();
    }

    /** Stores everything the journal was handed as a fresh snapshot; on success it is writable again. */
    private void recover() {
        try {
            ids.cover(image.nextLeaseId() - 1);
            writeSnapshotFile(options.files(), dir, image.snapshot());
            channel = openForAppend(options.files(), file);
        } catch (IOException | RuntimeException e) {
            failed(e);
            return;
        }
        Health was = health;
        health = new Health(true, was.failedWrites(), Optional.empty());
        LOG.log(Level.INFO, "ledger journal " + file + " is writable again after " + Duration.between(failedSince,
                clock.instant()).toSeconds() + " s (" + was.failedWrites() + " failed writes so far); it holds"
                + " everything the ledger holds");
        healthChanged();
    }

    /** On the sync thread. A retry that slips past close() only finds the loop gone. */
    private void scheduleRetry() {
        if (!closing) {
            Timers timers = options.retryTimers().orElseGet(this::ownTimers);
            retryTimer = timers.schedule(clock.instant().plus(retryDelay), this::retryNow);
        }
    }

    private synchronized Timers ownTimers() {
        if (ownTimerThread == null) {
            ownTimerThread = new ScheduledThreadPoolExecutor(1, daemonThreads("gpu-agent-journal-retry"));
        }
        return new ScheduledExecutorTimers(ownTimerThread, clock);
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
                LOG.log(Level.ERROR, "a journal health listener failed", e);
            }
        }
    }

    /** On close, after the last round: one more try if writing had failed, then the clean-close mark. */
    private void finish() {
        if (!health.writable()) {
            recover();
        }
        if (health.writable()) {
            try {
                DurableFile.writeNumber(options.files(), dir.resolve(CLOSED_NAME), channel.size());
            } catch (IOException e) {
                // Without the mark the next start treats this like a crash: nothing is lost.
                LOG.log(Level.WARNING, "ledger journal " + file + ": could not record its clean close: " + e.getMessage());
            }
        }
    }

    private static void notifyDurable(Durability d) {
        try {
            d.durable();
        } catch (RuntimeException e) {
            LOG.log(Level.ERROR, "a durability callback failed", e);
        }
    }

    private static void notifyFailed(Durability d, IOException cause) {
        try {
            d.failed(cause);
        } catch (RuntimeException e) {
            LOG.log(Level.ERROR, "a durability callback failed", e);
        }
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // it is being given up
        }
    }

    @Override
    public void close() throws IOException {
        handoff.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            closing = true;
            work.signal();
        } finally {
            handoff.unlock();
        }
        Timers.Cancellable pending = retryTimer;
        if (pending != null) {
            pending.cancel();
        }
        boolean interrupted = false;
        while (syncThread.isAlive()) {
            try {
                syncThread.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        synchronized (this) {
            if (ownTimerThread != null) {
                ownTimerThread.shutdownNow();
            }
        }
        try {
            if (channel != null) {
                channel.close();
            }
        } finally {
            lockChannel.close(); // and with it the lock
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
        Health h = health;
        if (!h.writable()) {
            throw new IOException("ledger journal " + file + " could not store the ledger's changes since "
                    + failedSince + " (" + h.problem().orElseThrow() + "); the next start replays it as it was then");
        }
    }
}
