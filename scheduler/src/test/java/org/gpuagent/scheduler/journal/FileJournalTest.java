package org.gpuagent.scheduler.journal;

import static org.gpuagent.scheduler.journal.JournalReplayTest.T;
import static org.gpuagent.scheduler.journal.JournalReplayTest.lease;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.gpuagent.scheduler.Lease;
import org.gpuagent.scheduler.LeaseId;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The journal on a real disk: group commit, compaction, recovery at open, ids, file modes. */
class FileJournalTest {
    static final InstantSource CLOCK = InstantSource.fixed(Instant.parse("2025-06-01T12:34:56.789Z"));

    @TempDir
    Path dir;

    /** Counts callbacks; fails the test on a failure callback. */
    static final class Acks implements Journal.Durability {
        final CountDownLatch latch;
        final AtomicInteger durable = new AtomicInteger();
        volatile IOException failure;

        Acks(int expected) {
            latch = new CountDownLatch(expected);
        }

        @Override
        public void durable() {
            durable.incrementAndGet();
            latch.countDown();
        }

        @Override
        public void failed(IOException cause) {
            failure = cause;
            latch.countDown();
        }

        void await() throws InterruptedException {
            awaitEither();
            if (failure != null) {
                throw new AssertionError("journal failed", failure);
            }
        }

        /** Waits for the callbacks, whichever way they went. */
        void awaitEither() throws InterruptedException {
            assertTrue(latch.await(30, TimeUnit.SECONDS), "callbacks did not arrive");
        }
    }

    /** Appends, commits and waits for the outcome. */
    static Acks commit(Journal j, JournalRecord... records) throws InterruptedException {
        Acks acks = new Acks(1);
        for (JournalRecord r : records) {
            j.append(r);
        }
        j.afterDurable(acks);
        j.commit();
        acks.awaitEither();
        return acks;
    }

    static JournalRecord.Granted grant(long id) {
        return new JournalRecord.Granted(lease(id, "h" + id));
    }

    static JournalRecord.Released release(long id) {
        return new JournalRecord.Released(new LeaseId(id), T, JournalRecord.Cause.RELEASED);
    }

    @Test
    void aNewJournalIsEmptyAndWhatIsCommittedSurvivesAReopen() throws Exception {
        try (FileJournal j = FileJournal.open(dir, CLOCK)) {
            assertEquals(RecoveredLedger.empty(), j.recovered());
            assertEquals(Journal.Health.WRITABLE, j.health());
            Acks acks = commit(j, grant(1), grant(2), release(1));
            assertEquals(null, acks.failure);
            assertEquals(1, acks.durable.get());
        }
        try (FileJournal j = FileJournal.open(dir, CLOCK)) {
            assertEquals(List.of(lease(2, "h2")), j.recovered().leases());
            assertEquals(1 + LeaseIdReservation.BLOCK, j.recovered().nextLeaseId(),
                    "ids continue above the reserved block, never below a handed-out id");
            assertTrue(j.recovered().warnings().isEmpty());
        }
    }

    @Test
    void oneCommitIsOneFsyncForAllItsRecords() throws Exception {
        try (FileJournal j = FileJournal.open(dir, CLOCK)) {
            Acks acks = new Acks(100);
            for (int i = 1; i <= 100; i++) {
                j.append(grant(i));
                j.afterDurable(acks);
            }
            j.commit();
            acks.await();
            assertEquals(100, acks.durable.get());
            assertEquals(1, j.syncCount());
            commit(j).await();
            assertEquals(1, j.syncCount(), "a round with nothing new to write needs no fsync");
        }
    }

    /** While one fsync round runs, later commits gather and share the next one. */
    @Test
    void commitsDuringAnFsyncShareTheNextOne() throws Exception {
        try (FileJournal j = FileJournal.open(dir, CLOCK)) {
            CountDownLatch release = new CountDownLatch(1);
            CountDownLatch inFirstRound = new CountDownLatch(1);
            j.append(grant(1));
            j.afterDurable(new Journal.Durability() {
                @Override
                public void durable() {
                    inFirstRound.countDown();
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }

                @Override
                public void failed(IOException cause) {
                    inFirstRound.countDown();
                }
            });
            j.commit();
            assertTrue(inFirstRound.await(30, TimeUnit.SECONDS));
            Acks later = new Acks(50);
            for (int i = 2; i <= 51; i++) {
                j.append(grant(i));
                j.afterDurable(later);
                j.commit();
            }
            release.countDown();
            later.await();
            assertEquals(2, j.syncCount(), "50 commits made while the first round ran shared one fsync");
        }
        try (FileJournal j = FileJournal.open(dir, CLOCK)) {
            assertEquals(51, j.recovered().leases().size());
        }
    }

    @Test
    void compactionRewritesTheFileAsOneSnapshot() throws Exception {
        FileJournal.Options small = FileJournal.Options.defaults().withCompactionThreshold(2048);
        List<Lease> live = new ArrayList<>();
        long sizeBefore;
        try (FileJournal j = FileJournal.open(dir, CLOCK, small)) {
            for (int i = 1; i <= 200; i++) {
                Lease l = lease(i, "holder-" + i);
                j.append(new JournalRecord.Granted(l));
                if (i % 10 == 0) {
                    live.add(l);
                } else {
                    j.append(new JournalRecord.Released(l.id(), T, JournalRecord.Cause.RELEASED));
                }
            }
            assertTrue(j.wantsCompaction());
            commit(j).await();
            sizeBefore = Files.size(j.file());
            assertTrue(sizeBefore > 10_000, "before: " + sizeBefore);
            j.compact(new JournalRecord.Snapshot(201, live));
            assertFalse(j.wantsCompaction());
            Lease after = lease(201, "after");
            commit(j, new JournalRecord.Granted(after)).await();
            live.add(after);
            assertEquals(1, j.compactionCount());
            assertTrue(Files.size(j.file()) < sizeBefore / 4, "compacted: " + Files.size(j.file()) + " of " + sizeBefore);
        }
        try (FileJournal j = FileJournal.open(dir, CLOCK, small)) {
            assertEquals(live, j.recovered().leases());
            assertEquals(1 + LeaseIdReservation.BLOCK, j.recovered().nextLeaseId());
        }
        assertEquals(List.of(FileJournal.CLOSED_NAME, FileJournal.IDS_NAME, FileJournal.FILE_NAME,
                FileJournal.LOCK_NAME), files(), "no leftovers");
    }

    @Test
    void wantsCompactionOnlyBeyondTheThreshold() throws Exception {
        FrameBuffer one = new FrameBuffer(64);
        JournalCodec.writeFrame(one, grant(1));
        try (FileJournal j = FileJournal.open(dir, CLOCK, FileJournal.Options.defaults()
                .withCompactionThreshold(2L * one.size()))) {
            j.append(grant(1));
            j.append(grant(2));
            assertFalse(j.wantsCompaction(), "exactly the threshold");
            j.append(grant(3));
            assertTrue(j.wantsCompaction());
            j.commit();
        }
    }

    private List<String> files() throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /** What a crash leaves: no clean-close mark. */
    private void crash() throws IOException {
        Files.delete(dir.resolve(FileJournal.CLOSED_NAME));
    }

    @Test
    void aCleanCloseRecordsTheLengthAndTheNextOpenRemovesIt() throws Exception {
        writeLeases(3);
        Path mark = dir.resolve(FileJournal.CLOSED_NAME);
        assertEquals(Files.size(dir.resolve(FileJournal.FILE_NAME)) + "\n", Files.readString(mark));
        try (FileJournal j = FileJournal.open(dir, CLOCK)) {
            assertFalse(Files.exists(mark), "open: a crash from now on must not look like a clean close");
            assertEquals(3, j.recovered().leases().size());
        }
        assertTrue(Files.exists(mark));
    }

    @Test
    void anUnfinishedLastRecordAfterACrashIsDroppedWithAWarningAndTheFileCleaned() throws Exception {
        writeLeases(3);
        crash();
        Path file = dir.resolve(FileJournal.FILE_NAME);
        Files.write(file, new byte[] {0, 0, 0, 90, 1, 2, 3}, StandardOpenOption.APPEND);
        try (FileJournal j = FileJournal.open(dir, CLOCK)) {
            assertEquals(3, j.recovered().leases().size());
            assertEquals(1, j.recovered().warnings().size());
            assertTrue(j.recovered().warnings().get(0).startsWith("dropped an unfinished last record"));
        }
        crash();
        try (FileJournal j = FileJournal.open(dir, CLOCK)) {
            assertEquals(3, j.recovered().leases().size());
            assertTrue(j.recovered().warnings().isEmpty(), "the unfinished bytes are gone after the rewrite");
        }
    }

    /** Case "a truncation in the middle silently drops acknowledged leases". */
    @Test
    void aJournalCutShortAfterACleanCloseRefusesTheStart() throws Exception {
        writeLeases(5);
        Path file = dir.resolve(FileJournal.FILE_NAME);
        byte[] data = Files.readAllBytes(file);
        byte[] cut = java.util.Arrays.copyOf(data, data.length - 30);
        Files.write(file, cut);
        JournalCorruptedException e = assertThrows(JournalCorruptedException.class, () -> FileJournal.open(dir, CLOCK));
        assertEquals(cut.length, e.offset());
        assertTrue(e.getMessage().contains("everything from byte " + cut.length + " on is missing"), e.getMessage());
        assertArrayEquals(cut, Files.readAllBytes(file), "left as it is");
    }

    @Test
    void aDamagedJournalRefusesTheStartWithItsOffsetAndIsLeftInPlace() throws Exception {
        writeLeases(3);
        Path file = dir.resolve(FileJournal.FILE_NAME);
        byte[] data = Files.readAllBytes(file);
        data[JournalCodec.HEADER_BYTES + 12] ^= 0x10;
        Files.write(file, data);

        for (int attempt = 0; attempt < 2; attempt++) {
            JournalCorruptedException e = assertThrows(JournalCorruptedException.class,
                    () -> FileJournal.open(dir, CLOCK));
            assertEquals(file, e.file());
            assertEquals(JournalCodec.HEADER_BYTES, e.offset());
            Path aside = dir.resolve("ledger.journal.damaged-20250601T123456Z");
            assertEquals("ledger journal " + file + " is damaged at byte 12: record 1 at byte 12: its checksum does not"
                    + " match (the bytes changed after they were written). The agent did not start and left the file"
                    + " as it is, so that no acknowledged lease is forgotten unnoticed. To start with an empty ledger"
                    + " (the leases it held are forgotten; what the services use on the GPU is still observed and"
                    + " counted; lease ids continue above every id handed out), move it aside: mv " + file + " "
                    + aside, e.getMessage());
            assertArrayEquals(data, Files.readAllBytes(file), "every start refuses until someone moves it");
        }
        Files.move(file, dir.resolve("ledger.journal.damaged-20250601T123456Z"));
        FileJournal.open(dir, CLOCK).close();
    }

    /** Issue 8, item 9: ids restarted at 1 after a damaged journal was moved aside. */
    @Test
    void leaseIdsNeverRepeatAfterTheJournalIsMovedAside() throws Exception {
        writeLeases(3);
        Files.move(dir.resolve(FileJournal.FILE_NAME), dir.resolve("ledger.journal.damaged-x"));
        try (FileJournal j = FileJournal.open(dir, CLOCK)) {
            assertTrue(j.recovered().leases().isEmpty());
            assertEquals(1 + LeaseIdReservation.BLOCK, j.recovered().nextLeaseId());
            assertEquals(List.of("there is no journal, although the agent closed it cleanly at " + Files.size(
                    dir.resolve("ledger.journal.damaged-x")) + " bytes (moved or deleted?): starting with an empty"
                    + " ledger"), j.recovered().warnings());
        }
        Files.delete(dir.resolve(FileJournal.FILE_NAME));
        crash();
        try (FileJournal j = FileJournal.open(dir, CLOCK)) {
            assertEquals(1 + LeaseIdReservation.BLOCK, j.recovered().nextLeaseId());
            assertTrue(j.recovered().warnings().isEmpty(), "a missing journal after a crash says nothing more");
        }
    }

    @Test
    void theIdMarkIsWrittenInBlocksBeforeAnIdAboveItIsAcknowledged() throws Exception {
        Path ids = dir.resolve(FileJournal.IDS_NAME);
        FaultyDisk disk = new FaultyDisk();
        FileJournal j = FileJournal.open(dir, CLOCK, FileJournal.Options.defaults().withFiles(disk));
        assertFalse(Files.exists(ids), "nothing handed out yet");
        commit(j, grant(1)).await();
        assertEquals(LeaseIdReservation.BLOCK + "\n", Files.readString(ids));
        long writes = disk.writes();
        commit(j, grant(LeaseIdReservation.BLOCK)).await();
        assertEquals(writes + 1, disk.writes(), "inside the block: only the journal is written");
        disk.failWritesTo(FileJournal.IDS_NAME);
        Acks above = commit(j, grant(LeaseIdReservation.BLOCK + 1));
        assertTrue(above.failure != null && above.failure.getMessage().contains(FaultyDisk.IO_ERROR),
                "without the mark the lease is not acknowledged: " + above.failure);
        assertThrows(IOException.class, j::close);
        assertEquals(LeaseIdReservation.BLOCK + "\n", Files.readString(ids));
    }

    @Test
    void anUnreadableIdMarkRefusesTheStart() throws Exception {
        writeLeases(1);
        Files.writeString(dir.resolve(FileJournal.IDS_NAME), "lots\n");
        IOException e = assertThrows(IOException.class, () -> FileJournal.open(dir, CLOCK));
        assertEquals("the lease id high-water mark " + dir.resolve(FileJournal.IDS_NAME) + " does not hold a number (it"
                + " holds 'lots?'); without it lease ids cannot be kept unique. Write a number at least as large as the"
                + " highest lease id this agent handed out into it (one line), or delete it to let old ids be handed"
                + " out again", e.getMessage());
        Files.writeString(dir.resolve(FileJournal.IDS_NAME), "4000\n");
        try (FileJournal j = FileJournal.open(dir, CLOCK)) {
            assertEquals(4001, j.recovered().nextLeaseId());
        }
    }

    @Test
    void theFilesAreOwnerOnlyEvenWhenTheyWereNot() throws Exception {
        writeLeases(2);
        for (String name : List.of(FileJournal.FILE_NAME, FileJournal.LOCK_NAME, FileJournal.IDS_NAME,
                FileJournal.CLOSED_NAME)) {
            Files.setPosixFilePermissions(dir.resolve(name), PosixFilePermissions.fromString("rw-rw-rw-"));
        }
        try (FileJournal j = FileJournal.open(dir, CLOCK)) {
            commit(j, grant(LeaseIdReservation.BLOCK + 1)).await();
        }
        for (String name : List.of(FileJournal.FILE_NAME, FileJournal.LOCK_NAME, FileJournal.IDS_NAME,
                FileJournal.CLOSED_NAME)) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve(name))),
                    name);
        }
    }

    @Test
    void aNewerVersionIsLeftAlone() throws Exception {
        writeLeases(1);
        Path file = dir.resolve(FileJournal.FILE_NAME);
        byte[] data = Files.readAllBytes(file);
        data[JournalCodec.MAGIC.length + 3] = 2;
        Files.write(file, data);
        IOException e = assertThrows(IOException.class, () -> FileJournal.open(dir, CLOCK));
        assertFalse(e instanceof JournalCorruptedException);
        assertTrue(e.getMessage().contains("format version 2"), e.getMessage());
        assertArrayEquals(data, Files.readAllBytes(file));
        assertTrue(Files.exists(dir.resolve(FileJournal.CLOSED_NAME)), "nothing changed");
    }

    @Test
    void aLeftoverCompactionFileIsDiscarded() throws Exception {
        writeLeases(2);
        Files.write(dir.resolve(FileJournal.FILE_NAME + JournalFiles.COMPACTING_SUFFIX), new byte[] {1, 2, 3});
        try (FileJournal j = FileJournal.open(dir, CLOCK)) {
            assertEquals(2, j.recovered().leases().size());
        }
        assertFalse(Files.exists(dir.resolve(FileJournal.FILE_NAME + JournalFiles.COMPACTING_SUFFIX)));
    }

    @Test
    @SuppressWarnings("try") // j holds the directory's lock for the block, which never names it
    void aSecondOpenOfTheSameDirectoryIsRefused() throws Exception {
        try (FileJournal j = FileJournal.open(dir, CLOCK)) {
            IOException e = assertThrows(IOException.class, () -> FileJournal.open(dir, CLOCK));
            assertEquals("state directory " + dir.toAbsolutePath() + " is in use by another gpu-agent ("
                    + dir.toAbsolutePath().resolve(FileJournal.LOCK_NAME) + " is locked)", e.getMessage());
        }
        FileJournal.open(dir, CLOCK).close();
    }

    /** An open that fails after the files are open (no sync thread) lets go of them and of the lock. */
    @Test
    void anOpenThatCannotStartItsThreadLetsGoOfItsFiles() throws Exception {
        List<FileChannel> opened = new ArrayList<>();
        FileJournal.Options d = FileJournal.Options.defaults();
        FileJournal.Options noThreads = new FileJournal.Options(d.compactionThresholdBytes(), r -> {
            throw new IllegalStateException("no threads left");
        }, d.retryTimers(), d.firstRetry(), d.longestRetry(), (path, options, attributes) -> {
            FileChannel ch = FileChannel.open(path, options, attributes);
            opened.add(ch);
            return ch;
        });
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> FileJournal.open(dir, CLOCK, noThreads));
        assertEquals("no threads left", e.getMessage());
        assertFalse(opened.isEmpty());
        for (FileChannel ch : opened) {
            assertFalse(ch.isOpen(), "a file the failed open left open");
        }
        FileJournal.open(dir, CLOCK).close();
    }

    @Test
    void afterCloseCallbacksFailInsteadOfHanging() throws Exception {
        FileJournal j = FileJournal.open(dir, CLOCK);
        j.close();
        j.close();
        AtomicInteger failed = new AtomicInteger();
        j.append(grant(1));
        j.afterDurable(new Journal.Durability() {
            @Override
            public void durable() {
            }

            @Override
            public void failed(IOException cause) {
                failed.incrementAndGet();
                assertEquals("ledger journal " + dir.toAbsolutePath().resolve(FileJournal.FILE_NAME) + " is closed",
                        cause.getMessage());
            }
        });
        j.commit();
        assertEquals(1, failed.get());
        j.commit();
        assertEquals(1, failed.get(), "nothing pending, nothing told");
    }

    @Test
    void aCallbackThatThrowsDoesNotStopTheOthers() throws Exception {
        try (FileJournal j = FileJournal.open(dir, CLOCK)) {
            j.append(grant(1));
            j.afterDurable(new Journal.Durability() {
                @Override
                public void durable() {
                    throw new IllegalStateException("a broken caller");
                }

                @Override
                public void failed(IOException cause) {
                }
            });
            commit(j, grant(2)).await();
        }
        try (FileJournal j = FileJournal.open(dir, CLOCK)) {
            assertEquals(2, j.recovered().leases().size());
        }
    }

    @Test
    void theOptionsRefuseNonsense() {
        FileJournal.Options d = FileJournal.Options.defaults();
        assertThrows(IllegalArgumentException.class, () -> d.withCompactionThreshold(0));
        assertThrows(IllegalArgumentException.class, () -> d.withRetries((at, action) -> () -> { },
                java.time.Duration.ZERO, java.time.Duration.ofSeconds(1)));
        assertThrows(IllegalArgumentException.class, () -> d.withRetries((at, action) -> () -> { },
                java.time.Duration.ofSeconds(-1), java.time.Duration.ofSeconds(1)));
        assertThrows(IllegalArgumentException.class, () -> d.withRetries((at, action) -> () -> { },
                java.time.Duration.ofSeconds(2), java.time.Duration.ofSeconds(1)));
        assertEquals(java.time.Duration.ofSeconds(1), d.withRetries((at, action) -> () -> { },
                java.time.Duration.ofSeconds(1), java.time.Duration.ofSeconds(1)).longestRetry());
    }

    private void writeLeases(int n) throws Exception {
        try (FileJournal j = FileJournal.open(dir, CLOCK)) {
            List<JournalRecord> grants = new ArrayList<>();
            for (int i = 1; i <= n; i++) {
                grants.add(grant(i));
            }
            commit(j, grants.toArray(new JournalRecord[0])).await();
        }
    }
}
