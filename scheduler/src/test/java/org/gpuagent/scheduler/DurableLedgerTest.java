package org.gpuagent.scheduler;

import static org.gpuagent.scheduler.Homelab.GIB;
import static org.gpuagent.scheduler.Homelab.MIB;
import static org.gpuagent.scheduler.Homelab.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import org.gpuagent.scheduler.journal.FaultyDisk;
import org.gpuagent.scheduler.journal.FileJournal;
import org.gpuagent.scheduler.journal.Journal;
import org.gpuagent.scheduler.journal.JournalRecord;
import org.gpuagent.scheduler.journal.RecoveredLedger;
import org.gpuagent.scheduler.testing.ManualTime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The controller over a real journal: what was acknowledged survives a restart. */
class DurableLedgerTest {
    @TempDir
    Path dir;

    private final ManualTime time = new ManualTime(Homelab.START);

    private AdmissionController open(FileJournal.Options options) throws IOException {
        return AdmissionController.builder(Homelab.config(4 * GIB, 0), time, time)
                .zone(ZoneOffset.UTC)
                .journal(FileJournal.open(dir, time, options))
                .build();
    }

    private static Lease admitted(AdmissionController c, String service, long bytes, String holder) {
        Decision.Final d = await(c.request(AdmissionRequest.of(service).withBytes(bytes).withHolder(holder)).outcome());
        return assertInstanceOf(Decision.Admitted.class, d, d.sentence()).lease();
    }

    @Test
    void leasesReleasesAndEvictionsSurviveARestart() throws Exception {
        Lease frigate;
        Lease ollama;
        try (AdmissionController c = open(FileJournal.Options.defaults())) {
            frigate = admitted(c, "frigate", GIB, "f");
            Lease jellyfin = admitted(c, "jellyfin", 512 * MIB, "j");
            ollama = admitted(c, "ollama", 2560 * MIB, "o");
            assertTrue(await(c.release(jellyfin.id())));
            // frigate-2 needs 1 GiB with 512 MiB free: ollama turns EVICTING.
            c.request(AdmissionRequest.of("frigate").withBytes(GIB).withHolder("f2"));
            await(c.observe(Observation.builder(time.instant(), 4 * GIB).holder("ollama", "o", 2560 * MIB).build()));
            assertEquals(LeaseState.EVICTING, c.view().lease(ollama.id()).orElseThrow().state());
        }
        try (AdmissionController c = open(FileJournal.Options.defaults())) {
            List<Lease> leases = c.view().leases();
            assertEquals(List.of(frigate.id(), ollama.id()), leases.stream().map(Lease::id).toList());
            assertEquals(frigate, leases.get(0));
            assertEquals(LeaseState.EVICTING, leases.get(1).state());
            assertEquals(GIB + 2560 * MIB, c.view().committedBytes(), "the evicting lease is still counted");
            Lease next = admitted(c, "jellyfin", 256 * MIB, "j2");
            assertEquals(1001, next.id().value(), "ids are never reused: after a restart they continue above the"
                    + " block reserved in ledger.ids");
        }
    }

    /** Every way a lease stops being counted is journaled: by holder, by eviction, by reclamation. */
    @Test
    void releasesByHolderEvictionsAndReclamationsSurviveARestart() throws Exception {
        Lease kept;
        try (AdmissionController c = open(FileJournal.Options.defaults())) {
            admitted(c, "jellyfin", 512 * MIB, "oci:gone");
            assertEquals(1, (int) await(c.releaseHolder("oci:gone")));
            admitted(c, "ollama", 2 * GIB, "o");
            kept = admitted(c, "frigate", GIB, "f");
            Admission more = c.request(AdmissionRequest.of("frigate").withBytes(GIB + 512 * MIB).withHolder("f2"));
            assertInstanceOf(Decision.Queued.class, await(more.firstDecision()));
            time.advance(Duration.ofSeconds(1));
            await(c.observe(Observation.builder(time.instant(), 4 * GIB).holder("frigate", "f", GIB).build()));
            Lease f2 = assertInstanceOf(Decision.AdmittedAfterPreemption.class, await(more.outcome())).lease();
            time.advance(Duration.ofSeconds(1));
            Observation f2Gone = Observation.builder(time.instant(), 4 * GIB).holder("frigate", "f", GIB)
                    .alive("f").build();
            await(c.observe(f2Gone));
            time.advance(Duration.ofMinutes(1));
            await(c.observe(Observation.builder(time.instant(), 4 * GIB).holder("frigate", "f", GIB).alive("f")
                    .build()));
            assertTrue(c.view().lease(f2.id()).isEmpty(), "reclaimed: its holder is gone");
        }
        try (AdmissionController c = open(FileJournal.Options.defaults())) {
            assertEquals(List.of(kept), c.view().leases());
        }
    }

    @Test
    void compactionRunsOnlyWhenItIsDue() throws Exception {
        FileJournal journal = FileJournal.open(dir, time);
        try (AdmissionController c = AdmissionController.builder(Homelab.config(4 * GIB, 0), time, time)
                .journal(journal).build()) {
            for (int i = 0; i < 20; i++) {
                assertTrue(await(c.release(admitted(c, "immich", MIB, "h" + i).id())));
            }
            assertEquals(0, journal.compactionCount(), "each compaction rewrites the whole file: only past 4 MiB");
        }
    }

    @Test
    void compactionKeepsTheJournalSmall() throws Exception {
        FileJournal.Options small = FileJournal.Options.defaults().withCompactionThreshold(4096);
        try (AdmissionController c = open(small)) {
            for (int i = 0; i < 300; i++) {
                assertTrue(await(c.release(admitted(c, "immich", MIB, "h" + i).id())));
            }
        }
        assertTrue(Files.size(dir.resolve(FileJournal.FILE_NAME)) < 3 * 4096,
                "300 admissions and releases, yet " + Files.size(dir.resolve(FileJournal.FILE_NAME)) + " bytes");
    }

    @Test
    void theControllerCompactsTheJournalAndReplayAgrees() throws Exception {
        FileJournal.Options small = FileJournal.Options.defaults().withCompactionThreshold(4096);
        List<Lease> kept = new java.util.ArrayList<>();
        try (AdmissionController c = open(small)) {
            for (int i = 0; i < 300; i++) {
                Lease l = admitted(c, "immich", MIB, "h" + i);
                if (i % 100 == 0) {
                    kept.add(l);
                } else {
                    assertTrue(await(c.release(l.id())));
                }
            }
        }
        try (AdmissionController c = open(small)) {
            assertEquals(kept, c.view().leases());
        }
    }

    /** A journal that accepts records but cannot make them durable. */
    private static final class FullDisk implements Journal {
        @Override
        public RecoveredLedger recovered() {
            return RecoveredLedger.empty();
        }

        @Override
        public void append(JournalRecord record) {
        }

        @Override
        public void afterDurable(Durability callback) {
            callback.failed(new IOException("No space left on device"));
        }

        @Override
        public void commit() {
        }

        @Override
        public boolean wantsCompaction() {
            return false;
        }

        @Override
        public void compact(JournalRecord.Snapshot snapshot) {
        }

        @Override
        public void close() {
        }
    }

    /**
     * A full disk, end to end in the scheduler: an admission in flight is rolled back, new ones are
     * refused with their own reason, a release is not acknowledged (and not counted), a waiting
     * request keeps waiting; when space returns, the journal recovers by itself, the waiting request
     * is admitted, and a restart finds exactly what was acknowledged.
     */
    @Test
    void whileTheDiskIsFullNothingIsAcknowledgedAndSpaceComingBackHealsIt() throws Exception {
        FaultyDisk disk = new FaultyDisk();
        FileJournal.Options options = FileJournal.Options.defaults().withFiles(disk)
                .withRetries(time, Duration.ofSeconds(1), Duration.ofSeconds(8));
        List<Lease> kept = new java.util.ArrayList<>();
        Lease jellyfin;
        Admission immich;
        try (AdmissionController c = open(options)) {
            for (String h : List.of("f1", "f2", "f3")) {
                kept.add(admitted(c, "frigate", GIB, h));
            }
            jellyfin = admitted(c, "jellyfin", 512 * MIB, "j");
            immich = c.request(AdmissionRequest.of("immich").withBytes(GIB).withHolder("i")
                    .withWait(Duration.ofMinutes(1)));
            assertInstanceOf(Decision.Queued.class, await(immich.firstDecision()));

            disk.spaceLeft(0);
            Admission inFlight = c.request(AdmissionRequest.of("jellyfin").withBytes(64 * MIB).withHolder("j2"));
            CompletionException lost = assertThrows(CompletionException.class, () -> inFlight.outcome().join());
            assertInstanceOf(JournalUnavailableException.class, lost.getCause());
            assertTrue(lost.getCause().getMessage().contains("No space left on device"), lost.getCause().getMessage());

            Decision.Final refused = await(c.request(AdmissionRequest.of("frigate").withBytes(MIB)).outcome());
            Decision.Denied d = assertInstanceOf(Decision.Denied.class, refused);
            assertEquals(Decision.Reason.JOURNAL_UNAVAILABLE, d.reason());
            assertEquals("frigate's request for 1 MiB was refused: the ledger journal cannot be written (No space left"
                    + " on device), so nothing is admitted until it can", d.sentence());

            for (int attempt = 0; attempt < 2; attempt++) {
                CompletionException e = assertThrows(CompletionException.class, () -> c.release(jellyfin.id()).join());
                assertInstanceOf(JournalUnavailableException.class, e.getCause());
                assertTrue(e.getCause().getMessage().startsWith("the release is not stored yet: "),
                        e.getCause().getMessage());
                CompletionException byHolder = assertThrows(CompletionException.class,
                        () -> c.releaseHolder("j").join());
                assertInstanceOf(JournalUnavailableException.class, byHolder.getCause());
            }
            assertTrue(c.view().lease(jellyfin.id()).isEmpty(), "no longer counted, though not yet durable");
            assertEquals(1, c.view().queue().size(), "the waiting request waits: it would be rolled back");

            disk.free();
            time.advance(Duration.ofSeconds(1));
            Decision.Final admitted = await(immich.outcome());
            kept.add(assertInstanceOf(Decision.Admitted.class, admitted, admitted.sentence()).lease());
            assertEquals(false, await(c.release(jellyfin.id())), "the release is durable now");
        }
        Files.delete(dir.resolve(FileJournal.CLOSED_NAME));
        try (AdmissionController c = open(FileJournal.Options.defaults())) {
            assertEquals(kept, c.view().leases(), "acknowledged leases only: not the rolled-back one, not the released one");
        }
    }

    @Test
    void aReleaseOfAnUnknownLeaseWaitsForWhatIsPending() {
        AdmissionController c = AdmissionController.builder(Homelab.config(4 * GIB, 0), time, time)
                .journal(new FullDisk()).build();
        CompletionException e = assertThrows(CompletionException.class, () -> c.release(new LeaseId(42)).join());
        assertInstanceOf(JournalUnavailableException.class, e.getCause());
        CompletionException h = assertThrows(CompletionException.class, () -> c.releaseHolder("nobody").join());
        assertInstanceOf(JournalUnavailableException.class, h.getCause());
    }

    @Test
    void aLeaseTheJournalCannotStoreIsRolledBackAndNeverAcknowledged() {
        List<LedgerEvent> events = new CopyOnWriteArrayList<>();
        AdmissionController c = AdmissionController.builder(Homelab.config(4 * GIB, 0), time, time)
                .journal(new FullDisk()).listener(events::add).build();
        Admission a = c.request(AdmissionRequest.of("ollama").withBytes(GIB).withHolder("o"));
        CompletionException e = assertThrows(CompletionException.class, () -> a.outcome().join());
        assertInstanceOf(JournalUnavailableException.class, e.getCause());
        assertTrue(e.getCause().getMessage().contains("No space left on device"), e.getCause().getMessage());
        assertTrue(c.view().leases().isEmpty());
        assertEquals(0, c.view().committedBytes());
        assertInstanceOf(LedgerEvent.RolledBack.class, events.get(events.size() - 1));
    }
}
