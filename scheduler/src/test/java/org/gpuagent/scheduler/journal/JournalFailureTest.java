package org.gpuagent.scheduler.journal;

import static org.gpuagent.scheduler.journal.FileJournalTest.commit;
import static org.gpuagent.scheduler.journal.FileJournalTest.grant;
import static org.gpuagent.scheduler.journal.FileJournalTest.release;
import static org.gpuagent.scheduler.journal.JournalReplayTest.T;
import static org.gpuagent.scheduler.journal.JournalReplayTest.lease;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.gpuagent.scheduler.LeaseId;
import org.gpuagent.scheduler.testing.ManualTime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A failed write is a state the journal leaves by itself: each edge on a disk that fills up or
 * fails to sync (injected, exact), with retries in virtual time.
 */
class JournalFailureTest {
    private static final Duration FIRST = Duration.ofSeconds(1);
    private static final Duration LONGEST = Duration.ofSeconds(4);
    private static final Duration MS = Duration.ofMillis(1);

    @TempDir
    Path dir;

    private final ManualTime time = new ManualTime(Instant.parse("2025-06-01T12:00:00Z"));
    private final FaultyDisk disk = new FaultyDisk();
    private final BlockingQueue<Journal.Health> changes = new LinkedBlockingQueue<>();

    private FileJournal open() throws IOException {
        FileJournal j = FileJournal.open(dir, time, FileJournal.Options.defaults().withFiles(disk)
                .withRetries(time, FIRST, LONGEST));
        j.onHealthChange(() -> changes.add(j.health()));
        return j;
    }

    private Journal.Health nextChange() throws InterruptedException {
        Journal.Health h = changes.poll(30, TimeUnit.SECONDS);
        assertNotNull(h, "the journal's health did not change");
        return h;
    }

    private static Journal.Health failing(long failures, String problem) {
        return new Journal.Health(false, failures, Optional.of(problem));
    }

    /** Reopens after a crash (no clean-close mark), as the next start would. */
    private RecoveredLedger reopenAfterCrash() throws IOException {
        Files.deleteIfExists(dir.resolve(FileJournal.CLOSED_NAME));
        try (FileJournal j = FileJournal.open(dir, time)) {
            return j.recovered();
        }
    }

    @Test
    void aFullDiskFailsTheRoundRefusesWhatFollowsAndTheJournalRecoversWhenSpaceReturns() throws Exception {
        FileJournal j = open();
        commit(j, grant(1), grant(2)).await();

        disk.spaceLeft(10);
        FileJournalTest.Acks lost = commit(j, grant(3));
        assertEquals("the ledger journal " + j.file() + " cannot be written (No space left on device)",
                lost.failure.getMessage(), "the round that hit the full disk is not acknowledged");
        assertEquals(failing(1, FaultyDisk.NO_SPACE), nextChange());
        assertEquals(j.health(), failing(1, FaultyDisk.NO_SPACE));

        long writes = disk.writes();
        FileJournalTest.Acks refused = commit(j, release(1),
                new JournalRecord.Released(new LeaseId(3), T, JournalRecord.Cause.ROLLED_BACK));
        assertNotNull(refused.failure, "a release is not acknowledged while the journal cannot be written");
        assertEquals(writes, disk.writes(), "and the suspect file is not written again");
        assertEquals(1, time.pendingTimers(), "one retry is due");

        disk.free();
        time.advance(FIRST);
        assertEquals(new Journal.Health(true, 1, Optional.empty()), nextChange());
        commit(j, grant(4)).await();
        commit(j).await();
        j.close();

        RecoveredLedger after = reopenAfterCrash();
        assertEquals(List.of(lease(2, "h2"), lease(4, "h4")), after.leases(),
                "acknowledged leases kept, the release refused meanwhile stored by the recovery, the failed grant gone");
        assertTrue(after.warnings().isEmpty(), "the half-written record went with the old file: " + after.warnings());
    }

    @Test
    void aRecoveryReservesNoMoreLeaseIdsThanWereHandedOut() throws Exception {
        FileJournal j = open();
        commit(j, grant(LeaseIdReservation.BLOCK)).await();
        disk.spaceLeft(0);
        assertNotNull(commit(j, release(LeaseIdReservation.BLOCK)).failure);
        nextChange();
        disk.free();
        time.advance(FIRST);
        assertTrue(nextChange().writable());
        j.close();
        assertEquals(LeaseIdReservation.BLOCK + "\n", Files.readString(dir.resolve(FileJournal.IDS_NAME)));
    }

    @Test
    void retriesBackOffUpToTheLongestDelay() throws Exception {
        FileJournal j = open();
        disk.spaceLeft(0);
        assertNotNull(commit(j, grant(1)).failure);
        assertEquals(failing(1, FaultyDisk.NO_SPACE), nextChange());
        long failures = 1;
        for (Duration wait : List.of(FIRST, FIRST.multipliedBy(2), LONGEST, LONGEST)) {
            time.advance(wait.minus(MS));
            assertEquals(1, time.pendingTimers(), "not yet");
            assertTrue(changes.isEmpty());
            time.advance(MS);
            assertEquals(failing(++failures, FaultyDisk.NO_SPACE), nextChange(), "a retry after " + wait);
            assertEquals(1, time.pendingTimers(), "the next one is scheduled");
        }
        disk.free();
        time.advance(LONGEST);
        assertEquals(new Journal.Health(true, failures, Optional.empty()), nextChange());
        assertEquals(0, time.pendingTimers(), "no more retries");
        j.close();
    }

    /** After a failed fsync the file's content cannot be trusted: it is replaced, never appended to. */
    @Test
    void aFailedSyncIsNotTrustedAndTheFileIsRewrittenAsASnapshot() throws Exception {
        FileJournal j = open();
        commit(j, grant(1)).await();
        long syncs = j.syncCount();
        disk.syncFails(true);
        assertEquals("the ledger journal " + j.file() + " cannot be written (" + FaultyDisk.IO_ERROR + ")",
                commit(j, grant(2)).failure.getMessage());
        assertEquals(failing(1, FaultyDisk.IO_ERROR), nextChange());
        assertNotNull(commit(j, new JournalRecord.Released(new LeaseId(2), T, JournalRecord.Cause.ROLLED_BACK))
                .failure);
        disk.free();
        time.advance(FIRST);
        assertTrue(nextChange().writable());
        assertEquals(syncs, j.syncCount());
        FrameBuffer expected = new FrameBuffer(64);
        JournalCodec.writeHeader(expected);
        JournalCodec.writeFrame(expected, new JournalRecord.Snapshot(3, List.of(lease(1, "h1"))));
        assertArrayEquals(expected.toByteArray(), Files.readAllBytes(j.file()));
        j.close();
    }

    @Test
    void closingWhileTheDiskIsStillFullSaysSoAndTheNextStartReplaysWhatWasStored() throws Exception {
        FileJournal j = open();
        commit(j, grant(1)).await();
        disk.spaceLeft(10);
        assertNotNull(commit(j, grant(2)).failure);
        nextChange();
        IOException e = assertThrows(IOException.class, j::close);
        assertEquals("ledger journal " + j.file() + " could not store the ledger's changes since 2025-06-01T12:00:00Z"
                + " (No space left on device); the next start replays it as it was then", e.getMessage());
        assertEquals(failing(2, FaultyDisk.NO_SPACE), nextChange(), "one last try at close");
        assertFalse(Files.exists(dir.resolve(FileJournal.CLOSED_NAME)), "not a clean close");
        assertEquals(0, time.pendingTimers(), "the retry was cancelled, and the last try scheduled none");

        try (FileJournal again = FileJournal.open(dir, time)) {
            assertEquals(List.of(lease(1, "h1")), again.recovered().leases());
            assertEquals(1, again.recovered().warnings().size(), "the half-written record is dropped");
        }
    }

    /** Close is idempotent: the failure was said once; a second close says nothing more. */
    @Test
    void aSecondCloseAfterAFailedOneSaysNothingMore() throws Exception {
        FileJournal j = open();
        disk.spaceLeft(10);
        assertNotNull(commit(j, grant(1)).failure);
        nextChange();
        assertThrows(IOException.class, j::close);
        j.close();
    }

    /** The retry thread a journal starts for itself ends with the journal. */
    @Test
    void itsOwnRetryThreadEndsWithTheJournal() throws Exception {
        Set<Thread> before = retryThreads();
        FileJournal.Options d = FileJournal.Options.defaults();
        FileJournal j = FileJournal.open(dir, time, new FileJournal.Options(d.compactionThresholdBytes(),
                d.syncThreads(), Optional.empty(), Duration.ofHours(1), Duration.ofHours(1), disk));
        j.onHealthChange(() -> changes.add(j.health()));
        disk.spaceLeft(0);
        assertNotNull(commit(j, grant(1)).failure);
        assertFalse(nextChange().writable());
        Set<Thread> started = retryThreads();
        started.removeAll(before);
        assertEquals(1, started.size(), "the first failure starts the journal's own retry thread");
        disk.free();
        j.close();
        for (Thread t : started) {
            t.join(TimeUnit.SECONDS.toMillis(30));
            assertFalse(t.isAlive(), "the retry thread outlived the journal");
        }
    }

    private static Set<Thread> retryThreads() {
        Set<Thread> threads = new HashSet<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().equals("gpu-agent-journal-retry")) {
                threads.add(t);
            }
        }
        return threads;
    }

    @Test
    void closingAfterSpaceReturnedStoresEverythingWithoutWaitingForTheRetry() throws Exception {
        FileJournal j = open();
        disk.spaceLeft(0);
        assertNotNull(commit(j, grant(1), grant(2)).failure);
        nextChange();
        commit(j, release(1));
        disk.free();
        j.close();
        assertTrue(nextChange().writable());
        assertTrue(Files.exists(dir.resolve(FileJournal.CLOSED_NAME)));
        try (FileJournal again = FileJournal.open(dir, time)) {
            assertEquals(List.of(lease(2, "h2")), again.recovered().leases());
        }
    }

    @Test
    void aCompactionThatCannotBeWrittenLeavesTheOldFileAndIsRetried() throws Exception {
        FileJournal j = open();
        commit(j, grant(1), grant(2)).await();
        byte[] before = Files.readAllBytes(j.file());
        disk.spaceLeft(20);
        j.compact(new JournalRecord.Snapshot(3, List.of(lease(1, "h1"), lease(2, "h2"))));
        assertNotNull(commit(j, release(2)).failure);
        assertEquals(failing(1, FaultyDisk.NO_SPACE), nextChange());
        assertArrayEquals(before, Files.readAllBytes(j.file()), "the old file is whole");
        assertFalse(Files.exists(dir.resolve(FileJournal.FILE_NAME + JournalFiles.COMPACTING_SUFFIX)),
                "the half-written snapshot is removed at once: it holds space the retry needs");
        assertEquals(0, j.compactionCount());
        disk.free();
        time.advance(FIRST);
        assertTrue(nextChange().writable());
        j.close();
        assertEquals(List.of(lease(1, "h1")), reopenAfterCrash().leases());
    }

    @Test
    void withoutInjectedTimersTheJournalRetriesOnItsOwnThread() throws Exception {
        FileJournal.Options d = FileJournal.Options.defaults();
        FileJournal j = FileJournal.open(dir, time, new FileJournal.Options(d.compactionThresholdBytes(),
                d.syncThreads(), Optional.empty(), MS, MS, disk));
        j.onHealthChange(() -> changes.add(j.health()));
        disk.spaceLeft(0);
        assertNotNull(commit(j, grant(1)).failure);
        assertFalse(nextChange().writable());
        disk.free();
        Journal.Health h;
        do {
            h = nextChange();
        } while (!h.writable());
        commit(j, grant(2)).await();
        j.close();
        assertEquals(2, reopenAfterCrash().leases().size());
    }

    @Test
    void aHealthListenerThatThrowsDoesNotStopTheOthers() throws Exception {
        FileJournal j = FileJournal.open(dir, time, FileJournal.Options.defaults().withFiles(disk)
                .withRetries(time, FIRST, LONGEST));
        j.onHealthChange(() -> {
            throw new IllegalStateException("a broken listener");
        });
        j.onHealthChange(() -> changes.add(j.health()));
        disk.spaceLeft(0);
        commit(j, grant(1));
        assertFalse(nextChange().writable());
        disk.free();
        j.close();
    }

    @Test
    void healthStatesAreConsistent() {
        assertThrows(IllegalArgumentException.class, () -> new Journal.Health(true, 0, Optional.of("x")));
        assertThrows(IllegalArgumentException.class, () -> new Journal.Health(false, 1, Optional.empty()));
        assertThrows(IllegalArgumentException.class, () -> new Journal.Health(true, -1, Optional.empty()));
        assertEquals(new Journal.Health(true, 0, Optional.empty()), Journal.Health.WRITABLE);
        assertTrue(Journal.none().health().writable());
    }

    @Test
    void theNullJournalAcknowledgesAtTheNextCommit() {
        Journal none = Journal.none();
        List<String> told = new ArrayList<>();
        none.append(grant(1));
        none.afterDurable(new Journal.Durability() {
            @Override
            public void durable() {
                told.add("durable");
            }

            @Override
            public void failed(IOException cause) {
                told.add("failed");
            }
        });
        assertTrue(told.isEmpty());
        none.commit();
        none.commit();
        assertEquals(List.of("durable"), told);
        assertFalse(none.wantsCompaction());
    }
}
