package org.gpuagent.scheduler;

import static org.gpuagent.scheduler.Homelab.GIB;
import static org.gpuagent.scheduler.Homelab.MIB;
import static org.gpuagent.scheduler.Homelab.now;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Higher priority first, FIFO within a class, freed capacity admits in order, no overtaking. */
class QueueOrderTest {

    /**
     * A non-preemptible lease fills the card, requests "service:MiB" (numbered from 1) queue, then
     * the lease is released and the queue drains.
     */
    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', textBlock = """
        # rule                                          | requests (in arrival order)                                   | positions   | admitted | still waiting
        FIFO within a class                             | immich:1024 immich:1024 immich:1024                            | 1 2 3       | 1 2 3    |
        higher priority first                           | immich:1024 jellyfin:1024 frigate:1024                         | 1 1 1       | 3 2 1    |
        classes interleaved                             | immich:512 frigate:512 immich:512 jellyfin:512 frigate:512     | 1 1 3 2 2   | 2 5 4 1 3 |
        a big head blocks smaller ones behind it        | immich:3072 immich:2048 immich:512                             | 1 2 3       | 1        | 2 3
        a big head blocks lower classes too             | jellyfin:3584 immich:1024 ollama:256                           | 1 2 3       | 1        | 2 3
        admits while it fits, then stops               | jellyfin:2048 jellyfin:1024 jellyfin:2048 jellyfin:512         | 1 2 3 4     | 1 2      | 3 4
        """)
    void drainsInQueueOrder(String rule, String requests, String positions, String admitted, String waiting) {
        Homelab.Rig rig = Homelab.rig();
        Lease blocker = rig.admit("backup", 4 * GIB, "blocker");
        List<Admission> asked = new ArrayList<>();
        List<Integer> gotPositions = new ArrayList<>();
        for (String r : requests.trim().split("\\s+")) {
            String[] f = r.split(":");
            Admission a = rig.askWaiting(f[0], Long.parseLong(f[1]) * MIB, "h" + (asked.size() + 1),
                    Duration.ofMinutes(5));
            asked.add(a);
            gotPositions.add(assertInstanceOf(Decision.Queued.class, now(a.firstDecision())).position());
        }
        assertEquals(positions, gotPositions.stream().map(String::valueOf).collect(Collectors.joining(" ")), rule);
        assertTrue(now(rig.controller.release(blocker.id())));

        List<String> order = new ArrayList<>();
        for (LedgerEvent.Admitted e : rig.eventsOf(LedgerEvent.Admitted.class)) {
            for (int i = 0; i < asked.size(); i++) {
                if (asked.get(i).requestId() == e.requestId()) {
                    order.add(String.valueOf(i + 1));
                }
            }
        }
        assertEquals(admitted, String.join(" ", order), rule);
        List<String> still = rig.view().queue().stream()
                .map(q -> String.valueOf(indexOf(asked, q.requestId()) + 1)).toList();
        assertEquals(waiting == null ? "" : waiting, String.join(" ", still), rule);
        for (int i = 0; i < rig.view().queue().size(); i++) {
            assertEquals(i + 1, rig.view().queue().get(i).position());
        }
    }

    private static int indexOf(List<Admission> asked, long requestId) {
        for (int i = 0; i < asked.size(); i++) {
            if (asked.get(i).requestId() == requestId) {
                return i;
            }
        }
        throw new AssertionError("unknown request " + requestId);
    }

    /** A newcomer that would fit must not overtake waiting requests of equal or higher priority. */
    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', textBlock = """
        # rule                                            | newcomer       | outcome
        lower priority than the waiting head: no overtaking | ollama:512    | WAITING_AHEAD
        equal priority: no overtaking                     | immich:512     | WAITING_AHEAD
        higher priority: goes first and fits             | jellyfin:512   | ADMITTED
        """)
    void newcomersDoNotOvertake(String rule, String newcomer, String outcome) {
        Homelab.Rig rig = Homelab.rig();
        rig.admit("backup", 3 * GIB, "blocker");
        Admission head = rig.askWaiting("immich", 2 * GIB, "head", Duration.ofMinutes(1));
        assertInstanceOf(Decision.Queued.class, now(head.firstDecision()));
        String[] f = newcomer.split(":");
        Decision.Final d = now(rig.ask(f[0], Long.parseLong(f[1]) * MIB, "new").outcome());
        if (outcome.equals("ADMITTED")) {
            assertInstanceOf(Decision.Admitted.class, d, rule);
        } else {
            Decision.Denied denied = assertInstanceOf(Decision.Denied.class, d, rule);
            assertEquals(Decision.Reason.valueOf(outcome), denied.reason(), rule);
            assertEquals(0, denied.shortfallBytes(), "memory was free; the queue was in the way");
            assertTrue(denied.sentence().contains("1 request of equal or higher priority is waiting ahead of it"),
                    denied.sentence());
        }
        assertFalse(head.outcome().isDone(), "the head still waits");
    }

    @Test
    void aWaitingRequestIsDeniedAtItsDeadline() {
        Homelab.Rig rig = Homelab.rig();
        rig.admit("backup", 4 * GIB, "blocker");
        Admission a = rig.askWaiting("ollama", GIB, "o", Duration.ofSeconds(30));
        rig.time.advance(Duration.ofSeconds(29));
        assertFalse(a.outcome().isDone());
        rig.time.advance(Duration.ofSeconds(1));
        Decision.Denied d = assertInstanceOf(Decision.Denied.class, now(a.outcome()));
        assertEquals(Decision.Reason.DEADLINE_PASSED, d.reason());
        assertEquals(GIB, d.shortfallBytes());
        assertTrue(rig.view().queue().isEmpty());
        LedgerEvent.Denied e = rig.eventsOf(LedgerEvent.Denied.class).get(0);
        assertEquals(Duration.ofSeconds(30), e.waited());
    }

    @Test
    void aWaitingRequestIsAdmittedWhenCapacityFrees() {
        Homelab.Rig rig = Homelab.rig();
        Lease blocker = rig.admit("backup", 4 * GIB, "blocker");
        Admission a = rig.askWaiting("ollama", GIB, "o", Duration.ofSeconds(30));
        rig.time.advance(Duration.ofSeconds(12));
        now(rig.controller.release(blocker.id()));
        Decision.Admitted d = assertInstanceOf(Decision.Admitted.class, now(a.outcome()));
        assertEquals(Duration.ofSeconds(12), d.waited());
        assertEquals(0, rig.time.pendingTimers(), "the deadline timer is cancelled");
    }

    @Test
    void whenTheHeadLeavesTheNextOneIsConsidered() {
        Homelab.Rig rig = Homelab.rig();
        rig.admit("backup", 3 * GIB, "blocker");
        Admission big = rig.askWaiting("immich", 2 * GIB, "big", Duration.ofSeconds(10));
        Admission small = rig.askWaiting("immich", 512 * MIB, "small", Duration.ofSeconds(60));
        assertFalse(small.outcome().isDone(), "blocked behind the head although it fits");
        rig.time.advance(Duration.ofSeconds(10));
        assertInstanceOf(Decision.Denied.class, now(big.outcome()));
        assertInstanceOf(Decision.Admitted.class, now(small.outcome()), "admitted as soon as the head expired");
    }

    @Test
    void cancellingTheHeadUnblocksTheQueue() {
        Homelab.Rig rig = Homelab.rig();
        rig.admit("backup", 3 * GIB, "blocker");
        Admission big = rig.askWaiting("immich", 2 * GIB, "big", Duration.ofMinutes(1));
        Admission small = rig.askWaiting("immich", 512 * MIB, "small", Duration.ofMinutes(1));
        big.cancel();
        Decision.Denied d = assertInstanceOf(Decision.Denied.class, now(big.outcome()));
        assertEquals(Decision.Reason.CANCELLED, d.reason());
        assertInstanceOf(Decision.Admitted.class, now(small.outcome()));
        big.cancel();
        assertEquals(1, rig.eventsOf(LedgerEvent.Denied.class).size(), "cancelling twice changes nothing");
    }

    @Test
    void closingRefusesEverythingWaiting() throws Exception {
        Homelab.Rig rig = Homelab.rig();
        rig.admit("backup", 4 * GIB, "blocker");
        Admission a = rig.askWaiting("immich", GIB, "a", Duration.ofMinutes(1));
        rig.controller.close();
        assertEquals(Decision.Reason.SHUTDOWN, assertInstanceOf(Decision.Denied.class, now(a.outcome())).reason());
        Decision.Denied late = assertInstanceOf(Decision.Denied.class, now(rig.ask("immich", MIB).outcome()));
        assertEquals(Decision.Reason.SHUTDOWN, late.reason());
    }
}
