package org.gpuagent.scheduler;

import static org.gpuagent.scheduler.Homelab.GIB;
import static org.gpuagent.scheduler.Homelab.MIB;
import static org.gpuagent.scheduler.Homelab.await;
import static org.gpuagent.scheduler.Homelab.now;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.List;
import org.gpuagent.scheduler.journal.FileJournal;
import org.gpuagent.scheduler.testing.ManualTime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Resizing a lease: shrinking always succeeds; growing is an admission of the difference. */
class ResizeTest {
    private static final String OLLAMA = "systemd:ollama.service";

    private static Decision.Final resized(Homelab.Rig rig, Lease lease, long bytes) {
        return now(rig.controller.resize(lease.id(), bytes, Duration.ZERO).outcome());
    }

    /** Everything but the size is kept. */
    private static void sameLeaseNewSize(Lease before, long bytes, Lease after) {
        assertEquals(before.id(), after.id());
        assertEquals(before.holder(), after.holder());
        assertEquals(before.grantedAt(), after.grantedAt());
        assertEquals(before.service(), after.service());
        assertEquals(bytes, after.bytes());
    }

    @Test
    void aGrowthThatFitsIsAdmittedAtOnce() {
        Homelab.Rig rig = Homelab.rig();
        Lease ollama = rig.admit("ollama", GIB, OLLAMA);
        rig.time.advance(Duration.ofSeconds(3));

        Decision.Admitted a = assertInstanceOf(Decision.Admitted.class, resized(rig, ollama, 3 * GIB));

        sameLeaseNewSize(ollama, 3 * GIB, a.lease());
        assertEquals(a.lease(), rig.view().lease(ollama.id()).orElseThrow());
        assertEquals(3 * GIB, rig.view().leasedBytes());
        assertEquals(3 * GIB, rig.view().committedBytes());
        LedgerEvent.Resized e = rig.eventsOf(LedgerEvent.Resized.class).get(0);
        assertEquals(GIB, e.fromBytes());
        assertEquals(a.lease(), e.lease());
        assertEquals("ollama lease 1 for systemd:ollama.service resized from 1 GiB to 3 GiB; 1 GiB of the 4 GiB budget"
                + " is still free", a.sentence());
    }

    @Test
    void aGrowthThatDoesNotFitAndMayNotWaitIsDeniedWithItsSentence() {
        Homelab.Rig rig = Homelab.rig();
        rig.admit("frigate", 2560 * MIB, "systemd:frigate.service");
        Lease ollama = rig.admit("ollama", GIB, OLLAMA);

        Decision.Denied d = assertInstanceOf(Decision.Denied.class, resized(rig, ollama, 2 * GIB));

        assertEquals(Decision.Reason.INSUFFICIENT_VRAM, d.reason());
        assertEquals("growing ollama lease 2 to 2 GiB: ollama needs 1 GiB, 512 MiB is free; only lower-priority leases"
                + " may be preempted and there are none; not waiting", d.sentence());
        assertEquals(512 * MIB, d.shortfallBytes());
        assertEquals(GIB, rig.view().lease(ollama.id()).orElseThrow().bytes(), "unchanged");
        assertTrue(rig.eventsOf(LedgerEvent.Resized.class).isEmpty());
    }

    @Test
    void aGrowthWaitsForMemoryAndIsAdmittedWhenItFrees() {
        Homelab.Rig rig = Homelab.rig();
        Lease jellyfin = rig.admit("jellyfin", 2560 * MIB, "systemd:jellyfin.service");
        Lease immich = rig.admit("immich", GIB, "systemd:immich-ml.service");
        Admission grow = rig.controller.resize(immich.id(), 2 * GIB, Duration.ofMinutes(1));
        Decision.Queued q = assertInstanceOf(Decision.Queued.class, now(grow.firstDecision()));
        assertEquals(GIB, q.bytes(), "it waits for the difference");
        assertFalse(grow.outcome().isDone());

        rig.time.advance(Duration.ofSeconds(4));
        now(rig.controller.resize(jellyfin.id(), 1536 * MIB, Duration.ZERO).outcome());

        Decision.Admitted a = assertInstanceOf(Decision.Admitted.class, now(grow.outcome()));
        sameLeaseNewSize(immich, 2 * GIB, a.lease());
        assertEquals(Duration.ofSeconds(4), a.waited());
        assertEquals(3584 * MIB, rig.view().leasedBytes());
    }

    @Test
    void aGrowthPreemptsLowerPriorityLeases() {
        Homelab.Rig rig = Homelab.rig();
        Lease frigate = rig.admit("frigate", GIB, "systemd:frigate.service");
        Lease ollama = rig.admit("ollama", 2560 * MIB, OLLAMA);
        Admission grow = rig.controller.resize(frigate.id(), 2 * GIB, Duration.ZERO);

        Decision.Queued q = assertInstanceOf(Decision.Queued.class, now(grow.firstDecision()));
        assertEquals(List.of(ollama.id()), q.awaitedEvictions().stream().map(Lease::id).toList());
        assertEquals(List.of(ollama.id()), rig.evictions.stream().map(o -> o.victim().id()).toList());
        rig.time.advance(Duration.ofSeconds(2));
        rig.observe(rig.observation().holder("ollama", OLLAMA, 0).build());

        Decision.AdmittedAfterPreemption a = assertInstanceOf(Decision.AdmittedAfterPreemption.class,
                now(grow.outcome()));
        sameLeaseNewSize(frigate, 2 * GIB, a.lease());
        assertEquals(List.of(ollama.id()), a.victims().stream().map(Lease::id).toList());
        assertEquals(List.of(frigate.id()), rig.view().leases().stream().map(Lease::id).toList());
    }

    @Test
    void shrinkingAlwaysSucceedsAndAdmitsARequestWaiting() {
        Homelab.Rig rig = Homelab.rig();
        rig.admit("frigate", 2 * GIB, "systemd:frigate.service");
        rig.admit("jellyfin", GIB, "systemd:jellyfin.service");
        Lease immich = rig.admit("immich", GIB, "systemd:immich-ml.service");
        Admission waiting = rig.askWaiting("ollama", 512 * MIB, OLLAMA, Duration.ofMinutes(1));
        assertInstanceOf(Decision.Queued.class, now(waiting.firstDecision()));

        Decision.Admitted shrunk = assertInstanceOf(Decision.Admitted.class, resized(rig, immich, 512 * MIB));

        sameLeaseNewSize(immich, 512 * MIB, shrunk.lease());
        assertInstanceOf(Decision.Admitted.class, now(waiting.outcome()));
        assertEquals(4 * GIB, rig.view().leasedBytes());
    }

    @Test
    void anEvictingLeaseMayShrinkButNotGrow() {
        Homelab.Rig rig = Homelab.rig();
        rig.admit("immich", GIB, "systemd:immich-ml.service");
        Lease ollama = rig.admit("ollama", 2560 * MIB, OLLAMA);
        rig.ask("frigate", GIB, "systemd:frigate.service");
        assertEquals(LeaseState.EVICTING, rig.view().lease(ollama.id()).orElseThrow().state());

        Decision.Denied d = assertInstanceOf(Decision.Denied.class, resized(rig, ollama, 3 * GIB));
        assertEquals(Decision.Reason.LEASE_EVICTING, d.reason());
        assertEquals("growing ollama lease 2 to 3 GiB: it is being evicted, so it may shrink but not grow",
                d.sentence());

        Decision.Admitted a = assertInstanceOf(Decision.Admitted.class, resized(rig, ollama, GIB));
        assertEquals(LeaseState.EVICTING, a.lease().state());
        assertEquals(a.lease(), rig.view().lease(ollama.id()).orElseThrow());
    }

    @Test
    void aReleasedOrUnknownLeaseIsNotFound() {
        Homelab.Rig rig = Homelab.rig();
        Lease ollama = rig.admit("ollama", GIB, OLLAMA);
        now(rig.controller.release(ollama.id()));

        Decision.Denied d = assertInstanceOf(Decision.Denied.class, resized(rig, ollama, 512 * MIB));
        assertEquals(Decision.Reason.LEASE_NOT_FOUND, d.reason());
        assertEquals("lease 1 is not counted (unknown or already released); nothing to resize", d.sentence());
        assertEquals(Decision.Reason.LEASE_NOT_FOUND, assertInstanceOf(Decision.Denied.class,
                now(rig.controller.resize(new LeaseId(42), GIB, Duration.ZERO).outcome())).reason());
    }

    @Test
    void aLeaseReleasedWhileItsGrowthWaitsEndsTheGrowth() {
        Homelab.Rig rig = Homelab.rig();
        Lease jellyfin = rig.admit("jellyfin", 3 * GIB, "systemd:jellyfin.service");
        Lease immich = rig.admit("immich", 512 * MIB, "systemd:immich-ml.service");
        Admission grow = rig.controller.resize(immich.id(), 2 * GIB, Duration.ofMinutes(1));
        assertInstanceOf(Decision.Queued.class, now(grow.firstDecision()));

        now(rig.controller.releaseHolder("systemd:immich-ml.service"));

        Decision.Denied d = assertInstanceOf(Decision.Denied.class, now(grow.outcome()));
        assertEquals(Decision.Reason.CANCELLED, d.reason(), "its holder's release withdraws it");
        assertTrue(rig.view().queue().isEmpty());
        assertEquals(3 * GIB, rig.view().leasedBytes());
        assertTrue(rig.view().lease(jellyfin.id()).isPresent());
    }

    @Test
    void aLeaseReleasedByIdWhileItsGrowthWaitsIsNotFoundWhenItsTurnComes() {
        Homelab.Rig rig = Homelab.rig();
        Lease jellyfin = rig.admit("jellyfin", 3 * GIB, "systemd:jellyfin.service");
        Lease immich = rig.admit("immich", 512 * MIB, "systemd:immich-ml.service");
        Admission grow = rig.controller.resize(immich.id(), 2 * GIB, Duration.ofMinutes(1));
        assertInstanceOf(Decision.Queued.class, now(grow.firstDecision()));

        now(rig.controller.release(immich.id()));

        Decision.Denied d = assertInstanceOf(Decision.Denied.class, now(grow.outcome()));
        assertEquals(Decision.Reason.LEASE_NOT_FOUND, d.reason());
        assertEquals(3 * GIB, rig.view().leasedBytes());
        assertTrue(rig.view().lease(jellyfin.id()).isPresent());
    }

    @Test
    void moreThanTheBudgetIsRefusedAndABadSizeIsAnError() {
        Homelab.Rig rig = Homelab.rig();
        Lease ollama = rig.admit("ollama", GIB, OLLAMA);
        Decision.Denied d = assertInstanceOf(Decision.Denied.class, resized(rig, ollama, 5 * GIB));
        assertEquals(Decision.Reason.EXCEEDS_BUDGET, d.reason());
        assertThrows(IllegalArgumentException.class, () -> rig.controller.resize(ollama.id(), 0, Duration.ZERO));
    }

    @TempDir
    Path dir;

    @Test
    void aResizeSurvivesARestart() throws Exception {
        ManualTime time = new ManualTime(Homelab.START);
        Lease grown;
        Lease shrunk;
        try (AdmissionController c = AdmissionController.builder(Homelab.config(4 * GIB, 0), time, time)
                .journal(FileJournal.open(dir, time)).zone(ZoneOffset.UTC).build()) {
            Lease a = assertInstanceOf(Decision.Admitted.class, await(c.request(AdmissionRequest.of("ollama")
                    .withBytes(GIB).withHolder("ollama-model:a")).outcome())).lease();
            Lease b = assertInstanceOf(Decision.Admitted.class, await(c.request(AdmissionRequest.of("immich")
                    .withBytes(GIB).withHolder("i")).outcome())).lease();
            grown = assertInstanceOf(Decision.Admitted.class, await(c.resize(a.id(), 2 * GIB, Duration.ZERO)
                    .outcome())).lease();
            shrunk = assertInstanceOf(Decision.Admitted.class, await(c.resize(b.id(), 256 * MIB, Duration.ZERO)
                    .outcome())).lease();
        }
        try (AdmissionController c = AdmissionController.builder(Homelab.config(4 * GIB, 0), time, time)
                .journal(FileJournal.open(dir, time)).zone(ZoneOffset.UTC).build()) {
            assertEquals(List.of(grown, shrunk), c.view().leases());
        }
    }
}
