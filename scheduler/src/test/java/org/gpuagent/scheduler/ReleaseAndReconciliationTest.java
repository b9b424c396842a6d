package org.gpuagent.scheduler;

import static org.gpuagent.scheduler.Homelab.GIB;
import static org.gpuagent.scheduler.Homelab.MIB;
import static org.gpuagent.scheduler.Homelab.now;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ReleaseAndReconciliationTest {

    @Test
    void releaseByIdIsIdempotent() {
        Homelab.Rig rig = Homelab.rig();
        Lease l = rig.admit("ollama", GIB, "o");
        assertTrue(now(rig.controller.release(l.id())));
        assertFalse(now(rig.controller.release(l.id())));
        assertFalse(now(rig.controller.release(new LeaseId(999))));
        assertEquals(1, rig.eventsOf(LedgerEvent.Released.class).size());
        assertEquals(LeaseState.RELEASED, rig.eventsOf(LedgerEvent.Released.class).get(0).lease().state());
        assertTrue(rig.view().leases().isEmpty());
        assertEquals(0, rig.view().committedBytes());
    }

    @Test
    void releaseByHolderReleasesAllItsLeasesOnce() {
        Homelab.Rig rig = Homelab.rig();
        rig.admit("ollama", GIB, "oci:abc");
        rig.admit("ollama", GIB, "oci:abc");
        Lease other = rig.admit("ollama", GIB, "oci:def");
        assertEquals(2, now(rig.controller.releaseHolder("oci:abc")));
        assertEquals(0, now(rig.controller.releaseHolder("oci:abc")));
        assertEquals(List.of(other), rig.view().leases());
    }

    /**
     * Liveness over time for a lease of holder "h" (grace 30 s), as "seconds:state" with state
     * alive, gone or unknown (no liveness in the observation); the expected second it is
     * reclaimed, or "never".
     */
    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', textBlock = """
        # rule                                       | observations                         | reclaimed at
        gone for the whole grace                     | 0:gone 10:gone 29:gone 30:gone       | 30
        seen alive again resets the grace           | 0:gone 10:alive 20:gone 40:gone 50:gone | 50
        alive all along                              | 0:alive 40:alive 80:alive            | never
        unknown liveness reclaims nothing            | 0:unknown 40:unknown 80:unknown      | never
        unknown liveness does not reset the grace    | 0:gone 20:unknown 30:gone            | 30
        gone but not long enough                     | 5:gone 34:gone                       | never
        """)
    void aLeaseWhoseHolderIsGoneIsReclaimedAfterTheGrace(String rule, String observations, String reclaimedAt) {
        Homelab.Rig rig = Homelab.rig();
        Lease lease = rig.admit("immich", GIB, "h");
        Optional<Integer> reclaimed = Optional.empty();
        int elapsed = 0;
        for (String step : observations.trim().split("\\s+")) {
            String[] f = step.split(":");
            int at = Integer.parseInt(f[0]);
            rig.time.advance(Duration.ofSeconds(at - elapsed));
            elapsed = at;
            Observation.Builder o = rig.observation();
            switch (f[1]) {
                case "alive" -> o.alive("h");
                case "gone" -> o.livenessKnown();
                case "unknown" -> {
                }
                default -> throw new IllegalArgumentException(step);
            }
            rig.observe(o.build());
            if (reclaimed.isEmpty() && rig.view().lease(lease.id()).isEmpty()) {
                reclaimed = Optional.of(at);
            }
        }
        assertEquals(reclaimedAt, reclaimed.map(String::valueOf).orElse("never"), rule);
        if (reclaimed.isPresent()) {
            LedgerEvent.Reclaimed e = rig.eventsOf(LedgerEvent.Reclaimed.class).get(0);
            assertEquals(lease.id(), e.lease().id());
            assertTrue(e.sentence().contains("its holder h has been gone since"), e.sentence());
        }
    }

    @Test
    void aLiveProcessKeepsAHolderlessLeaseAlive() {
        Homelab.Rig rig = Homelab.rig();
        Lease lease = now(rig.controller.request(AdmissionRequest.of("immich").withBytes(GIB).withPids(List.of(42L)))
                .outcome()) instanceof Decision.Admitted a ? a.lease() : null;
        rig.observe(rig.observation().alivePid(42).build());
        rig.time.advance(Duration.ofMinutes(5));
        rig.observe(rig.observation().alivePid(42).build());
        assertTrue(rig.view().lease(lease.id()).isPresent());
        rig.observe(rig.observation().alivePid(7).build());
        rig.time.advance(Duration.ofSeconds(30));
        rig.observe(rig.observation().alivePid(7).build());
        assertTrue(rig.view().lease(lease.id()).isEmpty());
    }

    @Test
    void aLeaseWithoutHolderOrPidsIsNeverReclaimed() {
        Homelab.Rig rig = Homelab.rig();
        rig.ask("immich", GIB);
        for (int i = 0; i < 3; i++) {
            rig.time.advance(Duration.ofMinutes(1));
            rig.observe(rig.observation().livenessKnown().build());
        }
        assertEquals(1, rig.view().leases().size());
    }

    @Test
    void anObservationOlderThanTheLeaseDoesNotCountAgainstIt() {
        Homelab.Rig rig = Homelab.rig();
        rig.time.advance(Duration.ofMinutes(1));
        Lease lease = rig.admit("immich", GIB, "h");
        rig.observe(Observation.builder(Homelab.START, 4 * GIB).livenessKnown().build());
        rig.time.advance(Duration.ofMinutes(1));
        rig.observe(rig.observation().livenessKnown().build());
        assertTrue(rig.view().lease(lease.id()).isPresent(), "gone since the newer observation only");
    }

    /** Observed use of holder "h" over time (lease 1 GiB, tolerance 64 MiB): how many over-use events. */
    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', textBlock = """
        # rule                                     | observed MiB            | events
        within the lease                           | 900 1024                | 0
        exactly at the tolerance                   | 1088                    | 0
        one MiB beyond the tolerance               | 1089                    | 1
        raised once while it lasts                 | 1200 1300 1400          | 1
        raised again after dropping back           | 1200 1000 1200          | 2
        """)
    void overUseBeyondTheToleranceRaisesAnEvent(String rule, String observed, int events) {
        Homelab.Rig rig = Homelab.rig();
        rig.admit("immich", GIB, "h");
        for (String mib : observed.trim().split("\\s+")) {
            rig.observe(rig.observation().holder("immich", "h", Long.parseLong(mib) * MIB).build());
        }
        List<LedgerEvent.OverUse> got = rig.eventsOf(LedgerEvent.OverUse.class);
        assertEquals(events, got.size(), rule);
        if (events > 0) {
            assertEquals(Optional.of("h"), got.get(0).holder());
            assertEquals(GIB, got.get(0).leasedBytes());
        }
    }

    @Test
    void useOfAServiceWithoutAnyLeaseIsOverUse() {
        Homelab.Rig rig = Homelab.rig();
        rig.observe(rig.observation().service("ollama", GIB).build());
        LedgerEvent.OverUse e = rig.eventsOf(LedgerEvent.OverUse.class).get(0);
        assertEquals("ollama", e.service());
        assertEquals(Optional.empty(), e.holder());
        assertEquals("ollama uses 1 GiB but leased 0 B, more than its 64 MiB tolerance", e.sentence());
    }

    @Test
    void unattributedUseIsReportedWhenItChanges() {
        Homelab.Rig rig = Homelab.rig();
        rig.observe(rig.observation().unattributed(300 * MIB).build());
        rig.observe(rig.observation().unattributed(300 * MIB).build());
        rig.observe(rig.observation().unattributed(0).build());
        rig.observe(rig.observation().unattributed(300 * MIB).build());
        List<LedgerEvent.UnattributedUse> got = rig.eventsOf(LedgerEvent.UnattributedUse.class);
        assertEquals(2, got.size());
        assertEquals("300 MiB of GPU memory is used by processes that no service accounts for", got.get(0).sentence());
        assertEquals(300 * MIB, rig.view().unattributedBytes());
    }

    @Test
    void reclaimingFreesCapacityForTheQueue() {
        Homelab.Rig rig = Homelab.rig();
        rig.admit("jellyfin", 4 * GIB, "j");
        Admission waiting = rig.askWaiting("immich", GIB, "i", Duration.ofMinutes(2));
        rig.observe(rig.observation().livenessKnown().build());
        rig.time.advance(Duration.ofSeconds(30));
        rig.observe(rig.observation().livenessKnown().alive("i").build());
        assertTrue(now(waiting.outcome()).admitted());
    }
}
