package org.gpuagent.agent.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.gpuagent.agent.attribution.AttributionChain;
import org.gpuagent.agent.attribution.CgroupAttributor;
import org.gpuagent.agent.attribution.HolderLiveness;
import org.gpuagent.agent.attribution.LeasePidAttributor;
import org.gpuagent.agent.attribution.ProcessAttributor;
import org.gpuagent.nvml.sampler.GpuSnapshot;
import org.gpuagent.nvml.sampler.Sampler;
import org.gpuagent.nvml.sampler.SamplerConfig;
import org.gpuagent.nvml.sim.GpuProfile;
import org.gpuagent.nvml.sim.SimulatedGpuHost;
import org.gpuagent.scheduler.AdmissionController;
import org.gpuagent.scheduler.AdmissionRequest;
import org.gpuagent.scheduler.Decision;
import org.gpuagent.scheduler.Headroom;
import org.gpuagent.scheduler.LedgerView;
import org.gpuagent.scheduler.Observation;
import org.gpuagent.scheduler.PriorityClass;
import org.gpuagent.scheduler.SchedulerConfig;
import org.gpuagent.scheduler.Service;
import org.gpuagent.scheduler.Timers;
import org.gpuagent.scheduler.testing.ManualTime;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Snapshot → observation: attribution by holder and service, the unattributed rest, liveness. */
class LedgerObserverTest {
    static final long MIB = 1024L * 1024;
    static final long CONTEXT = 164 * MIB;

    ManualTime time;
    SimulatedGpuHost host;
    Sampler sampler;
    AdmissionController ledger;

    @BeforeEach
    void setUp() {
        time = new ManualTime();
        host = SimulatedGpuHost.create(1, time, GpuProfile.QUADRO_P1000);
        sampler = new Sampler(host, SamplerConfig.DEFAULTS.withSlowEveryTicks(2), time, time.ticker());
        Timers never = (at, action) -> () -> { };
        ledger = AdmissionController.builder(new SchedulerConfig(4096 * MIB, Headroom.auto(), List.of(
                Service.of("ollama", PriorityClass.OPPORTUNISTIC, 1024 * MIB, true),
                Service.of("frigate", PriorityClass.CRITICAL, 1024 * MIB, false))), time, never).build();
    }

    @AfterEach
    void tearDown() throws Exception {
        sampler.close();
        ledger.close();
    }

    private long admit(AdmissionRequest r) {
        Decision.Final d = ledger.request(r).outcome().join();
        assertTrue(d.admitted(), d.sentence());
        return ((Decision.Admitted) d).lease().id().value();
    }

    /** The Ollama proxy's split: each model lease is given what /api/ps shows for it, the rest stays. */
    @Test
    void aSplitGivesModelLeasesTheirShareOfTheServicesUse() {
        host.device(0).startProcess(100, "ollama").allocate(1500 * MIB);
        ProcessAttributor attributor = pid -> pid == 100
                ? Optional.of(new ProcessAttributor.Attribution("ollama", Optional.of("systemd:ollama.service")))
                : Optional.empty();
        LedgerObserver o = new LedgerObserver(ledger, new DeviceChoice("0"), attributor, HolderLiveness.processes(),
                x -> { }).withSplit((service, use) -> service.equals("ollama")
                        ? org.gpuagent.agent.ollama.ModelUse.split(use, Map.of("ollama-model:a:1b", 1200 * MIB)) : use);
        Observation obs = o.observe(sampler.collectOnce(), ledger.view()).orElseThrow();
        assertEquals(Map.of("systemd:ollama.service", CONTEXT + 300 * MIB, "ollama-model:a:1b", 1200 * MIB),
                obs.bytesByHolder());
        assertEquals(Map.of("ollama", CONTEXT + 1500 * MIB), obs.bytesByService());
    }

    @Test
    void attributesByHolderAndServiceAndCountsTheRestUnattributed() {
        host.device(0).startProcess(100, "ollama").allocate(900 * MIB);
        host.device(0).startProcess(200, "frigate").allocate(300 * MIB);
        host.device(0).startProcess(300, "Xorg");
        ProcessAttributor attributor = pid -> switch (pid) {
            case 100 -> Optional.of(new ProcessAttributor.Attribution("ollama", Optional.of("systemd:ollama.service")));
            case 200 -> Optional.of(new ProcessAttributor.Attribution("frigate", Optional.empty()));
            default -> Optional.empty();
        };
        LedgerObserver o = new LedgerObserver(ledger, new DeviceChoice("0"), attributor, HolderLiveness.processes(),
                x -> { });
        GpuSnapshot s = sampler.collectOnce();
        Observation obs = o.observe(s, ledger.view()).orElseThrow();
        assertEquals(4096 * MIB, obs.deviceTotalBytes());
        assertEquals(3 * CONTEXT + 1200 * MIB, obs.deviceUsedBytes());
        assertEquals(Map.of("systemd:ollama.service", CONTEXT + 900 * MIB), obs.bytesByHolder());
        assertEquals(Map.of("ollama", CONTEXT + 900 * MIB, "frigate", CONTEXT + 300 * MIB), obs.bytesByService());
        assertEquals(CONTEXT, obs.unattributedBytes());
        assertEquals(s.collectedAt(), obs.takenAt());

        // the next tick carries the process lists forward: not observed
        time.advance(Duration.ofSeconds(1));
        assertFalse(o.observe(sampler.collectOnce(), ledger.view()).isPresent());
        time.advance(Duration.ofSeconds(1));
        assertTrue(o.observe(sampler.collectOnce(), ledger.view()).isPresent());
        // a GPU that is not there, or a selection by UUID
        assertFalse(new LedgerObserver(ledger, new DeviceChoice("3"), attributor, HolderLiveness.processes(), x -> { })
                .observe(s, ledger.view()).isPresent());
        assertTrue(new LedgerObserver(ledger, new DeviceChoice(GpuProfile.QUADRO_P1000.identity().uuid()), attributor,
                HolderLiveness.processes(), x -> { }).observe(s, ledger.view()).isPresent());
    }

    /**
     * Frigate as a NixOS oci-container admitted by its unit (holder systemd:podman-frigate.service):
     * its processes sit in machine.slice/libpod-ID.scope, and only conmon in the unit. Its memory
     * counts for the unit's lease, not a second time as unattributed use.
     */
    @Test
    void aContainerAdmittedByItsUnitIsCountedOnce(@org.junit.jupiter.api.io.TempDir java.nio.file.Path proc)
            throws Exception {
        String id = "a".repeat(64);
        String scope = "0::/machine.slice/libpod-" + id + ".scope/container\n";
        writeProc(proc, 70, scope, 69);
        writeProc(proc, 69, "0::/system.slice/podman-frigate.service\n", 1);
        admit(AdmissionRequest.of("frigate").withHolder("systemd:podman-frigate.service"));
        host.device(0).startProcess(70, "frigate").allocate(900 * MIB);
        CgroupAttributor cgroups = new CgroupAttributor(proc, ledger::view, List.of());
        LedgerObserver o = new LedgerObserver(ledger, new DeviceChoice("0"),
                new AttributionChain(new LeasePidAttributor(ledger::view), Optional.of(cgroups), List.of()),
                HolderLiveness.processes(), x -> { });
        Observation obs = o.observe(sampler.collectOnce(), ledger.view()).orElseThrow();
        assertEquals(Map.of("systemd:podman-frigate.service", CONTEXT + 900 * MIB), obs.bytesByHolder());
        assertEquals(0, obs.unattributedBytes(), "counted once, as the unit's lease");
    }

    private static void writeProc(java.nio.file.Path proc, int pid, String cgroup, int ppid) throws java.io.IOException {
        java.nio.file.Path dir = java.nio.file.Files.createDirectories(proc.resolve(Integer.toString(pid)));
        java.nio.file.Files.writeString(dir.resolve("cgroup"), cgroup);
        java.nio.file.Files.writeString(dir.resolve("stat"), pid + " (conmon) S " + ppid + " 1 1 0 -1\n");
    }

    @Test
    void livenessKeepsWhatCannotBeCheckedAndDropsDeadPids() {
        long self = ProcessHandle.current().pid();
        long dead = 4_000_000_000L;
        admit(AdmissionRequest.of("ollama").withHolder("systemd:ollama.service").withBytes(10 * MIB));
        admit(AdmissionRequest.of("ollama").withHolder("oci:alive").withPids(List.of(self)).withBytes(10 * MIB));
        admit(AdmissionRequest.of("ollama").withHolder("oci:gone").withPids(List.of(dead)).withBytes(10 * MIB));
        admit(AdmissionRequest.of("frigate").withHolder("pid:" + self).withBytes(10 * MIB));
        admit(AdmissionRequest.of("frigate").withHolder("pid:" + dead).withBytes(10 * MIB));
        LedgerView view = ledger.view();
        LedgerObserver o = new LedgerObserver(ledger, new DeviceChoice("0"), pid -> Optional.empty(),
                HolderLiveness.processes(), x -> { });
        Observation obs = o.observe(sampler.collectOnce(), view).orElseThrow();
        Observation.Liveness l = obs.liveness().orElseThrow();
        assertEquals(Set.of("systemd:ollama.service", "pid:" + self), l.holders());
        assertEquals(Set.of(self), l.pids());
    }

    @Test
    void staleOrUnavailableSnapshotsAreNotObserved() {
        LedgerObserver o = new LedgerObserver(ledger, new DeviceChoice("0"), pid -> Optional.empty(),
                HolderLiveness.processes(), x -> { });
        assertFalse(o.observe(sampler.latest(), ledger.view()).isPresent(), "nothing collected yet");
        host.loseGpus();
        GpuSnapshot lost = sampler.collectOnce();
        assertTrue(lost.status() != GpuSnapshot.Status.OK, lost.status().toString());
        assertFalse(o.observe(lost, ledger.view()).isPresent());
    }
}
