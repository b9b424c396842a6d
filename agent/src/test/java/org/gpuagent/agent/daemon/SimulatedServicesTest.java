package org.gpuagent.agent.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.gpuagent.agent.attribution.ProcessAttributor;
import org.gpuagent.nvml.sim.GpuProfile;
import org.gpuagent.nvml.sim.SimulatedDevice;
import org.gpuagent.nvml.sim.SimulatedGpuHost;
import org.gpuagent.scheduler.Lease;
import org.gpuagent.scheduler.LeaseId;
import org.gpuagent.scheduler.LedgerEvent;
import org.gpuagent.scheduler.PriorityClass;
import org.gpuagent.scheduler.Timers;
import org.gpuagent.scheduler.testing.ManualTime;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The simulated services on the test's thread: changes run at once (a direct executor), and the
 * start and exit delays are held until the test lets them pass.
 */
class SimulatedServicesTest {
    static final long MIB = 1024L * 1024;
    final ManualTime time = new ManualTime();
    final SimulatedDevice device = SimulatedGpuHost.create(1, time, GpuProfile.QUADRO_P1000).device(0);
    /** What waits for its delay, in the order scheduled. */
    final List<Runnable> delayed = new ArrayList<>();
    final Timers timers = (at, action) -> {
        delayed.add(action);
        return () -> delayed.remove(action);
    };
    final SimulatedServices sim = new SimulatedServices(device, Runnable::run, timers, time, Duration.ZERO,
            Map.of("ollama", PriorityClass.OPPORTUNISTIC));

    private static Lease lease(long id, long bytes) {
        return Lease.active(new LeaseId(id), "ollama", bytes, Optional.of("systemd:ollama.service"), List.of(),
                Instant.EPOCH);
    }

    /** Every delay scheduled so far passes. */
    private void delaysPass() {
        List<Runnable> due = List.copyOf(delayed);
        delayed.clear();
        due.forEach(Runnable::run);
    }

    @Test
    void aGrantStartsAProcessUsingTheLeaseAndAReleaseEndsIt() {
        Lease l = lease(1, 2560 * MIB);
        sim.onEvent(new LedgerEvent.Admitted(Instant.EPOCH, 1, l, List.of(), Duration.ZERO, "admitted"));
        assertTrue(device.processes().isEmpty(), "the process starts after the start delay");
        delaysPass();
        assertEquals(1, device.processes().size());
        int pid = device.processes().get(0).pid();
        assertTrue(pid >= SimulatedServices.FIRST_PID);
        assertEquals(2560 * MIB, device.processes().get(0).usedBytes());
        assertEquals(Optional.of(new ProcessAttributor.Attribution("ollama", Optional.of("systemd:ollama.service"))),
                sim.attribute(pid));
        sim.onEvent(new LedgerEvent.Released(Instant.EPOCH, l, "released"));
        assertTrue(device.processes().isEmpty());
        assertEquals(Optional.empty(), sim.attribute(pid));
    }

    @Test
    void aLeaseNamingAPidAllocatesAsThatPid() {
        // what gpu-agent exec does: the program's own pid is on the lease, and the simulated GPU
        // shows that pid using the memory, as NVML would show the real program
        Lease l = Lease.active(new LeaseId(7), "ollama", 700 * MIB, Optional.of("exec:4242"), List.of(4242L, 4243L),
                Instant.EPOCH);
        sim.onEvent(new LedgerEvent.Admitted(Instant.EPOCH, 7, l, List.of(), Duration.ZERO, "admitted"));
        delaysPass();
        assertEquals(1, device.processes().size());
        assertEquals(4242, device.processes().get(0).pid());
        assertEquals(700 * MIB, device.processes().get(0).usedBytes());
        sim.onEvent(new LedgerEvent.Reclaimed(Instant.EPOCH, l, Instant.EPOCH, "reclaimed"));
        assertTrue(device.processes().isEmpty());
    }

    @Test
    void aLeaseReleasedBeforeItsProcessStartsNeverStartsOne() {
        SimulatedServices slow = new SimulatedServices(device, Runnable::run, timers, time, Duration.ofMillis(200),
                Map.of());
        Lease l = lease(2, 500 * MIB);
        slow.onEvent(new LedgerEvent.Admitted(Instant.EPOCH, 1, l, List.of(), Duration.ZERO, "admitted"));
        slow.onEvent(new LedgerEvent.Released(Instant.EPOCH, l, "released"));
        delaysPass();
        assertTrue(device.processes().isEmpty());
    }

    @Test
    void aPreemptedLeasesProcessExitsAfterTheDelayAndRecoveredLeasesGetProcesses() {
        Lease a = lease(3, 1024 * MIB);
        Lease b = lease(4, 512 * MIB);
        sim.adopt(List.of(a, b));
        assertEquals(2, device.processes().size());
        sim.exitLater(a, Duration.ofMillis(50));
        assertEquals(2, device.processes().size(), "it exits after the delay");
        delaysPass();
        assertEquals(1, device.processes().size());
        assertEquals(512 * MIB, device.processes().get(0).usedBytes());
    }
}
