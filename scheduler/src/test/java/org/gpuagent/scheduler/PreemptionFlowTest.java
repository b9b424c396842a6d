package org.gpuagent.scheduler;

import static org.gpuagent.scheduler.Homelab.GIB;
import static org.gpuagent.scheduler.Homelab.MIB;
import static org.gpuagent.scheduler.Homelab.now;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Victims turn EVICTING, stay counted until an observation shows the memory back, then the request is admitted. */
class PreemptionFlowTest {
    private static final String OLLAMA_UNIT = "systemd:ollama.service";
    private static final String IMMICH_UNIT = "systemd:immich-ml.service";

    /** immich 1 GiB + ollama 2.5 GiB on a 4 GiB card: 512 MiB free. */
    private static Homelab.Rig busyCard() {
        Homelab.Rig rig = Homelab.rig();
        rig.admit("immich", GIB, IMMICH_UNIT);
        rig.admit("ollama", 2560 * MIB, OLLAMA_UNIT);
        return rig;
    }

    private static Observation memoryBack(Homelab.Rig rig) {
        return rig.observation().holder("immich", IMMICH_UNIT, GIB).holder("ollama", OLLAMA_UNIT, 0).build();
    }

    /**
     * Two models of one service, each its own holder (as the Ollama proxy leases them): the one
     * touched least recently is the victim, although it is the older lease, and only it goes.
     */
    @Test
    void theLeastRecentlyUsedHolderIsPreemptedFirst() {
        Homelab.Rig rig = Homelab.rig();
        rig.admit("immich", GIB, IMMICH_UNIT);
        Lease small = rig.admit("ollama", GIB, "ollama-model:qwen2.5:1.5b");
        Lease large = rig.admit("ollama", 1536 * MIB, "ollama-model:llama3.2:3b");
        assertTrue(now(rig.controller.touch(small.id(), Homelab.START.plusSeconds(5))));
        assertTrue(now(rig.controller.touch(large.id(), Homelab.START.plusSeconds(9))));
        assertTrue(now(rig.controller.touch(large.id(), Homelab.START.plusSeconds(2))), "an older use is ignored");

        Decision.Queued q = assertInstanceOf(Decision.Queued.class,
                now(rig.ask("frigate", 1536 * MIB, "systemd:frigate.service").firstDecision()));

        // Newest-first alone would have chosen the large one.
        assertEquals(List.of(small.id()), q.awaitedEvictions().stream().map(Lease::id).toList());
        assertEquals(List.of(small.id()), rig.evictions.stream().map(o -> o.victim().id()).toList());
    }

    @Test
    void touchingALeaseThatIsNotCountedSaysSo() {
        Homelab.Rig rig = Homelab.rig();
        Lease l = rig.admit("ollama", GIB, OLLAMA_UNIT);
        now(rig.controller.release(l.id()));
        assertFalse(now(rig.controller.touch(l.id(), Homelab.START)));
        assertFalse(now(rig.controller.touch(new LeaseId(999), Homelab.START)));
    }

    @Test
    void victimIsEvictedAndTheRequestAdmittedOnceTheMemoryIsBack() {
        Homelab.Rig rig = busyCard();
        Admission frigate = rig.ask("frigate", GIB, "systemd:frigate.service");

        Decision.Queued q = assertInstanceOf(Decision.Queued.class, now(frigate.firstDecision()));
        assertEquals(1, q.awaitedEvictions().size());
        Lease victim = q.awaitedEvictions().get(0);
        assertEquals("ollama", victim.service());
        assertEquals(LeaseState.EVICTING, victim.state());
        assertEquals(1, rig.evictions.size(), "one actuator started");
        assertEquals(victim.id(), rig.evictions.get(0).victim().id());
        assertEquals("frigate", rig.evictions.get(0).forService());
        assertFalse(frigate.outcome().isDone());

        LedgerView v = rig.view();
        assertEquals(LeaseState.EVICTING, v.lease(victim.id()).orElseThrow().state(), "still counted");
        assertEquals(GIB + 2560 * MIB, v.committedBytes());
        assertEquals(List.of(victim.id()), v.queue().get(0).awaitedEvictions());

        rig.time.advance(Duration.ofSeconds(5));
        rig.observe(memoryBack(rig));

        Decision.AdmittedAfterPreemption a = assertInstanceOf(Decision.AdmittedAfterPreemption.class,
                now(frigate.outcome()));
        assertEquals(List.of(victim.id()), a.victims().stream().map(Lease::id).toList());
        assertEquals(Duration.ofSeconds(5), a.waited());
        assertTrue(rig.view().lease(victim.id()).isEmpty(), "the victim is released");
        assertEquals(2 * GIB, rig.view().leasedBytes());
        assertEquals(List.of(LedgerEvent.Preempted.class, LedgerEvent.Queued.class, LedgerEvent.Evicted.class,
                LedgerEvent.Admitted.class), rig.events.stream().skip(2).map(Object::getClass).toList());
    }

    @Test
    void evictingMemoryStaysCountedWhileTheObservationStillShowsIt() {
        Homelab.Rig rig = busyCard();
        Admission frigate = rig.ask("frigate", GIB, "f");
        rig.time.advance(Duration.ofSeconds(5));
        rig.observe(rig.observation().holder("immich", IMMICH_UNIT, GIB).holder("ollama", OLLAMA_UNIT, 2 * GIB).build());
        assertFalse(frigate.outcome().isDone());
        assertEquals(1, rig.view().leases().stream().filter(l -> l.state() == LeaseState.EVICTING).count());
        // Within the service's 64 MiB tolerance counts as back (a runner keeps a small context).
        rig.observe(rig.observation().holder("immich", IMMICH_UNIT, GIB).holder("ollama", OLLAMA_UNIT, 64 * MIB)
                .build());
        assertInstanceOf(Decision.AdmittedAfterPreemption.class, now(frigate.outcome()));
    }

    @Test
    void anObservationTakenBeforeTheEvictionBeganProvesNothing() {
        Homelab.Rig rig = busyCard();
        rig.time.advance(Duration.ofSeconds(10));
        Admission frigate = rig.ask("frigate", GIB, "f");
        rig.observe(Observation.builder(Homelab.START, 4 * GIB).holder("immich", IMMICH_UNIT, GIB).build());
        assertFalse(frigate.outcome().isDone());
    }

    @Test
    void atTheDeadlineTheRequestIsDeniedAndNothingElseIsEvicted() {
        Homelab.Rig rig = busyCard();
        Admission frigate = rig.ask("frigate", GIB, "f");
        Decision.Queued q = assertInstanceOf(Decision.Queued.class, now(frigate.firstDecision()));
        assertEquals(Homelab.START.plus(Homelab.OLLAMA.evictionDeadline()), q.deadline(),
                "without a wait of its own it waits the victim's eviction deadline");
        rig.time.advance(Duration.ofSeconds(29));
        rig.observe(rig.observation().holder("immich", IMMICH_UNIT, GIB).holder("ollama", OLLAMA_UNIT, 2560 * MIB)
                .build());
        assertFalse(frigate.outcome().isDone());
        rig.time.advance(Duration.ofSeconds(1));
        Decision.Denied d = assertInstanceOf(Decision.Denied.class, now(frigate.outcome()));
        assertEquals(Decision.Reason.EVICTION_TOO_SLOW, d.reason());
        assertEquals(1, rig.evictions.size(), "nothing else evicted");
        assertEquals(LeaseState.EVICTING, rig.view().leases().get(1).state(), "the victim stays evicting");
        assertEquals(LeaseState.ACTIVE, rig.view().leases().get(0).state(), "immich untouched");
    }

    @Test
    void aLongerWaitOfItsOwnExtendsThePreemptionDeadline() {
        Homelab.Rig rig = busyCard();
        Admission frigate = rig.askWaiting("frigate", GIB, "f", Duration.ofMinutes(2));
        Decision.Queued q = assertInstanceOf(Decision.Queued.class, now(frigate.firstDecision()));
        assertEquals(Homelab.START.plus(Duration.ofMinutes(2)), q.deadline());
    }

    @Test
    void releasingTheVictimAlsoGivesTheMemoryBack() {
        Homelab.Rig rig = busyCard();
        Admission frigate = rig.ask("frigate", GIB, "f");
        assertEquals(1, now(rig.controller.releaseHolder(OLLAMA_UNIT)));
        assertInstanceOf(Decision.AdmittedAfterPreemption.class, now(frigate.outcome()));
    }

    @Test
    void equalPriorityIsNeverPreempted() {
        Homelab.Rig rig = Homelab.rig();
        rig.admit("frigate", 3 * GIB, "f1");
        Decision.Denied d = assertInstanceOf(Decision.Denied.class, now(rig.ask("frigate", 2 * GIB, "f2").outcome()));
        assertEquals(Decision.Reason.INSUFFICIENT_VRAM, d.reason());
        assertEquals(GIB, d.shortfallBytes());
        assertEquals(1, d.inTheWay().size());
        assertTrue(d.sentence().contains("only lower-priority leases may be preempted and there are none"),
                d.sentence());
        assertTrue(rig.evictions.isEmpty());
    }

    @Test
    void aNonPreemptibleServiceIsNeverPreempted() {
        Homelab.Rig rig = Homelab.rig();
        rig.admit("backup", 3584 * MIB, "b");
        Decision.Denied d = assertInstanceOf(Decision.Denied.class, now(rig.ask("frigate", GIB, "f").outcome()));
        assertTrue(d.sentence().contains("only preemptible lower-priority leases may be preempted and there are none"),
                d.sentence());
        assertTrue(rig.evictions.isEmpty());
    }

    @Test
    void aDenialNamesTheLargestLeasesInTheWayFirst() {
        Homelab.Rig rig = Homelab.rig();
        List<Lease> frigates = new java.util.ArrayList<>();
        for (int i = 0; i < 20; i++) {
            frigates.add(rig.admit("frigate", (100 + (i * 7) % 5 * 10) * MIB, "f" + i));
        }
        rig.admit("ollama", 64 * MIB, "o");
        Decision.Denied d = assertInstanceOf(Decision.Denied.class, now(rig.ask("jellyfin", 3 * GIB, "j").outcome()));
        List<Lease> expected = new java.util.ArrayList<>(frigates);
        expected.sort(java.util.Comparator.comparingLong(Lease::bytes).reversed().thenComparing(Lease::id));
        assertEquals(expected.subList(0, 16), d.inTheWay(), "largest first, ties by age, at most 16");
    }

    @Test
    void whenEvenAllCandidatesAreNotEnoughNobodyIsEvicted() {
        Homelab.Rig rig = Homelab.rig();
        rig.admit("frigate", 2 * GIB, "f1");
        rig.admit("ollama", GIB, "o");
        Decision.Denied d = assertInstanceOf(Decision.Denied.class,
                now(rig.ask("jellyfin", 3 * GIB, "j").outcome()));
        assertTrue(d.sentence().contains("preempting every lower-priority lease (1 GiB) would still leave it 1 GiB short"),
                d.sentence());
        assertTrue(rig.evictions.isEmpty());
    }

    @Test
    void aHolderGroupIsEvictedWhole() {
        Homelab.Rig rig = Homelab.rig();
        rig.admit("ollama", 1536 * MIB, OLLAMA_UNIT);
        rig.admit("ollama", 1536 * MIB, OLLAMA_UNIT);
        Admission frigate = rig.ask("frigate", 2 * GIB, "f");
        Decision.Queued q = assertInstanceOf(Decision.Queued.class, now(frigate.firstDecision()));
        assertEquals(2, q.awaitedEvictions().size());
        assertEquals(2, rig.evictions.size());
    }

    /**
     * jellyfin preempts ollama; frigate, arriving while ollama's memory is on its way back, waits
     * for that memory instead of evicting more, and goes first; jellyfin follows.
     */
    @Test
    void aMoreImportantLaterRequestUsesMemoryAlreadyComingBack() {
        Homelab.Rig rig = busyCard();
        Admission jellyfin = rig.askWaiting("jellyfin", GIB, "j", Duration.ofMinutes(1));
        assertInstanceOf(Decision.Queued.class, now(jellyfin.firstDecision()));
        assertEquals(1, rig.evictions.size());
        Admission frigate = rig.askWaiting("frigate", 2 * GIB, "f", Duration.ofMinutes(1));
        Decision.Queued q = assertInstanceOf(Decision.Queued.class, now(frigate.firstDecision()));
        assertEquals(1, q.position());
        assertEquals("ollama", q.awaitedEvictions().get(0).service());
        assertEquals(1, rig.evictions.size(), "no further eviction");

        rig.time.advance(Duration.ofSeconds(3));
        rig.observe(memoryBack(rig));
        assertInstanceOf(Decision.Admitted.class, now(frigate.outcome()));
        assertInstanceOf(Decision.AdmittedAfterPreemption.class, now(jellyfin.outcome()));
        List<Long> order = rig.eventsOf(LedgerEvent.Admitted.class).stream().skip(2)
                .map(LedgerEvent.Admitted::requestId).toList();
        assertEquals(List.of(frigate.requestId(), jellyfin.requestId()), order);
    }

    @Test
    void aStuckEvictionIsNotCountedOnByTheNextRequest() {
        Homelab.Rig rig = busyCard();
        Admission first = rig.ask("frigate", GIB, "f1");
        rig.time.advance(Duration.ofSeconds(31));
        assertInstanceOf(Decision.Denied.class, now(first.outcome()));
        // ollama's eviction is past its deadline: a new critical request may not wait on it, so it
        // preempts immich instead.
        Admission second = rig.ask("frigate", GIB, "f2");
        Decision.Queued q = assertInstanceOf(Decision.Queued.class, now(second.firstDecision()));
        assertEquals("immich", q.awaitedEvictions().get(0).service());
        assertEquals(2, rig.evictions.size());
    }
}
