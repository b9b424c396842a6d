package org.gpuagent.agent.actuate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeoutException;
import org.gpuagent.scheduler.Evictor;
import org.gpuagent.scheduler.Lease;
import org.gpuagent.scheduler.LeaseId;
import org.gpuagent.scheduler.PriorityClass;
import org.gpuagent.scheduler.Service;
import org.junit.jupiter.api.Test;

class CommandActuatorTest {
    private static Evictor.Order order() {
        Lease l = Lease.active(new LeaseId(1), "immich", 1, Optional.empty(), List.of(), Instant.EPOCH);
        return new Evictor.Order(l, Service.of("immich", PriorityClass.BATCH, 1, true), "frigate", 1, Instant.EPOCH,
                "test");
    }

    @Test
    void theContractsCommands() {
        assertEquals(List.of("systemctl", "restart", "--no-block", "immich-machine-learning.service"),
                CommandActuator.restartUnit("immich-machine-learning.service").command());
        assertEquals(List.of("systemctl", "stop", "ollama.service"), CommandActuator.stopUnit("ollama.service").command());
        assertEquals(List.of("podman", "stop", "ollama"), CommandActuator.stopContainer("ollama").command());
    }

    @Test
    void exitStatusZeroSucceeds() throws Exception {
        assertEquals("true succeeded", new CommandActuator("t", List.of("true")).act(order(), Duration.ofSeconds(10)));
    }

    @Test
    void aFailureCarriesTheStatusAndTheLastLine() {
        IOException e = assertThrows(IOException.class, () -> new CommandActuator("t",
                List.of("sh", "-c", "echo first; echo 'Unit x.service not loaded.' >&2; exit 5"))
                .act(order(), Duration.ofSeconds(10)));
        assertTrue(e.getMessage().contains("exited with status 5: Unit x.service not loaded."), e.getMessage());
    }

    @Test
    void aHungCommandIsKilledAtTheTimeout() {
        TimeoutException e = assertThrows(TimeoutException.class, () -> new CommandActuator("t",
                List.of("sleep", "30")).act(order(), Duration.ofMillis(300)));
        assertTrue(e.getMessage().contains("killed it"), e.getMessage());
    }

    @Test
    void aMissingProgramIsAnError() {
        IOException e = assertThrows(IOException.class, () -> new CommandActuator("t",
                List.of("/nonexistent/podman", "stop", "x")).act(order(), Duration.ofSeconds(5)));
        assertTrue(e.getMessage().startsWith("cannot run /nonexistent/podman"), e.getMessage());
    }
}
