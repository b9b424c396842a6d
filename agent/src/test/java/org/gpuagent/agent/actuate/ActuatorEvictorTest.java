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
    void aLeasesOwnActionRunsInsteadOfTheServicesActuator() throws Exception {
        LeaseActions byLease = new LeaseActions();
        byLease.register(new LeaseId(7), fake("unload qwen"));
        ActuatorEvictor evictor = new ActuatorEvictor(Map.of("ollama", fake("unload all")), byLease, executor,
                InstantSource.fixed(NOW));

        evictor.evict(order(7, "ollama-model:qwen")).toCompletableFuture().get(10, TimeUnit.SECONDS);
        evictor.evict(order(8, "ollama-model:llama")).toCompletableFuture().get(10, TimeUnit.SECONDS);

        assertEquals(List.of("unload qwen on lease 7", "unload all on lease 8"), acted);
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
