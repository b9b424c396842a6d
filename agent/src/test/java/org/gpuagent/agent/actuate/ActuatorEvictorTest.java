package org.gpuagent.agent.actuate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.gpuagent.scheduler.Evictor;
import org.gpuagent.scheduler.Lease;
import org.gpuagent.scheduler.LeaseId;
import org.gpuagent.scheduler.LeaseState;
import org.gpuagent.scheduler.LedgerEvent;
import org.gpuagent.scheduler.PriorityClass;
import org.gpuagent.scheduler.Service;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ActuatorEvictorTest {
    private static final Instant NOW = Instant.parse("2026-01-01T12:00:00Z");
    private static final Service OLLAMA = Service.of("ollama", PriorityClass.OPPORTUNISTIC, 1, true);

    private final ExecutorService executor = Executors.newSingleThreadExecutor();
    private final List<String> acted = Collections.synchronizedList(new ArrayList<>());

    @AfterEach
    void stop() throws InterruptedException {
        executor.shutdown();
        assertTrue(executor.awaitTermination(10, TimeUnit.SECONDS));
    }

    /** A fake actuator that records which lease it acted on. */
    private Actuator fake(String name) {
        return new Actuator() {
            @Override
            public String describe() {
                return name;
            }

            @Override
            public String act(Evictor.Order order, Duration timeout) {
                acted.add(name + " on lease " + order.victim().id());
                return "done";
            }
        };
    }

    private static Evictor.Order order(long lease, String holder) {
        Lease l = new Lease(new LeaseId(lease), "ollama", 1, Optional.of(holder), List.of(), NOW,
                LeaseState.EVICTING, Optional.of(NOW));
        return new Evictor.Order(l, OLLAMA, "frigate", 1, NOW.plusSeconds(30), "test");
    }

    @Test
    void aLeasesOwnActionRunsBeforeTheServicesActions() throws Exception {
        LeaseActions byLease = new LeaseActions();
        byLease.register(new LeaseId(7), fake("unload qwen"));
        ActuatorEvictor evictor = new ActuatorEvictor(Map.of("ollama", List.of(fake("unload all"))), byLease, executor,
                InstantSource.fixed(NOW), order -> Duration.ofMillis(20), order -> { });

        evictor.evict(order(7, "ollama-model:qwen")).toCompletableFuture().get(10, TimeUnit.SECONDS);
        evictor.evict(order(8, "ollama-model:llama")).toCompletableFuture().get(10, TimeUnit.SECONDS);

        // Lease 7's memory never comes back here, so its service's action follows as escalation.
        assertEquals(List.of("unload qwen on lease 7", "unload all on lease 7", "unload all on lease 8"), acted);
    }

    /**
     * A victim that ignores its first action: the next one runs once the step wait passes without
     * its memory back, and when that one frees it, nothing more runs and nothing is reported.
     */
    @Test
    void aVictimThatIgnoresItsFirstActionIsEscalatedToTheNext() throws Exception {
        List<Evictor.Order> unresponsive = Collections.synchronizedList(new ArrayList<>());
        ActuatorEvictor[] self = new ActuatorEvictor[1];
        Actuator stop = new Actuator() {
            @Override
            public String describe() {
                return "stop-unit";
            }

            @Override
            public String act(Evictor.Order order, Duration timeout) {
                acted.add("stop-unit on lease " + order.victim().id());
                // The memory is seen free: the ledger releases the lease.
                self[0].onEvent(new LedgerEvent.Evicted(NOW, order.victim(), "evicted"));
                return "stopped";
            }
        };
        ActuatorEvictor evictor = new ActuatorEvictor(Map.of("ollama", List.of(fake("ollama-unload"), stop,
                fake("never reached"))), new LeaseActions(), executor, InstantSource.fixed(NOW),
                order -> Duration.ofMillis(50), unresponsive::add);
        self[0] = evictor;

        evictor.evict(order(7, "systemd:ollama.service")).toCompletableFuture().get(10, TimeUnit.SECONDS);

        assertEquals(List.of("ollama-unload on lease 7", "stop-unit on lease 7"), acted);
        assertEquals(List.of(), unresponsive);
    }

    /** A victim whose memory never comes back runs every action, then is reported, once. */
    @Test
    void aVictimThatNeverFreesIsReportedAfterTheLastAction() throws Exception {
        List<Evictor.Order> unresponsive = Collections.synchronizedList(new ArrayList<>());
        LeaseActions byLease = new LeaseActions();
        byLease.register(new LeaseId(7), fake("unload qwen"));
        ActuatorEvictor evictor = new ActuatorEvictor(Map.of("ollama", List.of(fake("ollama-unload"),
                fake("stop-unit"))), byLease, executor, InstantSource.fixed(NOW), order -> Duration.ofMillis(20),
                unresponsive::add);

        evictor.evict(order(7, "ollama-model:qwen")).toCompletableFuture().get(10, TimeUnit.SECONDS);

        assertEquals(List.of("unload qwen on lease 7", "ollama-unload on lease 7", "stop-unit on lease 7"), acted,
                "the lease's own action first, then the service's in order");
        assertEquals(1, unresponsive.size());
        assertEquals(new LeaseId(7), unresponsive.get(0).victim().id());
    }

    /** Memory back after the first action: no escalation, no report. */
    @Test
    void aVictimThatFreesAfterTheFirstActionIsNotEscalated() throws Exception {
        List<Evictor.Order> unresponsive = Collections.synchronizedList(new ArrayList<>());
        ActuatorEvictor evictor = new ActuatorEvictor(Map.of("ollama", List.of(fake("ollama-unload"),
                fake("stop-unit"))), new LeaseActions(), executor, InstantSource.fixed(NOW),
                order -> Duration.ofSeconds(30), unresponsive::add);
        Evictor.Order o = order(7, "systemd:ollama.service");
        var stage = evictor.evict(o).toCompletableFuture();
        evictor.onEvent(new LedgerEvent.Evicted(NOW, o.victim(), "evicted"));

        stage.get(10, TimeUnit.SECONDS);

        assertEquals(List.of("ollama-unload on lease 7"), acted);
        assertEquals(List.of(), unresponsive);
    }

    /**
     * Wired to a real ledger: Ollama ignores its unload; the stop that follows makes its memory
     * free, the ledger (fed the observation) releases the victim, the evictor hears it and stops
     * escalating, and the request that preempted is admitted. Nothing is reported.
     */
    @Test
    void escalationAgainstTheLedger() throws Exception {
        long gib = 1L << 30;
        Service frigate = Service.of("frigate", PriorityClass.CRITICAL, gib, false);
        org.gpuagent.scheduler.testing.ManualTime time = new org.gpuagent.scheduler.testing.ManualTime(NOW);
        List<Evictor.Order> unresponsive = Collections.synchronizedList(new ArrayList<>());
        java.util.concurrent.atomic.AtomicReference<org.gpuagent.scheduler.AdmissionController> ledger =
                new java.util.concurrent.atomic.AtomicReference<>();
        Actuator stop = new Actuator() {
            @Override
            public String describe() {
                return "stop-unit";
            }

            @Override
            public String act(Evictor.Order order, Duration timeout) {
                acted.add("stop-unit on lease " + order.victim().id());
                ledger.get().observe(org.gpuagent.scheduler.Observation.builder(time.instant(), 4 * gib)
                        .holder("ollama", "systemd:ollama.service", 0).build()).join();
                return "stopped";
            }
        };
        ActuatorEvictor evictor = new ActuatorEvictor(Map.of("ollama", List.of(fake("ollama-unload"), stop)),
                new LeaseActions(), executor, time, order -> Duration.ofMillis(50), unresponsive::add);
        ledger.set(org.gpuagent.scheduler.AdmissionController.builder(new org.gpuagent.scheduler.SchedulerConfig(
                4 * gib, org.gpuagent.scheduler.Headroom.fixed(0), List.of(frigate, OLLAMA)), time, time)
                .evictor(evictor).listener(evictor).build());
        ledger.get().request(org.gpuagent.scheduler.AdmissionRequest.of("ollama").withBytes(3 * gib)
                .withHolder("systemd:ollama.service")).outcome().join();

        org.gpuagent.scheduler.Decision.Final d = ledger.get().request(org.gpuagent.scheduler.AdmissionRequest
                .of("frigate").withBytes(2 * gib).withWait(Duration.ofMinutes(1))).outcome().get(10, TimeUnit.SECONDS);

        assertTrue(d instanceof org.gpuagent.scheduler.Decision.AdmittedAfterPreemption, d.sentence());
        assertEquals(List.of("ollama-unload on lease 1", "stop-unit on lease 1"), acted);
        assertEquals(List.of(), unresponsive);
    }

    @Test
    void aRegistrationIsForgottenOnceTheLeaseIsNoLongerCounted() {
        LeaseActions byLease = new LeaseActions();
        byLease.register(new LeaseId(7), fake("unload qwen"));
        byLease.register(new LeaseId(8), fake("unload llama"));
        Lease seven = order(7, "ollama-model:qwen").victim();

        byLease.onEvent(new LedgerEvent.Evicted(NOW, seven, "evicted"));

        assertTrue(byLease.forLease(new LeaseId(7)).isEmpty());
        assertTrue(byLease.forLease(new LeaseId(8)).isPresent());
        byLease.unregister(new LeaseId(8));
        byLease.unregister(new LeaseId(8));
        assertEquals(0, byLease.size());
    }
}
