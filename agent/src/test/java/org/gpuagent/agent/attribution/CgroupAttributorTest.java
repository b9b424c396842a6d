package org.gpuagent.agent.attribution;

import static org.gpuagent.agent.attribution.CgroupMembershipTest.ID2;
import static org.gpuagent.agent.attribution.CgroupMembershipTest.ID;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.gpuagent.agent.attribution.ProcessAttributor.Attribution;
import org.gpuagent.agent.config.ServiceConfig;
import org.gpuagent.exporter.WorkloadKind;
import org.gpuagent.exporter.WorkloadRef;
import org.gpuagent.scheduler.Lease;
import org.gpuagent.scheduler.LeaseId;
import org.gpuagent.scheduler.LedgerView;
import org.gpuagent.scheduler.PriorityClass;
import org.gpuagent.scheduler.Service;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Attribution by cgroup against a fake /proc tree, and the chain the ledger and the metrics share. */
class CgroupAttributorTest {
    static final long MIB = 1024L * 1024;

    @TempDir
    Path proc;

    final AtomicReference<LedgerView> view = new AtomicReference<>(view(1));
    final List<ServiceConfig> services = List.of(
            service("frigate", List.of("podman-frigate.service")),
            service("immich", List.of("immich-machine-learning")),  // written without .service
            service("jellyfin", List.of("jellyfin.service")),
            service("ollama", List.of()));
    CgroupAttributor cgroups;

    @BeforeEach
    void setUp() {
        cgroups = new CgroupAttributor(proc, view::get, services);
    }

    static ServiceConfig service(String name, List<String> units) {
        return new ServiceConfig(Service.of(name, PriorityClass.BATCH, 512 * MIB, false), ServiceConfig.FailMode.CLOSED,
                new ServiceConfig.Match(units, List.of(name)), ServiceConfig.Preemption.none());
    }

    static Lease lease(long id, String service, String holder, Long... pids) {
        return Lease.active(new LeaseId(id), service, 100 * MIB, Optional.ofNullable(holder), List.of(pids),
                Instant.EPOCH);
    }

    static LedgerView view(long version, Lease... leases) {
        return new LedgerView(version, 4096 * MIB, 192 * MIB, 3904 * MIB, 0, 0, 0, Optional.empty(),
                List.of(leases), List.of(), List.of());
    }

    void process(int pid, String cgroup) throws IOException {
        Path dir = Files.createDirectories(proc.resolve(Integer.toString(pid)));
        Files.writeString(dir.resolve("cgroup"), cgroup);
    }

    static Optional<Attribution> of(String service, String holder) {
        return Optional.of(new Attribution(service, Optional.of(holder)));
    }

    @Test
    void aUnitListedByAServiceIsThatService() throws IOException {
        process(10, "0::/system.slice/jellyfin.service\n");
        process(11, "0::/system.slice/immich-machine-learning.service\n");
        process(12, "12:pids:/system.slice/jellyfin.service\n1:name=systemd:/system.slice/jellyfin.service\n");
        process(13, "0::/system.slice/sshd.service\n");
        assertEquals(of("jellyfin", "systemd:jellyfin.service"), cgroups.attribute(10));
        assertEquals(of("immich", "systemd:immich-machine-learning.service"), cgroups.attribute(11));
        assertEquals(of("jellyfin", "systemd:jellyfin.service"), cgroups.attribute(12));
        assertEquals(Optional.empty(), cgroups.attribute(13), "no rule, no lease");
    }

    @Test
    void aLeasedUnitIsItsLeasesHolderAsTheLeaseSpellsIt() throws IOException {
        process(20, "0::/system.slice/ollama.service\n");
        process(21, "0::/system.slice/jellyfin.service\n");
        assertEquals(Optional.empty(), cgroups.attribute(20), "ollama lists no unit and has no lease yet");
        // an ExecStartPre admission: no pids; and a lease that claims jellyfin's unit for ollama
        view.set(view(2, lease(1, "ollama", "systemd:ollama"), lease(2, "ollama", "systemd:jellyfin.service")));
        assertEquals(of("ollama", "systemd:ollama"), cgroups.attribute(20));
        assertEquals(of("ollama", "systemd:jellyfin.service"), cgroups.attribute(21), "the lease wins over the rule");
        view.set(view(3));
        assertEquals(Optional.empty(), cgroups.attribute(20), "released");
        assertEquals(of("jellyfin", "systemd:jellyfin.service"), cgroups.attribute(21));
    }

    @Test
    void aContainerIsTheServiceOfTheLeaseHoldingIt() throws IOException {
        process(30, "0::/machine.slice/libpod-" + ID + ".scope/container\n");
        process(31, "0::/system.slice/podman-frigate.service/libpod-payload-" + ID2 + "\n");
        process(32, "0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + ID + ".scope/container\n");
        // no lease: the scope under machine.slice says nothing about a service (names cannot be read)
        assertEquals(Optional.empty(), cgroups.attribute(30));
        // split mode: the unit above the container is listed by frigate
        assertEquals(of("frigate", "systemd:podman-frigate.service"), cgroups.attribute(31));
        // the OCI hook's leases
        view.set(view(2, lease(1, "frigate", "oci:" + ID, 4242L), lease(2, "immich", "oci:" + ID2)));
        assertEquals(of("frigate", "oci:" + ID), cgroups.attribute(30));
        assertEquals(of("immich", "oci:" + ID2), cgroups.attribute(31), "the container's lease wins over its unit");
        assertEquals(of("frigate", "oci:" + ID), cgroups.attribute(32), "rootless");
    }

    void parent(int pid, int ppid) throws IOException {
        Path dir = Files.createDirectories(proc.resolve(Integer.toString(pid)));
        Files.writeString(dir.resolve("stat"), pid + " (a (tricky) name) S " + ppid + " " + pid + " 0 0 -1 4194560\n");
    }

    /**
     * NixOS's oci-containers run {@code podman run --cgroups=no-conmon} in
     * {@code podman-frigate.service}: the container gets its own {@code machine.slice} scope, and
     * only its monitor (conmon, the container init's parent) stays in the unit. A container admitted
     * by that unit's ExecStartPre counts for the unit's lease, once.
     */
    @Test
    void aContainerWithoutALeaseIsTheUnitThatStartedIt() throws IOException {
        String scope = "0::/machine.slice/libpod-" + ID + ".scope/container\n";
        process(70, scope);           // ffmpeg under frigate
        parent(70, 69);
        process(69, scope);           // the container's init
        parent(69, 68);
        process(68, "0::/system.slice/podman-frigate.service\n");   // conmon
        parent(68, 1);
        assertEquals(of("frigate", "systemd:podman-frigate.service"), cgroups.attribute(70),
                "frigate's match.units lists podman-frigate.service");
        view.set(view(2, lease(1, "frigate", "systemd:podman-frigate.service")));
        assertEquals(of("frigate", "systemd:podman-frigate.service"), cgroups.attribute(70));
        view.set(view(3, lease(1, "frigate", "systemd:podman-frigate.service"), lease(2, "frigate", "oci:" + ID)));
        assertEquals(of("frigate", "oci:" + ID), cgroups.attribute(70), "the container's own lease first");

        // plain podman run: conmon in its own libpod-conmon scope, which no lease or rule names
        String other = "0::/machine.slice/libpod-" + ID2 + ".scope/container\n";
        process(80, other);
        parent(80, 79);
        process(79, "0::/machine.slice/libpod-conmon-" + ID2 + ".scope\n");
        assertEquals(Optional.empty(), cgroups.attribute(80));
        // a chain that cannot be read, or that loops inside the container, attributes nothing
        process(90, other);
        assertEquals(Optional.empty(), cgroups.attribute(90), "no stat");
        process(91, other);
        parent(91, 91);
        assertEquals(Optional.empty(), cgroups.attribute(91), "bounded: a loop ends");
        AttributionChain chain = new AttributionChain(new LeasePidAttributor(view::get), Optional.of(cgroups), List.of());
        view.set(view(4, lease(1, "frigate", "systemd:podman-frigate.service")));
        assertEquals(Optional.of(new WorkloadRef("frigate", WorkloadKind.SERVICE)), chain.workloadOf(70),
                "the metrics see the same service");
    }

    @Test
    void whatCannotBeReadIsNotAttributedAndNeverThrows() throws IOException {
        assertEquals(Optional.empty(), cgroups.attribute(40), "no such process");
        Files.createDirectories(proc.resolve("41"));
        assertEquals(Optional.empty(), cgroups.attribute(41), "no cgroup file (hidepid, a kernel thread)");
        Files.createDirectories(proc.resolve("42").resolve("cgroup"));
        assertEquals(Optional.empty(), cgroups.attribute(42), "unreadable");
        process(43, "garbage");
        assertEquals(Optional.empty(), cgroups.attribute(43));
        process(44, "");
        assertEquals(Optional.empty(), cgroups.attribute(44));
        assertEquals(Optional.empty(), cgroups.attribute(0));
        assertEquals(Optional.empty(), cgroups.attribute(-1));
        CgroupAttributor noProc = new CgroupAttributor(proc.resolve("absent"), view::get, services);
        assertEquals(Optional.empty(), noProc.attribute(10));
    }

    @Test
    void theChainTriesLeasePidsThenCgroupsThenTheRest() throws IOException {
        process(50, "0::/system.slice/jellyfin.service\n");
        process(51, "0::/machine.slice/libpod-" + ID + ".scope/container\n");
        process(52, "0::/system.slice/display-manager.service\n");
        process(53, "0::/system.slice/podman-x.service/libpod-payload-" + ID2 + "\n");
        view.set(view(2, lease(1, "ollama", "pid:50", 50L)));
        List<Integer> asked = new ArrayList<>();
        ProcessAttributor rest = pid -> {
            asked.add(pid);
            return pid == 51 || pid == 60 ? Optional.of(new Attribution("immich", Optional.empty())) : Optional.empty();
        };
        AttributionChain chain = new AttributionChain(new LeasePidAttributor(view::get), Optional.of(cgroups),
                List.of(rest));
        assertEquals(of("ollama", "pid:50"), chain.attribute(50), "the pid a lease carries is exact");
        assertEquals(of("jellyfin", "systemd:jellyfin.service"), cgroups.attribute(50));
        assertEquals(Optional.of(new Attribution("immich", Optional.empty())), chain.attribute(51));
        assertEquals(Optional.empty(), chain.attribute(52));
        assertEquals(List.of(51, 52), asked, "the rest is asked only when the cgroup says nothing");

        // the metrics: a service where one is known, else the container (short id) or the unit
        assertEquals(Optional.of(new WorkloadRef("ollama", WorkloadKind.SERVICE)), chain.workloadOf(50));
        assertEquals(Optional.of(new WorkloadRef("immich", WorkloadKind.SERVICE)), chain.workloadOf(51));
        assertEquals(Optional.of(new WorkloadRef("display-manager.service", WorkloadKind.UNIT)), chain.workloadOf(52));
        assertEquals(Optional.of(new WorkloadRef(ID2.substring(0, 12), WorkloadKind.CONTAINER)), chain.workloadOf(53));
        assertEquals(Optional.of(new WorkloadRef("immich", WorkloadKind.SERVICE)), chain.workloadOf(60),
                "no /proc entry (the simulator's pids): the rest");
        assertEquals(Optional.empty(), chain.workloadOf(61));
        view.set(view(3));
        assertEquals(Optional.of(new WorkloadRef("jellyfin", WorkloadKind.SERVICE)), chain.workloadOf(50));

        AttributionChain withoutCgroups = new AttributionChain(new LeasePidAttributor(view::get), Optional.empty(),
                List.of(rest));
        assertEquals(Optional.empty(), withoutCgroups.attribute(50));
        assertEquals(Optional.empty(), withoutCgroups.workloadOf(52));
    }
}
