package org.gpuagent.scheduler.journal;

import static org.gpuagent.scheduler.journal.JournalReplayTest.T;
import static org.gpuagent.scheduler.journal.JournalReplayTest.lease;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
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
            assertTrue(latch.await(30, TimeUnit.SECONDS), "callbacks did not arrive");
            if (failure != null) {
                throw new AssertionError("journal failed", failure);
            }
        }
    }

    @Test
    void aNewJournalIsEmptyAndWhatIsCommittedSurvivesAReopen() throws Exception {
        try (FileJournal j = FileJournal.open(dir, CLOCK)) {
            assertEquals(RecoveredLedger.empty(), j.recovered());
            Acks acks = new Acks(1);
            j.append(new JournalRecord.Granted(lease(1, "a")));
            j.append(new JournalRecord.Granted(lease(2, "b")));
            j.append(new JournalRecord.Released(new LeaseId(1), T, JournalRecord.Cause.RELEASED));
            j.afterDurable(acks);
            j.commit();
            acks.await();
        }
        try (FileJournal j = FileJournal.open(dir, CLOCK)) {
            assertEquals(List.of(lease(2, "b")), j.recovered().leases());
            assertEquals(3, j.recovered().nextLeaseId());
            assertTrue(j.recovered().warnings().isEmpty());
        }
    }

    @Test
    void oneCommitIsOneFsyncForAllItsRecords() throws Exception {
        try (FileJournal j = FileJournal.open(dir, CLOCK)) {
            Acks acks = new Acks(100);
            for (int i = 1; i <= 100; i++) {
                j.append(new JournalRecord.Granted(lease(i, "h" + i)));
                j.afterDurable(acks);
            }
            j.commit();
            acks.await();
            assertEquals(100, acks.durable.get());
            assertEquals(1, j.syncCount());
        }
    }

    /** While one fsync round runs, later commits gather and share the next one. */
    @Test
    void commitsDuringAnFsyncShareTheNextOne() throws Exception {
        try (FileJournal j = FileJournal.open(dir, CLOCK)) {
            CountDownLatch release = new CountDownLatch(1);
            CountDownLatch inFirstRound = new CountDownLatch(1);
            j.append(new JournalRecord.Granted(lease(1, "first")));
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
                j.append(new JournalRecord.Granted(lease(i, "h" + i)));
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
            Acks acks = new Acks(1);
            j.commit();
            sizeBefore = waitForSize(j.file(), 10_000);
            j.compact(new JournalRecord.Snapshot(201, live));
            assertFalse(j.wantsCompaction());
            Lease after = lease(201, "after");
            j.append(new JournalRecord.Granted(after));
            j.afterDurable(acks);
            j.commit();
            acks.await();
            live.add(after);
            assertEquals(1, j.compactionCount());
            assertTrue(Files.size(j.file()) < sizeBefore / 4, "compacted: " + Files.size(j.file()) + " of " + sizeBefore);
        }
        try (FileJournal j = FileJournal.open(dir, CLOCK, small)) {
            assertEquals(live, j.recovered().leases());
            assertEquals(202, j.recovered().nextLeaseId());
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(FileJournal.FILE_NAME, FileJournal.LOCK_NAME),
                    files.map(p -> p.getFileName().toString()).sorted().toList(), "no leftovers");
        }
    }

    private static long waitForSize(Path file, long atLeast) throws InterruptedException, IOException {
        for (int i = 0; i < 3000 && Files.size(file) < atLeast; i++) {
            Thread.sleep(10);
        }
        return Files.size(file);
    }

    @Test
    void aTornTailIsDroppedWithAWarningAndTheFileCleaned() throws Exception {
        writeLeases(3);
        Path file = dir.resolve(FileJournal.FILE_NAME);
        Files.write(file, new byte[] {0, 0, 0, 90, 1, 2, 3}, StandardOpenOption.APPEND);
        try (FileJournal j = FileJournal.open(dir, CLOCK)) {
            assertEquals(3, j.recovered().leases().size());
            assertEquals(1, j.recovered().warnings().size());
            assertTrue(j.recovered().warnings().get(0).contains("torn"));
        }
        try (FileJournal j = FileJournal.open(dir, CLOCK)) {
            assertEquals(3, j.recovered().leases().size());
            assertTrue(j.recovered().warnings().isEmpty(), "the torn bytes are gone after the rewrite");
        }
    }

    @Test
    void aCorruptFileIsMovedAsideWithAClearErrorAndNeverReset() throws Exception {
        writeLeases(3);
        Path file = dir.resolve(FileJournal.FILE_NAME);
        byte[] data = Files.readAllBytes(file);
        data[JournalCodec.HEADER_BYTES + 12] ^= 0x10;
        Files.write(file, data);

        JournalCorruptedException e = assertThrows(JournalCorruptedException.class, () -> FileJournal.open(dir, CLOCK));
        Path aside = dir.resolve("ledger.journal.corrupt-20250601T123456.789Z");
        assertEquals(aside, e.movedTo());
        assertArrayEquals(data, Files.readAllBytes(aside), "the bad file is kept byte for byte");
        assertFalse(Files.exists(file));
        assertTrue(e.getMessage().contains("is corrupt: record 1 at byte 12"), e.getMessage());
        assertTrue(e.getMessage().contains("moved to " + aside), e.getMessage());

        // A second corrupt file in the same millisecond gets its own name.
        Files.write(file, new byte[] {'n', 'o', 't', ' ', 'a', ' ', 'j', 'o', 'u', 'r', 'n', 'a', 'l'});
        JournalCorruptedException again = assertThrows(JournalCorruptedException.class,
                () -> FileJournal.open(dir, CLOCK));
        assertEquals(dir.resolve("ledger.journal.corrupt-20250601T123456.789Z-1"), again.movedTo());
        assertTrue(again.getMessage().contains("does not start with the ledger journal header"), again.getMessage());

        try (FileJournal j = FileJournal.open(dir, CLOCK)) {
            assertTrue(j.recovered().leases().isEmpty(), "only an explicit restart starts empty");
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
    }

    @Test
    void aLeftoverCompactionFileIsDiscarded() throws Exception {
        writeLeases(2);
        Files.write(dir.resolve(FileJournal.FILE_NAME + FileJournal.COMPACTING_SUFFIX), new byte[] {1, 2, 3});
        try (FileJournal j = FileJournal.open(dir, CLOCK)) {
            assertEquals(2, j.recovered().leases().size());
        }
        assertFalse(Files.exists(dir.resolve(FileJournal.FILE_NAME + FileJournal.COMPACTING_SUFFIX)));
    }

    @Test
    void aSecondOpenOfTheSameDirectoryIsRefused() throws Exception {
        try (FileJournal j = FileJournal.open(dir, CLOCK)) {
            IOException e = assertThrows(IOException.class, () -> FileJournal.open(dir, CLOCK));
            assertTrue(e.getMessage().contains("in use by another gpu-agent"), e.getMessage());
        }
        FileJournal.open(dir, CLOCK).close();
    }

    @Test
    void afterCloseCallbacksFailInsteadOfHanging() throws Exception {
        FileJournal j = FileJournal.open(dir, CLOCK);
        j.close();
        j.close();
        AtomicInteger failed = new AtomicInteger();
        j.append(new JournalRecord.Granted(lease(1, "late")));
        j.afterDurable(new Journal.Durability() {
            @Override
            public void durable() {
            }

            @Override
            public void failed(IOException cause) {
                failed.incrementAndGet();
            }
        });
        j.commit();
        assertEquals(1, failed.get());
    }

    private void writeLeases(int n) throws Exception {
        try (FileJournal j = FileJournal.open(dir, CLOCK)) {
            Acks acks = new Acks(1);
            for (int i = 1; i <= n; i++) {
                j.append(new JournalRecord.Granted(lease(i, "h" + i)));
            }
            j.afterDurable(acks);
            j.commit();
            acks.await();
        }
    }
}
