package org.gpuagent.scheduler;

import static org.gpuagent.scheduler.Homelab.GIB;
import static org.gpuagent.scheduler.Homelab.MIB;
import static org.gpuagent.scheduler.Homelab.now;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The budget and the admission rule: admit iff C + x ≤ B, C = Σ max(lease, observed) + unattributed. */
class AdmissionRuleTest {

    /**
     * Leases are "service:MiB[:holder]"; the observation is "h:service:holder:MiB" (a holder's
     * use), "s:service:MiB" (use of a service by no holder) or "u:MiB" (unattributed). The
     * requester is immich (batch), which may preempt nobody here.
     */
    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', textBlock = """
        # rule                                              | leases                                 | observation                        | MiB (or b<bytes>) | C MiB | outcome           | short MiB
        empty card admits the whole budget                  |                                        |                                    | 4096   | 0    | ADMITTED          | 0
        C + x == B is admitted                              | jellyfin:1024:j1 jellyfin:1024:j2      |                                    | 2048   | 2048 | ADMITTED          | 0
        one byte over is denied                             | jellyfin:1024:j1 jellyfin:1024:j2      |                                    | b2147483649 | 2048 | INSUFFICIENT_VRAM | b1
        observed above the lease counts                     | jellyfin:1024:j1                       | h:jellyfin:j1:1536                 | 2560   | 1536 | ADMITTED          | 0
        observed above the lease, one MiB over              | jellyfin:1024:j1                       | h:jellyfin:j1:1536                 | 2561   | 1536 | INSUFFICIENT_VRAM | 1
        observed below the lease: the lease counts          | jellyfin:1024:j1                       | h:jellyfin:j1:100                  | 3072   | 1024 | ADMITTED          | 0
        observed below the lease, one MiB over              | jellyfin:1024:j1                       | h:jellyfin:j1:100                  | 3073   | 1024 | INSUFFICIENT_VRAM | 1
        unattributed use counts                             | jellyfin:1024:j1                       | u:512                              | 2561   | 1536 | INSUFFICIENT_VRAM | 1
        a service's unleased use counts                     |                                        | s:jellyfin:768                     | 3329   | 768  | INSUFFICIENT_VRAM | 1
        a holderless lease absorbs its service's use        | jellyfin:1024                          | s:jellyfin:768                     | 3072   | 1024 | ADMITTED          | 0
        service use beyond its holderless leases counts     | jellyfin:1024                          | s:jellyfin:1280                    | 2817   | 1280 | INSUFFICIENT_VRAM | 1
        holder use is not counted twice in the service      | jellyfin:1024:j1                       | h:jellyfin:j1:1024 s:jellyfin:256  | 2816   | 1280 | ADMITTED          | 0
        two leases of one holder share its use              | jellyfin:512:j1 jellyfin:512:j1        | h:jellyfin:j1:1024                 | 3072   | 1024 | ADMITTED          | 0
        a holder's use above both its leases                | jellyfin:512:j1 jellyfin:512:j1        | h:jellyfin:j1:1536                 | 2561   | 1536 | INSUFFICIENT_VRAM | 1
        use of an unconfigured service counts               |                                        | s:plex:512                         | 3585   | 512  | INSUFFICIENT_VRAM | 1
        more than the budget can never fit                  |                                        |                                    | 4097   | 0    | EXCEEDS_BUDGET    | 1
        """)
    void admitsIffCommittedPlusRequestFitsTheBudget(String rule, String leases, String observation, String request,
            long committedMib, String outcome, String shortfall) {
        Homelab.Rig rig = Homelab.rig();
        if (leases != null) {
            for (String l : leases.trim().split("\\s+")) {
                String[] f = l.split(":");
                AdmissionRequest r = AdmissionRequest.of(f[0]).withBytes(Long.parseLong(f[1]) * MIB);
                if (f.length > 2) {
                    r = r.withHolder(f[2]);
                }
                assertInstanceOf(Decision.Admitted.class, now(rig.controller.request(r).outcome()), rule);
            }
        }
        if (observation != null) {
            Observation.Builder o = rig.observation();
            for (String part : observation.trim().split("\\s+")) {
                String[] f = part.split(":");
                switch (f[0]) {
                    case "h" -> o.holder(f[1], f[2], Long.parseLong(f[3]) * MIB);
                    case "s" -> o.service(f[1], Long.parseLong(f[2]) * MIB);
                    case "u" -> o.unattributed(Long.parseLong(f[1]) * MIB);
                    default -> throw new IllegalArgumentException(part);
                }
            }
            rig.observe(o.build());
        }
        assertEquals(committedMib * MIB, rig.view().committedBytes(), rule + ": committed");
        Decision.Final d = now(rig.ask("immich", bytes(request)).outcome());
        if (outcome.equals("ADMITTED")) {
            assertInstanceOf(Decision.Admitted.class, d, rule + ": " + d.sentence());
        } else {
            Decision.Denied denied = assertInstanceOf(Decision.Denied.class, d, rule + ": " + d.sentence());
            assertEquals(Decision.Reason.valueOf(outcome), denied.reason(), rule);
            assertEquals(bytes(shortfall), denied.shortfallBytes(), rule + ": shortfall");
        }
        assertTrue(rig.view().leasedBytes() <= rig.view().budgetBytes(), rule);
        assertTrue(rig.evictions.isEmpty(), rule + ": nobody preempted");
    }

    private static long bytes(String spec) {
        return spec.startsWith("b") ? Long.parseLong(spec.substring(1)) : Long.parseLong(spec) * MIB;
    }

    @Test
    void beforeAnyObservationTheConfiguredTotalAndNoUseCount() {
        Homelab.Rig rig = Homelab.rig(new SchedulerConfig(4 * GIB, Headroom.auto(), Homelab.SERVICES));
        LedgerView v = rig.view();
        assertEquals(4 * GIB, v.deviceTotalBytes());
        assertEquals(Headroom.auto().bytesFor(4 * GIB), v.headroomBytes());
        assertEquals(4 * GIB - Headroom.auto().bytesFor(4 * GIB), v.budgetBytes());
        assertEquals(0, v.committedBytes());
        assertTrue(v.observedAt().isEmpty());
        assertInstanceOf(Decision.Admitted.class, now(rig.ask("ollama", v.budgetBytes()).outcome()));
    }

    @Test
    void anObservedTotalReplacesTheConfiguredOne() {
        Homelab.Rig rig = Homelab.rig();
        rig.observe(Observation.builder(Homelab.START, 2 * GIB).build());
        assertEquals(2 * GIB, rig.view().budgetBytes());
        Decision.Denied d = assertInstanceOf(Decision.Denied.class, now(rig.ask("immich", 3 * GIB).outcome()));
        assertEquals(Decision.Reason.EXCEEDS_BUDGET, d.reason());
    }

    @Test
    void defaultRequestIsTheServiceDefault() {
        Homelab.Rig rig = Homelab.rig();
        Decision.Admitted a = assertInstanceOf(Decision.Admitted.class,
                now(rig.controller.request(AdmissionRequest.of("ollama")).outcome()));
        assertEquals(Homelab.OLLAMA.defaultRequestBytes(), a.lease().bytes());
    }

    @Test
    void unknownServiceIsADecisionNotAnException() {
        Homelab.Rig rig = Homelab.rig();
        Decision.Denied d = assertInstanceOf(Decision.Denied.class,
                now(rig.controller.request(AdmissionRequest.of("plex")).outcome()));
        assertEquals(Decision.Reason.UNKNOWN_SERVICE, d.reason());
        assertEquals("unknown service 'plex' (configured: frigate, jellyfin, immich, ollama, backup)", d.sentence());
    }

    @Test
    void leaseIdsAreUniqueAndIncreasing() {
        Homelab.Rig rig = Homelab.rig();
        Lease a = rig.admit("jellyfin", MIB, "a");
        Lease b = rig.admit("jellyfin", MIB, "b");
        assertTrue(b.id().value() > a.id().value());
        assertEquals(a.id(), LeaseId.parse(a.id().toString()));
    }

    @Test
    void aListenerThatThrowsBreaksNothing() {
        Homelab.Rig rig = Homelab.rig();
        rig.controller.addListener(e -> {
            throw new IllegalStateException("listener bug");
        });
        java.util.List<LedgerEvent> after = new java.util.ArrayList<>();
        rig.controller.addListener(after::add);
        Lease l = rig.admit("ollama", GIB, "o");
        assertTrue(now(rig.controller.release(l.id())));
        assertEquals(2, after.size(), "later listeners still get every event");
        assertEquals(0, rig.view().leasedBytes());
        rig.admit("ollama", 4 * GIB, "o2");
    }
}
