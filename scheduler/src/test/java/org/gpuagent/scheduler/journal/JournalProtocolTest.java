package org.gpuagent.scheduler.journal;

import static org.gpuagent.scheduler.journal.FileJournalTest.commit;
import static org.gpuagent.scheduler.journal.FileJournalTest.grant;
import static org.gpuagent.scheduler.journal.FileJournalTest.release;
import static org.gpuagent.scheduler.journal.JournalReplayTest.lease;
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
import java.util.List;
import org.gpuagent.scheduler.testing.ManualTime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The order in which the journal's bytes reach the disk (what makes a crash at any point safe),
 * that it lets go of every file, and what it tells the operator.
 */
class JournalProtocolTest {
    @TempDir
    Path dir;

    private final ManualTime time = new ManualTime(Instant.parse("2025-06-01T12:00:00Z"));
    private final FaultyDisk disk = new FaultyDisk();

    private FileJournal open() throws IOException {
        return FileJournal.open(dir, time, FileJournal.Options.defaults().withFiles(disk)
                .withRetries(time, Duration.ofSeconds(1), Duration.ofSeconds(4)));
    }

    private String dirName() {
        return dir.toAbsolutePath().getFileName().toString();
    }

    /**
     * A replacement is written and synced before it is renamed into place, and the rename is
     * synced; the clean-close mark is removed durably before the journal changes; the id mark is
     * durable before the record of a lease above it; a record is synced before it is acknowledged.
     */
    @Test
    void everyStepReachesTheDiskInTheOrderThatMakesACrashSafe() throws Exception {
        open().close();
        String d = "sync " + dirName();
        assertEquals(List.of("write ledger.journal.compacting", "sync ledger.journal.compacting", d,
                "write ledger.closed.new", "sync ledger.closed.new", d), disk.events());
        FileJournal j = open();
        assertEquals(List.of(d, "write ledger.journal.compacting", "sync ledger.journal.compacting", d),
                disk.events(), "the clean-close mark goes first");
        List<String> seen = new java.util.ArrayList<>();
        j.append(grant(1));
        j.afterDurable(new Journal.Durability() {
            @Override
            public void durable() {
                seen.addAll(disk.events());
            }

            @Override
            public void failed(IOException cause) {
            }
        });
        j.commit();
        commit(j).await();
        assertEquals(List.of("write ledger.ids.new", "sync ledger.ids.new", d, "write ledger.journal",
                "sync ledger.journal"), seen);
        j.close();
    }

    @Test
    void everyFileIsLetGoOfAfterCompactionsFailuresRecoveriesAndClose() throws Exception {
        FileJournal j = open();
        commit(j, grant(1), grant(2)).await();
        j.compact(new JournalRecord.Snapshot(3, List.of(lease(1, "h1"), lease(2, "h2"))));
        commit(j, release(2)).await();
        disk.spaceLeft(0);
        assertNotNull(commit(j, grant(3)).failure);
        disk.free();
        time.advance(Duration.ofSeconds(1));
        commit(j, grant(4)).await();
        j.close();
        assertEquals(0, disk.openChannels());
        IOException refused = assertThrows(IOException.class, () -> {
            Files.writeString(dir.resolve(FileJournal.IDS_NAME), "x\n");
            open();
        });
        assertTrue(refused.getMessage().contains("high-water"), refused.getMessage());
        assertEquals(0, disk.openChannels(), "a refused open lets go of the lock too");
    }

    /** Records appended before a compaction in the same batch are in its snapshot, not after it. */
    @Test
    void aCompactionInTheMiddleOfABatchKeepsTheOrder() throws Exception {
        try (FileJournal j = open()) {
            j.append(grant(1));
            j.compact(new JournalRecord.Snapshot(2, List.of(lease(1, "h1"))));
            commit(j, grant(2)).await();
        }
        try (FileJournal j = open()) {
            assertEquals(List.of(lease(1, "h1"), lease(2, "h2")), j.recovered().leases());
            assertTrue(j.recovered().warnings().isEmpty());
        }
    }

    @Test
    void itTellsTheOperatorWhatHappened() throws Exception {
        java.util.concurrent.BlockingQueue<Journal.Health> changes = new java.util.concurrent.LinkedBlockingQueue<>();
        try (LogCapture log = new LogCapture(FileJournal.class)) {
            FileJournal j = open();
            j.onHealthChange(() -> {
                throw new IllegalStateException("a broken listener");
            });
            j.onHealthChange(() -> changes.add(j.health()));
            j.append(grant(1));
            j.afterDurable(new Journal.Durability() {
                @Override
                public void durable() {
                    throw new IllegalStateException("a broken caller");
                }

                @Override
                public void failed(IOException cause) {
                    throw new IllegalStateException("a broken caller");
                }
            });
            j.commit();
            commit(j).await();
            disk.spaceLeft(0);
            j.append(grant(2));
            j.afterDurable(new Journal.Durability() {
                @Override
                public void durable() {
                }

                @Override
                public void failed(IOException cause) {
                    throw new IllegalStateException("a broken caller");
                }
            });
            j.commit();
            assertFalse(changes.poll(30, java.util.concurrent.TimeUnit.SECONDS).writable());
            commit(j, new JournalRecord.Released(new org.gpuagent.scheduler.LeaseId(2), JournalReplayTest.T,
                    JournalRecord.Cause.ROLLED_BACK)).awaitEither();
            time.advance(Duration.ofSeconds(1));
            assertEquals(2, changes.poll(30, java.util.concurrent.TimeUnit.SECONDS).failedWrites());
            disk.free();
            time.advance(Duration.ofSeconds(2));
            assertTrue(changes.poll(30, java.util.concurrent.TimeUnit.SECONDS).writable());
            commit(j).await();
            disk.failWritesTo(FileJournal.CLOSED_NAME);
            j.close();
            Path file = dir.toAbsolutePath().resolve(FileJournal.FILE_NAME);
            assertEquals(List.of(
                    "SEVERE a durability callback failed",
                    "SEVERE ledger journal " + file + " cannot be written (No space left on device): admissions are"
                            + " refused and releases not acknowledged until it can; retrying",
                    "SEVERE a journal health listener failed",
                    "SEVERE a durability callback failed",
                    "SEVERE a journal health listener failed",
                    "INFO ledger journal " + file + " is writable again after 3 s (2 failed writes so far); it holds"
                            + " everything the ledger holds",
                    "SEVERE a journal health listener failed",
                    "WARNING ledger journal " + file + ": could not record its clean close: Input/output error"),
                    log.lines());
        }
        assertFalse(Files.exists(dir.resolve(FileJournal.CLOSED_NAME)));
        try (LogCapture log = new LogCapture(FileJournal.class); FileJournal j = open()) {
            assertEquals(List.of(lease(1, "h1")), j.recovered().leases(), "without the mark: read as after a crash");
            assertEquals(List.of(), j.recovered().warnings());
            assertEquals(List.of(), log.lines());
        }
    }

    @Test
    void aDroppedRecordIsLoggedAsAWarning() throws Exception {
        try (FileJournal j = open()) {
            commit(j, grant(1)).await();
        }
        Files.delete(dir.resolve(FileJournal.CLOSED_NAME));
        Files.write(dir.resolve(FileJournal.FILE_NAME), new byte[] {0, 0, 1}, java.nio.file.StandardOpenOption.APPEND);
        try (LogCapture log = new LogCapture(FileJournal.class); FileJournal j = open()) {
            assertEquals(1, log.lines().size(), log.lines().toString());
            assertEquals("WARNING ledger journal " + dir.toAbsolutePath().resolve(FileJournal.FILE_NAME) + ": "
                    + j.recovered().warnings().get(0), log.lines().get(0));
        }
    }

    @Test
    void closingFromAnInterruptedThreadStillClosesAndKeepsTheInterrupt() throws Exception {
        FileJournal j = open();
        commit(j, grant(1)).await();
        Thread.currentThread().interrupt();
        try {
            j.close();
            assertTrue(Thread.interrupted(), "the interrupt is kept for the caller");
        } finally {
            Thread.interrupted();
        }
        assertTrue(Files.exists(dir.resolve(FileJournal.CLOSED_NAME)), "closed cleanly all the same");
        assertEquals(0, disk.openChannels());
    }

    @Test
    void itsThreadsNeverKeepTheJvmAlive() {
        Thread t = SyncThread.daemonThreads("gpu-agent-journal-sync").newThread(() -> { });
        assertTrue(t.isDaemon());
        assertEquals("gpu-agent-journal-sync", t.getName());
        assertTrue(FileJournal.Options.defaults().syncThreads().newThread(() -> { }).isDaemon());
    }

    @Test
    void anUnreadableMarkIsQuotedAtMostFortyCharacters() throws Exception {
        Path ids = dir.resolve(FileJournal.IDS_NAME);
        Files.writeString(ids, "x".repeat(40));
        assertTrue(assertThrows(IOException.class, () -> DurableFile.readNumber(ids, "it")).getMessage()
                .endsWith("(it holds '" + "x".repeat(40) + "')"));
        Files.writeString(ids, "x".repeat(41));
        assertTrue(assertThrows(IOException.class, () -> DurableFile.readNumber(ids, "it")).getMessage()
                .endsWith("(it holds '" + "x".repeat(40) + "...')"));
        Files.writeString(ids, "9".repeat(18) + "\n");
        assertEquals(999_999_999_999_999_999L, DurableFile.readNumber(ids, "it").getAsLong());
    }
}
