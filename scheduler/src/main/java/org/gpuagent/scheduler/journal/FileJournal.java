package org.gpuagent.scheduler.journal;

import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.InstantSource;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The ledger journal in a state directory: {@code <dir>/ledger.journal}, append-only, every record
 * checksummed (length + CRC32C, see {@link JournalCodec}), synced with
 * {@link FileChannel#force(boolean)} before the ledger acknowledges what it holds.
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
 * <p><b>Recovery</b> at {@link #open}: a torn last record is dropped with a warning; a corrupt file
 * is renamed to {@code ledger.journal.corrupt-<UTC timestamp>} and {@code open} throws
 * {@link JournalCorruptedException} saying where it went; it is never silently reset. The
 * recovered state is then rewritten as a fresh snapshot, so the file is clean before the first
 * append. A lock on {@code ledger.lock} keeps a second process off the same directory.
 */
public final class FileJournal implements Journal {
    public static final String FILE_NAME = "ledger.journal";
    public static final String LOCK_NAME = "ledger.lock";
    static final String COMPACTING_SUFFIX = ".compacting";
    static final String CORRUPT_SUFFIX = ".corrupt-";

    private static final Logger LOG = System.getLogger(FileJournal.class.getName());
    private static final DateTimeFormatter STAMP =
            DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss.SSS'Z'").withZone(ZoneOffset.UTC);

    /**
     * @param compactionThresholdBytes bytes appended since the last snapshot before another is
     *                                 wanted
     * @param syncThreads              makes the one sync thread (the agent owns threads)
     */
    public record Options(long compactionThresholdBytes, ThreadFactory syncThreads) {
        public Options {
            Objects.requireNonNull(syncThreads, "syncThreads");
            if (compactionThresholdBytes <= 0) {
                throw new IllegalArgumentException("compaction threshold must be positive");
            }
        }

        public static Options defaults() {
            return new Options(4L << 20, r -> {
                Thread t = new Thread(r, "gpu-agent-journal-sync");
                t.setDaemon(true);
                return t;
            });
        }

        public Options withCompactionThreshold(long bytes) {
            return new Options(bytes, syncThreads);
        }
    }

    private final Path dir;
    private final Path file;
    private final Options options;
    private final RecoveredLedger recovered;
    private final FileChannel lockChannel;
    private final FileLock lock;

    // Writer side (the ledger's single writer): records gather here until commit().
    private final FrameBuffer out = new FrameBuffer(4096);
    private List<Object> items = new ArrayList<>();
    private List<Durability> callbacks = new ArrayList<>();
    private long bytesSinceSnapshot;

    // Handed over to the sync thread, guarded by handoff.
    private final ReentrantLock handoff = new ReentrantLock();
    private final Condition work = handoff.newCondition();
    private List<Object> pendingItems = new ArrayList<>();
    private List<Durability> pendingCallbacks = new ArrayList<>();
    private boolean closing;
    private boolean closed;

    // Sync thread side.
    private FileChannel channel;
    private volatile IOException failure;
    private final AtomicLong syncs = new AtomicLong();
    private final AtomicLong compactions = new AtomicLong();
    private final Thread syncThread;

    private FileJournal(Path dir, Options options, RecoveredLedger recovered, FileChannel lockChannel, FileLock lock,
            FileChannel channel) {
        this.dir = dir;
        this.file = dir.resolve(FILE_NAME);
        this.options = options;
        this.recovered = recovered;
        this.lockChannel = lockChannel;
        this.lock = lock;
        this.channel = channel;
        this.syncThread = options.syncThreads().newThread(this::syncLoop);
    }

    /** Opens (creating if needed) the journal in {@code stateDir}, with default options. */
    public static FileJournal open(Path stateDir, InstantSource clock) throws IOException {
        return open(stateDir, clock, Options.defaults());
    }

    /**
     * Opens the journal, replays it and rewrites it as one snapshot.
     *
     * @param clock names a corrupt file moved aside
     * @throws JournalCorruptedException the file was corrupt and has been moved aside
     * @throws IOException               the directory is unusable or locked by another process, or
     *                                   the file was written by a newer version
     */
    public static FileJournal open(Path stateDir, InstantSource clock, Options options) throws IOException {
        Objects.requireNonNull(clock, "clock");
        Objects.requireNonNull(options, "options");
        Path dir = stateDir.toAbsolutePath();
        Files.createDirectories(dir);
        FileChannel lockChannel = FileChannel.open(dir.resolve(LOCK_NAME), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE);
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
            RecoveredLedger recovered = recover(file, clock);
            for (String w : recovered.warnings()) {
                LOG.log(Level.WARNING, "ledger journal " + file + ": " + w);
            }
            writeSnapshotFile(dir, new JournalRecord.Snapshot(recovered.nextLeaseId(), recovered.leases()));
            FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
            FileJournal journal = new FileJournal(dir, options, recovered, lockChannel, lock, channel);
            journal.syncThread.start();
            return journal;
        } catch (IOException | RuntimeException e) {
            if (lock != null) {
                lock.release();
            }
            lockChannel.close();
            throw e;
        }
    }

    private static RecoveredLedger recover(Path file, InstantSource clock) throws IOException {
        byte[] data;
        try {
            data = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return RecoveredLedger.empty();
        }
        JournalReplay.Result result = JournalReplay.replay(data);
        if (result instanceof JournalReplay.Recovered r) {
            return r.ledger();
        }
        if (result instanceof JournalReplay.UnsupportedVersion v) {
            throw new IOException("ledger journal " + file + " has format version " + v.version()
                    + ", which this gpu-agent cannot read (it reads version " + JournalCodec.VERSION
                    + "); it was left untouched: run the newer gpu-agent, or move the file away to start empty");
        }
        String reason = ((JournalReplay.Corrupt) result).reason();
        Path aside = moveAside(file, clock);
        String message = "ledger journal " + file + " is corrupt: " + reason + ". It was moved to " + aside
                + " so that nothing is lost; the ledger was not started. Starting again begins with an empty"
                + " ledger, which the agent then rebuilds from the running services (keep the moved file"
                + " for a bug report).";
        LOG.log(Level.ERROR, message);
        throw new JournalCorruptedException(message, aside);
    }

    private static Path moveAside(Path file, InstantSource clock) throws IOException {
        String base = file.getFileName() + CORRUPT_SUFFIX + STAMP.format(clock.instant());
        for (int n = 0; ; n++) {
            Path target = file.resolveSibling(n == 0 ? base : base + "-" + n);
            try {
                Files.move(file, target);
                forceDirectory(file.getParent());
                return target;
            } catch (FileAlreadyExistsException e) {
                if (n > 1000) {
                    throw e;
                }
            }
        }
    }

    private static void writeSnapshotFile(Path dir, JournalRecord.Snapshot snapshot) throws IOException {
        FrameBuffer buf = new FrameBuffer(256 + snapshot.leases().size() * 96);
        JournalCodec.writeHeader(buf);
        JournalCodec.writeFrame(buf, snapshot);
        Path tmp = dir.resolve(FILE_NAME + COMPACTING_SUFFIX);
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            writeFully(ch, buf.asByteBuffer());
            ch.force(true);
        }
        Files.move(tmp, dir.resolve(FILE_NAME), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        forceDirectory(dir);
    }

    private static void forceDirectory(Path dir) throws IOException {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    @Override
    public RecoveredLedger recovered() {
        return recovered;
    }

    public Path file() {
        return file;
    }

    /** How many fsync rounds ran; with group commit, far fewer than acknowledged records. */
    public long syncCount() {
        return syncs.get();
    }

    /** How many compactions ran since open (not counting the one at open). */
    public long compactionCount() {
        return compactions.get();
    }

    @Override
    public void append(JournalRecord record) {
        int before = out.size();
        JournalCodec.writeFrame(out, record);
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
            items.add(out.toByteArray());
            out.reset();
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
            handoff.lock();
            try {
                while (pendingItems.isEmpty() && pendingCallbacks.isEmpty() && !closing) {
                    work.awaitUninterruptibly();
                }
                if (pendingItems.isEmpty() && pendingCallbacks.isEmpty()) {
                    return;
                }
                List<Object> i = batch;
                batch = pendingItems;
                pendingItems = i;
                List<Durability> c = done;
                done = pendingCallbacks;
                pendingCallbacks = c;
            } finally {
                handoff.unlock();
            }
            IOException error = failure;
            if (error == null) {
                try {
                    for (Object item : batch) {
                        if (item instanceof byte[] bytes) {
                            writeFully(channel, ByteBuffer.wrap(bytes));
                        } else {
                            switchToSnapshot((JournalRecord.Snapshot) item);
                        }
                    }
                    channel.force(false);
                    syncs.incrementAndGet();
                } catch (IOException | RuntimeException e) {
                    error = e instanceof IOException io ? io
                            : new IOException("ledger journal " + file + " could not be written: " + e, e);
                    failure = error;
                    LOG.log(Level.ERROR, "ledger journal " + file + " failed; nothing more will be acknowledged", e);
                }
            }
            for (Durability d : done) {
                if (error == null) {
                    notifyDurable(d);
                } else {
                    notifyFailed(d, error);
                }
            }
            batch.clear();
            done.clear();
        }
    }

    private void switchToSnapshot(JournalRecord.Snapshot snapshot) throws IOException {
        writeSnapshotFile(dir, snapshot);
        FileChannel old = channel;
        channel = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        old.close();
        compactions.incrementAndGet();
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
        boolean interrupted = false;
        while (syncThread.isAlive()) {
            try {
                syncThread.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        try {
            channel.close();
        } finally {
            try {
                lock.release();
            } finally {
                lockChannel.close();
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }
}
