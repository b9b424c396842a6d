package org.gpuagent.scheduler;

import static org.gpuagent.scheduler.Homelab.GIB;
import static org.gpuagent.scheduler.Homelab.MIB;
import static org.gpuagent.scheduler.Homelab.now;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import org.gpuagent.scheduler.journal.FileJournal;
import org.gpuagent.scheduler.testing.ManualTime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A dry run answers what a request would get, and changes nothing. */
class ForecastTest {
    private static final List<String> SERVICES = List.of("frigate", "jellyfin", "immich", "ollama", "backup");

    @Test
    void aPreemptionIsForecastWithItsVictimsAndNothingChanges() {
        Homelab.Rig rig = Homelab.rig();
        rig.admit("immich", GIB, "systemd:immich-ml.service");
        Lease ollama = rig.admit("ollama", 2560 * MIB, "systemd:ollama.service");
        LedgerView before = rig.view();
        int events = rig.events.size();

        Forecast f = now(rig.controller.dryRun(AdmissionRequest.of("frigate").withBytes(GIB)));

        assertEquals(Forecast.Outcome.PREEMPT, f.outcome());
        assertEquals(List.of(ollama), f.preempted());
        assertEquals(Optional.of(Homelab.START.plus(Homelab.OLLAMA.evictionDeadline())), f.deadline());
        assertEquals("frigate needs 1 GiB, 512 MiB is free; preempting ollama lease 2 (2.5 GiB); waiting until"
                + " 12:00:30 for the memory to come back", f.sentence());
        assertEquals(before, rig.view(), "the view is the same object: no change was published");
        assertEquals(events, rig.events.size(), "no event");
        assertTrue(rig.evictions.isEmpty(), "no actuator started");
        assertEquals(3, now(rig.controller.request(AdmissionRequest.of("jellyfin").withBytes(MIB))
                .firstDecision()).requestId(), "no request id was used (two admissions took 1 and 2)");
    }

    @Test
    void admitWaitAndDenyAreForecast() {
        Homelab.Rig rig = Homelab.rig();
        Forecast admit = now(rig.controller.dryRun(AdmissionRequest.of("ollama").withBytes(GIB)));
        assertEquals(Forecast.Outcome.ADMIT, admit.outcome());
        assertEquals("ollama would be admitted now: 1 GiB; 3 GiB of the 4 GiB budget would still be free",
                admit.sentence());
        rig.admit("frigate", 3 * GIB, "f");
        Forecast deny = now(rig.controller.dryRun(AdmissionRequest.of("jellyfin").withBytes(2 * GIB)));
        assertEquals(Forecast.Outcome.DENY, deny.outcome());
        assertEquals(Optional.of(Decision.Reason.INSUFFICIENT_VRAM), deny.reason());
        assertEquals(GIB, deny.shortfallBytes());
        Forecast wait = now(rig.controller.dryRun(AdmissionRequest.of("jellyfin").withBytes(2 * GIB)
                .withWait(Duration.ofSeconds(30))));
        assertEquals(Forecast.Outcome.WAIT, wait.outcome());
        assertEquals(1, wait.position());
        Forecast unknown = now(rig.controller.dryRun(AdmissionRequest.of("plex")));
        assertEquals(Optional.of(Decision.Reason.UNKNOWN_SERVICE), unknown.reason());
        assertTrue(rig.view().queue().isEmpty());
    }

    @TempDir
    Path dir;

    @Test
    void aDryRunWritesNothingToTheJournal() throws Exception {
        ManualTime time = new ManualTime(Homelab.START);
        try (AdmissionController c = AdmissionController.builder(Homelab.config(4 * GIB, 0), time, time)
                .journal(FileJournal.open(dir, time)).zone(ZoneOffset.UTC).build()) {
            Homelab.await(c.request(AdmissionRequest.of("ollama").withBytes(3 * GIB).withHolder("o")).outcome());
            List<byte[]> files = journalFiles();
            for (int i = 0; i < 20; i++) {
                Homelab.await(c.dryRun(AdmissionRequest.of("frigate").withBytes(2 * GIB)));
            }
            List<byte[]> after = journalFiles();
            assertEquals(files.size(), after.size());
            for (int i = 0; i < files.size(); i++) {
                assertTrue(java.util.Arrays.equals(files.get(i), after.get(i)), "journal file " + i + " changed");
            }
            assertEquals(1, c.view().leases().size());
        }
    }

    private List<byte[]> journalFiles() throws Exception {
        List<byte[]> out = new ArrayList<>();
        try (var s = Files.list(dir)) {
            for (Path p : s.sorted().toList()) {
                out.add(Files.readAllBytes(p));
            }
        }
        return out;
    }

    /**
     * On seeded random ledgers: the forecast of a request, made just before it, names the decision
     * it then gets (outcome, victims, reason, position, deadline, and for all but ADMIT the
     * sentence).
     */
    @Test
    void theForecastMatchesTheDecisionThatFollows() {
        long seed = Long.getLong("ledger.seed", 0xF0CA57L);
        SplittableRandom random = new SplittableRandom(seed);
        Homelab.Rig rig = Homelab.rig();
        List<Admission> open = new ArrayList<>();
        int[] seen = new int[Forecast.Outcome.values().length];
        for (int step = 0; step < 1500; step++) {
            String service = SERVICES.get(random.nextInt(SERVICES.size()));
            AdmissionRequest r = AdmissionRequest.of(service).withBytes(random.nextLong(64, 2048) * MIB)
                    .withHolder(service + "-" + random.nextInt(3))
                    .withWait(random.nextBoolean() ? Duration.ZERO : Duration.ofSeconds(random.nextLong(1, 30)));
            Forecast f = now(rig.controller.dryRun(r));
            Admission a = rig.controller.request(r);
            Decision d = now(a.firstDecision());
            String ctx = "seed " + seed + " step " + step + ": " + f + " vs " + d;
            seen[f.outcome().ordinal()]++;
            switch (f.outcome()) {
                case ADMIT -> assertInstanceOf(Decision.Admitted.class, d, ctx);
                case DENY -> {
                    Decision.Denied no = assertInstanceOf(Decision.Denied.class, d, ctx);
                    assertEquals(f.reason().orElseThrow(), no.reason(), ctx);
                    assertEquals(f.shortfallBytes(), no.shortfallBytes(), ctx);
                    assertEquals(f.sentence(), no.sentence(), ctx);
                }
                case WAIT -> {
                    Decision.Queued q = assertInstanceOf(Decision.Queued.class, d, ctx);
                    assertEquals(f.position(), q.position(), ctx);
                    assertEquals(f.deadline().orElseThrow(), q.deadline(), ctx);
                    assertEquals(f.awaited(), q.awaitedEvictions(), ctx);
                    assertEquals(f.sentence(), q.sentence(), ctx);
                }
                case PREEMPT -> {
                    Decision.Queued q = assertInstanceOf(Decision.Queued.class, d, ctx);
                    assertEquals(f.preempted().stream().map(Lease::id).toList(),
                            q.awaitedEvictions().stream().map(Lease::id).toList(), ctx);
                    assertEquals(f.deadline().orElseThrow(), q.deadline(), ctx);
                    assertEquals(f.sentence(), q.sentence(), ctx);
                }
            }
            open.add(a);
            int op = random.nextInt(10);
            if (op < 3 && !rig.view().leases().isEmpty()) {
                List<Lease> ls = rig.view().leases();
                now(rig.controller.release(ls.get(random.nextInt(ls.size())).id()));
            } else if (op < 5) {
                Observation.Builder o = rig.observation();
                for (Lease l : rig.view().leases()) {
                    l.holder().ifPresent(h -> o.holder(l.service(), h,
                            l.state() == LeaseState.EVICTING && random.nextBoolean() ? 0 : l.bytes()));
                }
                rig.observe(o.build());
            } else if (op < 7) {
                rig.time.advance(Duration.ofMillis(random.nextLong(0, 15_000)));
            }
        }
        for (Forecast.Outcome o : Forecast.Outcome.values()) {
            assertTrue(seen[o.ordinal()] > 20, "too few " + o + " forecasts to mean much (seed " + seed + ")");
        }
    }
}
