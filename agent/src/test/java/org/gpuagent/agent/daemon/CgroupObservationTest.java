package org.gpuagent.agent.daemon;

import static org.gpuagent.agent.attribution.CgroupMembershipTest.ID;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.gpuagent.agent.attribution.AttributionChain;
import org.gpuagent.agent.attribution.CgroupAttributor;
import org.gpuagent.agent.attribution.CgroupLiveness;
import org.gpuagent.agent.attribution.CgroupLivenessTest;
import org.gpuagent.agent.attribution.HolderLiveness;
import org.gpuagent.agent.attribution.LeasePidAttributor;
import org.gpuagent.agent.config.ServiceConfig;
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
import org.junit.jupiter.api.io.TempDir;

/**
 * The ledger's view of units and containers on a (simulated) GPU whose processes sit in a fake
 * /proc and cgroupfs: what an ExecStartPre admission uses is counted once, and a lease whose unit
 * or container is gone is reclaimed after the grace, in virtual time.
 */
class CgroupObservationTest {
    static final long MIB = 1024L * 1024;
    static final long CONTEXT = 164 * MIB;
    static final Duration GRACE = Duration.ofSeconds(30);

    @TempDir
    Path proc;
    @TempDir
    Path cgroupfs;

    ManualTime time;
    SimulatedGpuHost host;
    Sampler sampler;
    AdmissionController ledger;

    @BeforeEach
    void setUp() throws IOException {
        time = new ManualTime();
        host = SimulatedGpuHost.create(1, time, GpuProfile.QUADRO_P1000);
        sampler = new Sampler(host, SamplerConfig.DEFAULTS.withSlowEveryTicks(2), time, time.ticker());
        Timers never = (at, action) -> () -> { };
        ledger = AdmissionController.builder(new SchedulerConfig(4096 * MIB, Headroom.auto(), List.of(
                Service.of("ollama", PriorityClass.OPPORTUNISTIC, 1024 * MIB, true).withReconciliationGrace(GRACE),
                Service.of("frigate", PriorityClass.CRITICAL, 1024 * MIB, false).withReconciliationGrace(GRACE))),
                time, never).build();
        Files.writeString(cgroupfs.resolve("cgroup.controllers"), "cpu io memory pids\n");
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

    private void inCgroup(int pid, String path) throws IOException {
        Files.writeString(Files.createDirectories(proc.resolve(Integer.toString(pid))).resolve("cgroup"),
                "0::/" + path + "\n");
    }

    private Path cgroup(String path, boolean populated) throws IOException {
        Path dir = Files.createDirectories(cgroupfs.resolve(path));
        Files.writeString(dir.resolve("cgroup.events"), "populated " + (populated ? 1 : 0) + "\nfrozen 0\n");
        return dir;
    }

    private AttributionChain chain(List<ServiceConfig> rules) {
        return new AttributionChain(new LeasePidAttributor(ledger::view),
                Optional.of(new CgroupAttributor(proc, ledger::view, rules)), List.of());
    }

    /**
     * Collects (a second later each time) until a snapshot carries fresh process lists, then
     * observes and applies it.
     */
    private Observation observe(LedgerObserver o) {
        for (int i = 0; i < 4; i++) {
            time.advance(Duration.ofSeconds(1));
            GpuSnapshot s = sampler.collectOnce();
            Optional<Observation> obs = o.observe(s, ledger.view());
            if (obs.isPresent()) {
                ledger.observe(obs.get()).join();
                return obs.get();
            }
        }
        throw new AssertionError("no snapshot with fresh process lists");
    }

    @Test
    void anExecStartPreLeaseIsCountedOnceNotAlsoAsUnattributed() throws IOException {
        admit(AdmissionRequest.of("ollama").withHolder("systemd:ollama.service"));
        host.device(0).startProcess(100, "ollama").allocate(900 * MIB);
        inCgroup(100, "system.slice/ollama.service");
        host.device(0).startProcess(101, "Xorg");
        inCgroup(101, "system.slice/display-manager.service");
        LedgerObserver o = new LedgerObserver(ledger, new DeviceChoice("0"), chain(List.of()),
                HolderLiveness.processes(), x -> { });

        Observation obs = observe(o);
        assertEquals(Map.of("systemd:ollama.service", CONTEXT + 900 * MIB), obs.bytesByHolder());
        assertEquals(Map.of("ollama", CONTEXT + 900 * MIB), obs.bytesByService());
        assertEquals(CONTEXT, obs.unattributedBytes(), "only the display server's context");
        LedgerView v = ledger.view();
        // max(1024 MiB leased, 1064 MiB observed) + Xorg's context
        assertEquals(CONTEXT + 900 * MIB + CONTEXT, v.committedBytes());
        assertEquals(CONTEXT + 900 * MIB, v.service("ollama").orElseThrow().observedBytes());

        host.device(0).process(101).orElseThrow().exit();
        obs = observe(o);
        assertEquals(0, obs.unattributedBytes(), "nothing counted twice");
        assertEquals(CONTEXT + 900 * MIB, ledger.view().committedBytes());

        // the same GPU without cgroup attribution: the lease's memory counted a second time
        LedgerObserver pidsOnly = new LedgerObserver(ledger, new DeviceChoice("0"),
                new LeasePidAttributor(ledger::view), HolderLiveness.processes(), x -> { });
        obs = observe(pidsOnly);
        assertEquals(CONTEXT + 900 * MIB, obs.unattributedBytes());
        assertEquals(1024 * MIB + CONTEXT + 900 * MIB, ledger.view().committedBytes());
    }

    @Test
    void aContainersChildProcessesCountForItsOciLease() throws IOException {
        admit(AdmissionRequest.of("frigate").withHolder("oci:" + ID).withPids(List.of(4_000_000_001L)));
        host.device(0).startProcess(200, "frigate.detector").allocate(500 * MIB);
        host.device(0).startProcess(201, "ffmpeg").allocate(100 * MIB);
        inCgroup(200, "machine.slice/libpod-" + ID + ".scope/container");
        inCgroup(201, "machine.slice/libpod-" + ID + ".scope/container");
        LedgerObserver o = new LedgerObserver(ledger, new DeviceChoice("0"), chain(List.of()),
                HolderLiveness.processes(), x -> { });
        Observation obs = observe(o);
        assertEquals(Map.of("oci:" + ID, 2 * CONTEXT + 600 * MIB), obs.bytesByHolder());
        assertEquals(0, obs.unattributedBytes());
    }

    @Test
    void aLeaseWhoseUnitIsGoneIsReclaimedAfterTheGrace() throws IOException {
        Path unit = cgroup("system.slice/ollama.service", true);
        cgroup("machine.slice/libpod-" + ID + ".scope", true);
        long ollama = admit(AdmissionRequest.of("ollama").withHolder("systemd:ollama.service").withBytes(512 * MIB));
        long frigate = admit(AdmissionRequest.of("frigate").withHolder("oci:" + ID).withBytes(512 * MIB));
        LedgerObserver o = new LedgerObserver(ledger, new DeviceChoice("0"), chain(List.of()),
                new CgroupLiveness(cgroupfs, HolderLiveness.processes()), x -> { });

        Observation obs = observe(o);
        assertEquals(Set.of("systemd:ollama.service", "oci:" + ID), obs.liveness().orElseThrow().holders());

        deleteTree(unit); // the unit stopped without ExecStopPost
        obs = observe(o);
        Instant goneAt = obs.takenAt();
        assertEquals(Set.of("oci:" + ID), obs.liveness().orElseThrow().holders());
        while (time.instant().isBefore(goneAt.plus(GRACE).minusSeconds(4))) {
            observe(o);
            assertEquals(List.of(ollama, frigate), leaseIds(), "within the grace at " + time.instant());
        }
        for (int i = 0; i < 5; i++) {
            observe(o);
        }
        assertEquals(List.of(frigate), leaseIds(), "reclaimed once the grace passed");

        // the container's cgroup empties (stopped, not yet removed): reclaimed likewise
        cgroup("machine.slice/libpod-" + ID + ".scope", false);
        for (int i = 0; i < 40; i++) {
            observe(o);
        }
        assertEquals(List.of(), leaseIds());
    }

    @Test
    void withoutACgroupfsSuchLeasesAreKept() {
        admit(AdmissionRequest.of("ollama").withHolder("systemd:ollama.service").withBytes(512 * MIB));
        LedgerObserver o = new LedgerObserver(ledger, new DeviceChoice("0"), chain(List.of()),
                new CgroupLiveness(cgroupfs.resolve("absent"), HolderLiveness.processes()), x -> { });
        for (int i = 0; i < 40; i++) {
            observe(o);
        }
        assertEquals(1, ledger.view().leases().size());
    }

    private List<Long> leaseIds() {
        return ledger.view().leases().stream().map(l -> l.id().value()).toList();
    }

    private static void deleteTree(Path p) throws IOException {
        CgroupLivenessTest.deleteTree(p);
    }
}
