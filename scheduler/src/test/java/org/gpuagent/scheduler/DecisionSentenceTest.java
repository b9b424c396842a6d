package org.gpuagent.scheduler;

import static org.gpuagent.scheduler.Homelab.GIB;
import static org.gpuagent.scheduler.Homelab.MIB;
import static org.gpuagent.scheduler.Homelab.now;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The sentences people read, word for word. Clock 12:00:00 UTC. */
class DecisionSentenceTest {
    private static final String OLLAMA = "systemd:ollama.service";

    @Test
    void queuedBecauseNothingMayBePreempted() {
        Homelab.Rig rig = Homelab.rig();
        rig.admit("jellyfin", (4096 - 1126) * MIB, "j");
        Admission a = rig.askWaiting("ollama", 2560 * MIB, OLLAMA, Duration.ofSeconds(30));
        assertEquals("ollama needs 2.5 GiB, 1.1 GiB is free; only lower-priority leases may be preempted and there are"
                + " none; waiting until 12:00:30", now(a.firstDecision()).sentence());
        rig.time.advance(Duration.ofSeconds(30));
        assertEquals("ollama needs 2.5 GiB, 1.1 GiB is free; gave up at 12:00:30 after waiting 30 s",
                now(a.outcome()).sentence());
    }

    @Test
    void deniedWithoutWaiting() {
        Homelab.Rig rig = Homelab.rig();
        rig.admit("jellyfin", (4096 - 1126) * MIB, "j");
        assertEquals("ollama needs 2.5 GiB, 1.1 GiB is free; only lower-priority leases may be preempted and there are"
                + " none; not waiting", now(rig.ask("ollama", 2560 * MIB, OLLAMA).outcome()).sentence());
    }

    @Test
    void admitted() {
        Homelab.Rig rig = Homelab.rig();
        assertEquals("ollama admitted: lease 1, 2.5 GiB for systemd:ollama.service; 1.5 GiB of the 4 GiB budget is"
                + " still free", now(rig.ask("ollama", 2560 * MIB, OLLAMA).outcome()).sentence());
    }

    @Test
    void preemptionFromQueuedToAdmitted() {
        Homelab.Rig rig = Homelab.rig();
        rig.admit("immich", GIB, "immich");
        rig.admit("ollama", 2560 * MIB, OLLAMA);
        Admission a = rig.ask("frigate", GIB, "systemd:frigate.service");
        assertEquals("frigate needs 1 GiB, 512 MiB is free; preempting ollama lease 2 (2.5 GiB); waiting until"
                + " 12:00:30 for the memory to come back", now(a.firstDecision()).sentence());
        assertEquals("preempting ollama lease 2 (2.5 GiB) for frigate (request 3); its memory is expected back by"
                + " 12:00:30", rig.eventsOf(LedgerEvent.Preempted.class).get(0).sentence());
        rig.time.advance(Duration.ofMillis(4200));
        rig.observe(rig.observation().holder("immich", "immich", GIB).build());
        assertEquals("ollama lease 2 (2.5 GiB) gave its memory back and is released",
                rig.eventsOf(LedgerEvent.Evicted.class).get(0).sentence());
        assertEquals("frigate admitted after preempting ollama lease 2 (2.5 GiB): lease 3, 1 GiB for"
                + " systemd:frigate.service; the memory came back after 4.2 s", now(a.outcome()).sentence());
    }

    @Test
    void evictionTooSlow() {
        Homelab.Rig rig = Homelab.rig();
        rig.admit("immich", GIB, "immich");
        rig.admit("ollama", 2560 * MIB, OLLAMA);
        Admission a = rig.ask("frigate", GIB, "f");
        rig.time.advance(Duration.ofSeconds(30));
        assertEquals("frigate needs 1 GiB, 512 MiB is free; preempted ollama lease 2 (2.5 GiB) did not give the memory"
                + " back by 12:00:30", now(a.outcome()).sentence());
    }

    @Test
    void exceedsBudgetWithDefaultHeadroom() {
        Homelab.Rig rig = Homelab.rig(new SchedulerConfig(4 * GIB, Headroom.auto(), Homelab.SERVICES));
        assertEquals("ollama asks for 5 GiB but the whole budget is 3.8 GiB (4 GiB device minus 204.8 MiB headroom); it"
                + " can never fit", now(rig.ask("ollama", 5 * GIB).outcome()).sentence());
    }

    @Test
    void waitingAhead() {
        Homelab.Rig rig = Homelab.rig();
        rig.admit("backup", 4 * GIB, "b");
        rig.askWaiting("immich", GIB, "i1", Duration.ofMinutes(1));
        rig.askWaiting("immich", GIB, "i2", Duration.ofMinutes(1));
        Admission a = rig.askWaiting("immich", 512 * MIB, "i3", Duration.ofMinutes(2));
        assertEquals("immich needs 512 MiB; 2 requests of equal or higher priority are waiting ahead of it (position"
                + " 3); waiting until 12:02:00", now(a.firstDecision()).sentence());
    }

    @Test
    void reclaimedAndReleased() {
        Homelab.Rig rig = Homelab.rig();
        Lease l = rig.admit("immich", GIB, "oci:4f2a");
        now(rig.controller.release(l.id()));
        assertEquals("immich lease 1 (1 GiB) for oci:4f2a released",
                rig.eventsOf(LedgerEvent.Released.class).get(0).sentence());
        rig.admit("immich", GIB, "oci:77");
        rig.observe(rig.observation().livenessKnown().build());
        rig.time.advance(Duration.ofSeconds(30));
        rig.observe(rig.observation().livenessKnown().build());
        assertEquals("immich lease 2 (1 GiB) reclaimed: its holder oci:77 has been gone since 12:00:00",
                rig.eventsOf(LedgerEvent.Reclaimed.class).get(0).sentence());
    }
}
