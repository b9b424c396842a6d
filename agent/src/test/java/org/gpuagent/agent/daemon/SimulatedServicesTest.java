package org.gpuagent.agent.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.gpuagent.nvml.sim.GpuProfile;
import org.gpuagent.nvml.sim.SimulatedDevice;
import org.gpuagent.nvml.sim.SimulatedGpuHost;
import org.gpuagent.scheduler.Lease;
import org.gpuagent.scheduler.LeaseId;
import org.gpuagent.scheduler.LedgerEvent;
import org.gpuagent.scheduler.PriorityClass;
import org.gpuagent.scheduler.testing.ManualTime;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class SimulatedServicesTest {
    static final long MIB = 1024L * 1024;
    final ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1);
    final SimulatedDevice device = SimulatedGpuHost.create(1, new ManualTime(), GpuProfile.QUADRO_P1000).device(0);
    final SimulatedServices sim = new SimulatedServices(device, executor, Duration.ZERO,
            Map.of("ollama", PriorityClass.OPPORTUNISTIC));

    @AfterEach
    void stop() {
        executor.shutdownNow();
    }

    private static Lease lease(long id, long bytes) {
        return Lease.active(new LeaseId(id), "ollama", bytes, Optional.of("systemd:ollama.service"), List.of(),
                Instant.EPOCH);
    }

    private void drain() throws Exception {
        executor.submit(() -> { }).get(10, TimeUnit.SECONDS);
    }

    @Test
    void aGrantStartsAProcessUsingTheLeaseAndAReleaseEndsIt() throws Exception {
        Lease l = lease(1, 2560 * MIB);
        sim.onEvent(new LedgerEvent.Admitted(Instant.EPOCH, 1, l, List.of(), Duration.ZERO, "admitted"));
        drain();
        assertEquals(1, device.processes().size());
        int pid = device.processes().get(0).pid();
        assertTrue(pid >= SimulatedServices.FIRST_PID);
        assertEquals(2560 * MIB, device.processes().get(0).usedBytes());
        assertEquals(Optional.of(new ProcessAttributor.Attribution("ollama", Optional.of("systemd:ollama.service"))),
                sim.attribute(pid));
        sim.onEvent(new LedgerEvent.Released(Instant.EPOCH, l, "released"));
        drain();
        assertTrue(device.processes().isEmpty());
        assertEquals(Optional.empty(), sim.attribute(pid));
    }

    @Test
    void aLeaseReleasedBeforeItsProcessStartsNeverStartsOne() throws Exception {
        SimulatedServices slow = new SimulatedServices(device, executor, Duration.ofMillis(200), Map.of());
        Lease l = lease(2, 500 * MIB);
        slow.onEvent(new LedgerEvent.Admitted(Instant.EPOCH, 1, l, List.of(), Duration.ZERO, "admitted"));
        slow.onEvent(new LedgerEvent.Released(Instant.EPOCH, l, "released"));
        Thread.sleep(400);
        drain();
        assertTrue(device.processes().isEmpty());
    }

    @Test
    void aPreemptedLeasesProcessExitsAfterTheDelayAndRecoveredLeasesGetProcesses() throws Exception {
        Lease a = lease(3, 1024 * MIB);
        Lease b = lease(4, 512 * MIB);
        sim.adopt(List.of(a, b));
        drain();
        assertEquals(2, device.processes().size());
        sim.exitLater(a, Duration.ofMillis(50));
        Thread.sleep(200);
        drain();
        assertEquals(1, device.processes().size());
        assertEquals(512 * MIB, device.processes().get(0).usedBytes());
    }
}
