package org.gpuagent.scheduler;

import static org.gpuagent.scheduler.Homelab.GIB;
import static org.gpuagent.scheduler.Homelab.MIB;
import static org.gpuagent.scheduler.Homelab.now;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.gpuagent.scheduler.journal.Journal;
import org.gpuagent.scheduler.journal.JournalRecord;
import org.gpuagent.scheduler.journal.LogCapture;
import org.gpuagent.scheduler.journal.RecoveredLedger;
import org.gpuagent.scheduler.testing.ManualTime;
import org.junit.jupiter.api.Test;

/**
 * What the ledger keeps per service and per unit as leases go through their states, which unit is
 * preempted first, who is named in the way, what happens at drain time, and what it logs.
 */
class LedgerBookkeepingTest {
    private static LedgerView.ServiceUsage usage(Homelab.Rig rig, String service) {
        return rig.view().service(service).orElseThrow();
    }

    private static Lease holderless(Homelab.Rig rig, String service, long bytes) {
        Decision.Final d = now(rig.ask(service, bytes).outcome());
        return assertInstanceOf(Decision.Admitted.class, d, d.sentence()).lease();
    }

    private static void assertUsage(Homelab.Rig rig, String service, long leased, int active, int evicting) {
        LedgerView.ServiceUsage u = usage(rig, service);
        assertEquals(List.of(leased, (long) active, (long) evicting),
                List.of(u.leasedBytes(), (long) u.activeLeases(), (long) u.evictingLeases()), service);
    }

    /**
     * Two rounds of preemption of ollama's holderless leases (a unit that lives on between rounds, so
     * what it counted in the first must be gone in the second).
     */
    /** The view says when the ledger last took in an observation: none before the first. */
    @Test
    void theViewSaysWhenTheLedgerLastObserved() {
        Homelab.Rig rig = Homelab.rig();
        assertEquals(Optional.empty(), rig.view().observedAt());
        rig.time.advance(Duration.ofSeconds(3));
        Observation o = rig.observation().build();
        rig.observe(o);
        assertEquals(Optional.of(Homelab.START.plusSeconds(3)), rig.view().observedAt());
        assertEquals(o.takenAt(), rig.view().observedAt().orElseThrow());
    }

    @Test
    void perServiceCountsFollowEveryLeaseThroughItsStates() {
        Homelab.Rig rig = Homelab.rig();
        Lease o1 = holderless(rig, "ollama", 2 * GIB);
        Lease o2 = holderless(rig, "ollama", 512 * MIB);
        rig.admit("immich", GIB, "i");
        assertUsage(rig, "ollama", 2560 * MIB, 2, 0);

        Admission f = rig.ask("frigate", GIB, "f");
        assertEquals(List.of(o1.id(), o2.id()), now(f.firstDecision()) instanceof Decision.Queued q
                ? q.awaitedEvictions().stream().map(Lease::id).toList() : List.of());
        assertUsage(rig, "ollama", 2560 * MIB, 0, 2);
        assertUsage(rig, "immich", GIB, 1, 0);

        rig.time.advance(Duration.ofSeconds(1));
        rig.observe(rig.observation().holder("immich", "i", GIB).build());
        assertInstanceOf(Decision.AdmittedAfterPreemption.class, now(f.outcome()));
        assertUsage(rig, "ollama", 0, 0, 0);
        assertUsage(rig, "frigate", GIB, 1, 0);

        Lease o3 = holderless(rig, "ollama", 1536 * MIB);
        assertUsage(rig, "ollama", 1536 * MIB, 1, 0);
        Admission j = rig.ask("jellyfin", GIB, "j");
        assertInstanceOf(Decision.Queued.class, now(j.firstDecision()));
        assertUsage(rig, "ollama", 1536 * MIB, 0, 1);
        rig.time.advance(Duration.ofSeconds(1));
        rig.observe(rig.observation().holder("immich", "i", GIB).holder("frigate", "f", GIB).build());
        assertInstanceOf(Decision.AdmittedAfterPreemption.class, now(j.outcome()));
        assertTrue(rig.view().lease(o3.id()).isEmpty(), "the second eviction of the same unit completes too");
        assertUsage(rig, "ollama", 0, 0, 0);
        assertUsage(rig, "jellyfin", GIB, 1, 0);
        assertTrue(now(rig.controller.release(rig.view().leases().get(0).id())));
        assertUsage(rig, "immich", 0, 0, 0);
    }

    /**
     * Within a class the newest unit goes first, a unit's age being its first lease, whether it has a
     * holder or not (holderless units are listed after holder groups, yet may be older).
     */
    @Test
    void theNewestUnitIsPreemptedFirstByItsFirstLease() {
        Homelab.Rig rig = Homelab.rig();
        holderless(rig, "ollama", GIB);
        Lease newer = rig.admit("ollama", GIB, "h");
        Admission f = rig.ask("frigate", 3 * GIB, "f");
        assertEquals(List.of(newer.id()), rig.evictions.stream().map(o -> o.victim().id()).toList());
        assertInstanceOf(Decision.Queued.class, now(f.firstDecision()));

        Homelab.Rig two = Homelab.rig();
        Lease h1 = two.admit("ollama", 512 * MIB, "h");
        Lease k = two.admit("ollama", GIB, "k");
        two.admit("ollama", 512 * MIB, "h");
        two.ask("frigate", 3 * GIB, "f");
        assertEquals(List.of(k.id()), two.evictions.stream().map(o -> o.victim().id()).toList(),
                "h is older than k by its first lease " + h1.id());
    }

    @Test
    void aDenialNamesWhatTheRequesterMayNotPreempt() {
        Homelab.Rig rig = Homelab.rig();
        Lease frigate = rig.admit("frigate", GIB, "f");
        Lease jellyfin = rig.admit("jellyfin", GIB, "j");
        Lease backup = rig.admit("backup", GIB, "b");
        rig.admit("ollama", GIB, "o");
        Decision.Denied d = assertInstanceOf(Decision.Denied.class, now(rig.ask("immich", 2 * GIB, "i").outcome()));
        assertEquals(Decision.Reason.INSUFFICIENT_VRAM, d.reason());
        assertEquals(List.of(frigate, jellyfin, backup), d.inTheWay(),
                "equal or higher priority, or not preemptible; not ollama, which it could preempt");
    }

    /** Memory an evicting holderless unit is giving back counts for the next request. */
    @Test
    void aHolderlessUnitGivingMemoryBackIsWaitedFor() {
        Homelab.Rig rig = Homelab.rig();
        Lease ollama = holderless(rig, "ollama", 2 * GIB);
        rig.admit("immich", GIB, "i");
        rig.ask("jellyfin", 2 * GIB, "j");
        assertEquals(LeaseState.EVICTING, rig.view().lease(ollama.id()).orElseThrow().state());
        Admission frigate = rig.askWaiting("frigate", 2 * GIB, "f", Duration.ofSeconds(10));
        Decision.Queued q = assertInstanceOf(Decision.Queued.class, now(frigate.firstDecision()));
        assertEquals(List.of(rig.view().lease(ollama.id()).orElseThrow()), q.awaitedEvictions());
    }

    /**
     * A head that could not be helped at arrival preempts once it can (here when a lease of its own
     * class is released), and the eviction deadline extends its wait.
     */
    @Test
    void aWaitingHeadPreemptsWhenItBecomesPossibleAndWaitsForTheVictim() {
        Homelab.Rig rig = Homelab.rig();
        Lease first = rig.admit("frigate", 2 * GIB, "f1");
        Lease ollama = rig.admit("ollama", 2 * GIB, "o");
        Admission head = rig.askWaiting("frigate", 3 * GIB, "f2", Duration.ofSeconds(10));
        assertInstanceOf(Decision.Queued.class, now(head.firstDecision()));
        assertTrue(rig.evictions.isEmpty(), "at arrival preempting ollama would not have been enough");
        rig.time.advance(Duration.ofSeconds(5));
        assertTrue(now(rig.controller.release(first.id())));
        assertEquals(List.of(ollama.id()), rig.evictions.stream().map(o -> o.victim().id()).toList());
        rig.time.advance(Duration.ofSeconds(6));
        assertTrue(!head.outcome().isDone(), "waiting past its own 10 s: the eviction deadline (30 s) extends it");
        rig.observe(rig.observation().build());
        assertInstanceOf(Decision.AdmittedAfterPreemption.class, now(head.outcome()));
    }

    @Test
    void aDeniedWaitSaysHowMuchWasMissing() {
        Homelab.Rig rig = Homelab.rig();
        rig.admit("frigate", 3 * GIB, "f");
        Admission late = rig.askWaiting("jellyfin", 1536 * MIB, "j", Duration.ofSeconds(5));
        rig.time.advance(Duration.ofSeconds(5));
        Decision.Denied d = assertInstanceOf(Decision.Denied.class, now(late.outcome()));
        assertEquals(Decision.Reason.DEADLINE_PASSED, d.reason());
        assertEquals(512 * MIB, d.shortfallBytes());

        Homelab.Rig slow = Homelab.rig();
        slow.admit("immich", 3 * GIB, "i");
        Admission f = slow.askWaiting("frigate", 1536 * MIB, "f", Duration.ZERO);
        slow.time.advance(Duration.ofSeconds(20));
        Decision.Denied tooSlow = assertInstanceOf(Decision.Denied.class, now(f.outcome()));
        assertEquals(Decision.Reason.EVICTION_TOO_SLOW, tooSlow.reason());
        assertEquals(512 * MIB, tooSlow.shortfallBytes());
    }

    /** The Timers contract allows early firing: a request is never denied before its deadline. */
    @Test
    void aTimerThatFiresEarlyDoesNotEndAWaitEarly() {
        ManualTime time = new ManualTime(Homelab.START);
        Timers early = (at, action) -> time.schedule(at.minus(Duration.between(time.instant(), at).dividedBy(2)),
                action);
        AdmissionController c = AdmissionController.builder(Homelab.config(4 * GIB, 0), time, early)
                .zone(ZoneOffset.UTC).build();
        now(c.request(AdmissionRequest.of("frigate").withBytes(4 * GIB)).outcome());
        Admission waiting = c.request(AdmissionRequest.of("jellyfin").withBytes(GIB).withWait(Duration.ofSeconds(8)));
        time.advance(Duration.ofMillis(7999));
        assertTrue(!waiting.outcome().isDone());
        time.advance(Duration.ofMillis(1));
        assertEquals(Decision.Reason.DEADLINE_PASSED,
                assertInstanceOf(Decision.Denied.class, now(waiting.outcome())).reason());
    }

    @Test
    void releasingByHolderLetsWaitingRequestsIn() {
        Homelab.Rig rig = Homelab.rig();
        rig.admit("frigate", 3 * GIB, "oci:cam");
        Admission waiting = rig.askWaiting("jellyfin", 2 * GIB, "j", Duration.ofSeconds(30));
        assertEquals(1, (int) now(rig.controller.releaseHolder("oci:cam")));
        assertInstanceOf(Decision.Admitted.class, now(waiting.outcome()));

        Homelab.Rig withdrawn = Homelab.rig();
        withdrawn.admit("frigate", 3 * GIB, "f");
        Admission first = withdrawn.askWaiting("jellyfin", 2 * GIB, "j", Duration.ofSeconds(30));
        Admission second = withdrawn.askWaiting("jellyfin", 512 * MIB, "j2", Duration.ofSeconds(30));
        assertEquals(0, (int) now(withdrawn.controller.releaseHolder("j")));
        assertEquals(Decision.Reason.CANCELLED,
                assertInstanceOf(Decision.Denied.class, now(first.outcome())).reason());
        assertInstanceOf(Decision.Admitted.class, now(second.outcome()), "the head withdrawn, the next fits");
    }

    @Test
    void aFailedOrUnstartableActuatorIsLoggedAndTheLeaseStaysEvicting() {
        ManualTime time = new ManualTime(Homelab.START);
        List<Evictor.Order> orders = new ArrayList<>();
        AdmissionController c = AdmissionController.builder(Homelab.config(4 * GIB, 0), time, time)
                .zone(ZoneOffset.UTC)
                .evictor(order -> {
                    orders.add(order);
                    if (order.victim().holder().orElseThrow().equals("throws")) {
                        throw new IllegalStateException("no such unit");
                    }
                    return order.victim().holder().orElseThrow().equals("fails")
                            ? CompletableFuture.failedFuture(new IllegalStateException("exit 5"))
                            : CompletableFuture.completedFuture(null);
                }).build();
        try (LogCapture log = new LogCapture(VramLedger.class)) {
            now(c.request(AdmissionRequest.of("ollama").withBytes(GIB).withHolder("fails")).outcome());
            now(c.request(AdmissionRequest.of("immich").withBytes(GIB).withHolder("throws")).outcome());
            now(c.request(AdmissionRequest.of("ollama").withBytes(GIB).withHolder("works")).outcome());
            c.request(AdmissionRequest.of("frigate").withBytes(4 * GIB).withHolder("f"));
            assertEquals(3, orders.size());
            assertEquals(List.of(
                    "WARNING the actuator for immich lease 2 (1 GiB) could not start",
                    "WARNING the actuator for ollama lease 1 (1 GiB) failed: java.lang.IllegalStateException: exit 5;"
                            + " the lease stays evicting until its memory shows up free or it is released"),
                    log.lines().stream().sorted().toList());
        }
        assertTrue(c.view().leases().stream().allMatch(l -> l.state() == LeaseState.EVICTING));
    }

    /** A journal that holds {@code leases} and changes nothing. */
    private static Journal holding(List<Lease> leases) {
        return new Journal() {
            @Override
            public RecoveredLedger recovered() {
                return new RecoveredLedger(leases.size() + 1, leases, List.of());
            }

            @Override
            public void append(JournalRecord record) {
            }

            @Override
            public void afterDurable(Durability callback) {
                callback.durable();
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
        };
    }

    /** An evicting lease from the journal stays evicting: counted, waited for, gone only once its memory is. */
    @Test
    void anEvictingLeaseRecoveredFromTheJournalIsWaitedForNotPreemptedAgain() {
        Instant t = Homelab.START;
        Lease evicting = new Lease(new LeaseId(1), "ollama", 2 * GIB, Optional.of("o"), List.of(), t,
                LeaseState.EVICTING, Optional.of(t));
        ManualTime time = new ManualTime(t.plusSeconds(5));
        AdmissionController c = AdmissionController.builder(Homelab.config(4 * GIB, 0), time, time)
                .zone(ZoneOffset.UTC).journal(holding(List.of(evicting))).build();
        LedgerView.ServiceUsage u = c.view().service("ollama").orElseThrow();
        assertEquals(List.of(2 * GIB, 0L, 1L), List.of(u.leasedBytes(), (long) u.activeLeases(),
                (long) u.evictingLeases()));
        Admission f = c.request(AdmissionRequest.of("frigate").withBytes(3 * GIB).withHolder("f"));
        Decision.Queued q = assertInstanceOf(Decision.Queued.class, now(f.firstDecision()));
        assertEquals(List.of(evicting), q.awaitedEvictions(), "its memory is on its way back: waited for");
        now(c.observe(Observation.builder(time.instant(), 4 * GIB).holder("ollama", "o", 2 * GIB).build()));
        assertTrue(c.view().lease(evicting.id()).isPresent(), "still using its memory: still evicting");
        now(c.observe(Observation.builder(time.instant(), 4 * GIB).build()));
        assertTrue(c.view().lease(evicting.id()).isEmpty());
        assertInstanceOf(Decision.Admitted.class, now(f.outcome()));
    }

    @Test
    void aRequestThatBreaksTheLedgerFailsAloneAndTheLedgerCarriesOn() {
        ManualTime time = new ManualTime(Homelab.START);
        boolean[] broken = {true};
        Journal flaky = new Journal() {
            private final Journal none = Journal.none();

            @Override
            public Health health() {
                if (broken[0]) {
                    broken[0] = false;
                    throw new IllegalStateException("a bug");
                }
                return Health.WRITABLE;
            }

            @Override
            public RecoveredLedger recovered() {
                return none.recovered();
            }

            @Override
            public void append(JournalRecord record) {
            }

            @Override
            public void afterDurable(Durability callback) {
                none.afterDurable(callback);
            }

            @Override
            public void commit() {
                none.commit();
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
        };
        AdmissionController c = AdmissionController.builder(Homelab.config(4 * GIB, 0), time, time).journal(flaky)
                .build();
        Admission failed = c.request(AdmissionRequest.of("ollama").withBytes(GIB));
        assertTrue(failed.firstDecision().isCompletedExceptionally());
        assertTrue(failed.outcome().isCompletedExceptionally());
        assertTrue(now(c.request(AdmissionRequest.of("ollama").withBytes(GIB)).outcome()).admitted());
    }

    @Test
    void recoveredLeasesBeyondTheBudgetOrOfAServiceNoLongerConfiguredAreSaid() {
        Instant t = Homelab.START;
        List<Lease> fits = List.of(Lease.active(new LeaseId(1), "ollama", 4 * GIB, Optional.empty(), List.of(), t));
        List<Lease> over = List.of(Lease.active(new LeaseId(1), "ollama", 4 * GIB, Optional.empty(), List.of(), t),
                Lease.active(new LeaseId(2), "gone", 512 * MIB, Optional.of("x"), List.of(), t));
        ManualTime time = new ManualTime(t);
        try (LogCapture log = new LogCapture(VramLedger.class)) {
            AdmissionController.builder(Homelab.config(4 * GIB, 0), time, time).journal(holding(fits)).build();
            assertEquals(List.of(), log.lines(), "exactly the budget is not beyond it");
            AdmissionController c = AdmissionController.builder(Homelab.config(4 * GIB, 0), time, time)
                    .journal(holding(over)).build();
            assertEquals(List.of(
                    "WARNING a recovered lease belongs to service 'gone', which is no longer configured; it stays"
                            + " counted until released or reclaimed",
                    "WARNING the recovered leases hold 4.5 GiB, more than the 4 GiB budget; nothing is admitted until"
                            + " enough is released"), log.lines());
            assertEquals(4608 * MIB, c.view().leasedBytes());
        }
    }
}
