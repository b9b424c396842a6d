package org.gpuagent.scheduler.journal;

import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.InstantSource;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.EnumSet;
import java.util.List;
import java.util.OptionalLong;

/**
 * The journal's files in a state directory, and the steps of opening them: take the lock, read
 * the id high-water mark and the clean-close mark, replay the journal (refusing damage with the
 * command that moves it aside), and rewrite it as one fresh snapshot to append to. A crash between
 * any two steps leaves a directory the next open reads the same way.
 */
final class JournalFiles {
    static final String FILE_NAME = "ledger.journal";
    static final String LOCK_NAME = "ledger.lock";
    static final String CLOSED_NAME = "ledger.closed";
    static final String COMPACTING_SUFFIX = ".compacting";

    private static final DateTimeFormatter STAMP =
            DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

    /**
     * An opened journal directory.
     *
     * @param lock     holds the directory's lock until closed
     * @param channel  the journal file, positioned to append after the fresh snapshot
     * @param recovered what the journal held
     */
    record Opened(Path dir, FileChannel lock, FileChannel channel, RecoveredLedger recovered, LeaseIdReservation ids) {
    }

    private JournalFiles() {
    }

    /**
     * Opens the journal in {@code stateDir} (creating it if needed), replays it and rewrites it as
     * one snapshot; logs what replay tolerated to {@code log}.
     *
     * @throws JournalCorruptedException the file is damaged; it was left untouched
     * @throws IOException               the directory is unusable or locked by another process, the
     *                                   file was written by a newer version, or the id high-water
     *                                   mark is unreadable
     */
    static Opened open(Path stateDir, InstantSource clock, FileOpener files, Logger log) throws IOException {
        Path dir = stateDir.toAbsolutePath();
        Files.createDirectories(dir);
        FileChannel lockChannel = DurableFile.openOwnerOnly(files, dir.resolve(LOCK_NAME));
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
            LeaseIdReservation ids = LeaseIdReservation.read(files, dir);
            Path closedMark = dir.resolve(CLOSED_NAME);
            OptionalLong closedLength = DurableFile.readNumber(closedMark, "the journal's clean-close mark");
            RecoveredLedger recovered = recover(file, closedLength, ids, clock);
            for (String w : recovered.warnings()) {
                log.log(Level.WARNING, "ledger journal " + file + ": " + w);
            }
            // Before the file changes: a mark that outlived it would make the next start refuse it.
            if (Files.deleteIfExists(closedMark)) {
                DurableFile.forceDirectory(files, dir);
            }
            writeSnapshot(files, dir, new JournalRecord.Snapshot(recovered.nextLeaseId(), recovered.leases()));
            return new Opened(dir, lockChannel, openForAppend(files, file), recovered, ids);
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

    static FileChannel openForAppend(FileOpener files, Path file) throws IOException {
        return files.open(file, EnumSet.of(StandardOpenOption.WRITE, StandardOpenOption.APPEND));
    }

    /** Replaces the journal in {@code dir} by {@code snapshot} alone, atomically (see {@link DurableFile#replace}). */
    static void writeSnapshot(FileOpener files, Path dir, JournalRecord.Snapshot snapshot) throws IOException {
        FrameBuffer buf = new FrameBuffer(4096);
        JournalCodec.writeHeader(buf);
        JournalCodec.writeFrame(buf, snapshot);
        DurableFile.replace(files, dir.resolve(FILE_NAME), dir.resolve(FILE_NAME + COMPACTING_SUFFIX),
                buf.asByteBuffer());
    }

    /** Removes a half-written snapshot: it would hold on to the space a retry needs. */
    static void removeHalfWrittenSnapshot(Path dir) {
        try {
            Files.deleteIfExists(dir.resolve(FILE_NAME + COMPACTING_SUFFIX));
        } catch (IOException ignored) {
            // the retry truncates it anyway
        }
    }
}
