package org.gpuagent.scheduler;

import static org.gpuagent.scheduler.Homelab.GIB;
import static org.gpuagent.scheduler.Homelab.MIB;
import static org.gpuagent.scheduler.Homelab.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import org.gpuagent.scheduler.journal.FileJournal;
import org.gpuagent.scheduler.journal.Journal;
import org.gpuagent.scheduler.journal.JournalRecord;
import org.gpuagent.scheduler.journal.RecoveredLedger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The controller over a real journal: what was acknowledged survives a restart. */
class DurableLedgerTest {
    @TempDir
    Path dir;

    private final VirtualTime time = new VirtualTime(Homelab.START);

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
            assertEquals(4, next.id().value(), "ids are never reused");
        }
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

    @Test
    void aLeaseTheJournalCannotStoreIsRolledBackAndNeverAcknowledged() {
        List<LedgerEvent> events = new CopyOnWriteArrayList<>();
        AdmissionController c = AdmissionController.builder(Homelab.config(4 * GIB, 0), time, time)
                .journal(new FullDisk()).listener(events::add).build();
        Admission a = c.request(AdmissionRequest.of("ollama").withBytes(GIB).withHolder("o"));
        CompletionException e = assertThrows(CompletionException.class, () -> a.outcome().join());
        assertInstanceOf(UncheckedIOException.class, e.getCause());
        assertTrue(e.getCause().getMessage().contains("No space left on device"), e.getCause().getMessage());
        assertTrue(c.view().leases().isEmpty());
        assertEquals(0, c.view().committedBytes());
        assertInstanceOf(LedgerEvent.RolledBack.class, events.get(events.size() - 1));
    }
}
