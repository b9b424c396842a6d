package org.gpuagent.scheduler.journal;

import java.io.IOException;
import java.lang.System.Logger;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ThreadFactory;
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
 *
 * <p><b>Where it is done.</b> This class is the writer's side (records gather in a buffer until
 * {@link #commit()}) and the public face; {@link SyncThread} does the rounds, the failures and the
 * retries; {@link JournalFiles} names the files and opens them.
 */
public final class FileJournal implements Journal {
    public static final String FILE_NAME = JournalFiles.FILE_NAME;
    public static final String LOCK_NAME = JournalFiles.LOCK_NAME;
    /** Holds the journal's length after a clean close; absent while the journal is open. */
    public static final String CLOSED_NAME = JournalFiles.CLOSED_NAME;
    public static final String IDS_NAME = LeaseIdReservation.FILE_NAME;

    private static final Logger LOG = System.getLogger(FileJournal.class.getName());

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
            return new Options(4L << 20, SyncThread.daemonThreads("gpu-agent-journal-sync"), Optional.empty(),
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

    private final Path file;
    private final Options options;
    private final RecoveredLedger recovered;
    private final FileChannel lockChannel;
    private final SyncThread sync;

    // Writer side (the ledger's single writer): records gather here until commit().
    private final FrameBuffer out = new FrameBuffer(4096);
    private List<JournalRecord> outRecords = new ArrayList<>();
    private final List<Object> items = new ArrayList<>();
    private final List<Durability> callbacks = new ArrayList<>();
    private long bytesSinceSnapshot;

    private FileJournal(JournalFiles.Opened opened, Options options, InstantSource clock) {
        this.file = opened.dir().resolve(FILE_NAME);
        this.options = options;
        this.recovered = opened.recovered();
        this.lockChannel = opened.lock();
        this.sync = new SyncThread(opened, options.syncThreads(), options.retryTimers(), options.firstRetry(),
                options.longestRetry(), options.files(), clock, LOG);
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
        JournalFiles.Opened opened = JournalFiles.open(stateDir, clock, options.files(), LOG);
        try {
            FileJournal journal = new FileJournal(opened, options, clock);
            journal.sync.start();
            return journal;
        } catch (RuntimeException e) {
            opened.channel().close();
            opened.lock().close(); // and with it the lock
            throw e;
        }
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
        return sync.health();
    }

    @Override
    public void onHealthChange(Runnable listener) {
        sync.onHealthChange(listener);
    }

    /** How many fsync rounds ran; with group commit, far fewer than acknowledged records. */
    public long syncCount() {
        return sync.syncCount();
    }

    /** How many compactions ran since open (not counting the one at open, nor recoveries). */
    public long compactionCount() {
        return sync.compactionCount();
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
            items.add(new SyncThread.Chunk(out.toByteArray(), outRecords));
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
        boolean taken = sync.hand(items, callbacks);
        items.clear();
        if (!taken) {
            IOException e = new IOException("ledger journal " + file + " is closed");
            for (Durability d : callbacks) {
                sync.notifyFailed(d, e);
            }
        }
        callbacks.clear();
    }

    @Override
    public void close() throws IOException {
        try {
            if (!sync.stop()) {
                return;
            }
        } finally {
            lockChannel.close(); // and with it the lock
        }
        sync.checkStored();
    }
}
