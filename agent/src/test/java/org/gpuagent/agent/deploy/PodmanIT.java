package org.gpuagent.agent.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.jr.ob.JSON;
import com.sun.net.httpserver.HttpServer;
import java.io.File;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.gpuagent.agent.actuate.CommandActuator;
import org.gpuagent.agent.actuate.OllamaUnloader;
import org.gpuagent.nvml.testing.Prerequisites;
import org.gpuagent.scheduler.Evictor;
import org.gpuagent.scheduler.Lease;
import org.gpuagent.scheduler.LeaseId;
import org.gpuagent.scheduler.PriorityClass;
import org.gpuagent.scheduler.Service;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real Podman (Debian's 4.x, rootful) with the deploy files:
 * <ul>
 *   <li>it runs the shipped hooks from its packaged default directory, and from
 *   /etc/containers/oci/hooks.d once deploy/oci/containers.conf.d/gpu-agent.conf adds that to
 *   hooks_dir, and not without it (what went wrong before);</li>
 *   <li>each actuator's command runs under the unit's sandbox as sandbox.json gives it: the
 *   capability bounding set (setpriv), and a read-only file system but for the writable paths
 *   ({@link MountNamespace#strict}). {@code podman stop} works under the unit with the
 *   stop-container drop-in, and fails under the unit alone and under the old empty bounding set.</li>
 * </ul>
 * Podman runs its containers through a wrapper of runc that drops the container's rlimits: a
 * sandboxed host may refuse runc setting them (this one does), and they have nothing to do with
 * hooks or stopping. The files the deploy files name are put in place in private mount namespaces.
 */
class PodmanIT {
    private static final Path TARGET = Path.of(System.getProperty("gpu-agent.target", "target")).toAbsolutePath();
    private static final String IMAGE = "localhost/gpu-agent-it-busybox";

    @TempDir
    Path dir;

    private Path podman;
    private Path runtime;
    private final List<String> containers = new ArrayList<>();
    private final Random random = new Random(8);

    @BeforeEach
    void setUp() throws Exception {
        Prerequisites.require("0".equals(MountNamespace.uid()), "rootful Podman needs root");
        podman = Prerequisites.requireTool("podman");
        Path runc = Prerequisites.requireTool("runc");
        Prerequisites.requireTool("setpriv");
        Prerequisites.requireTool("unshare");
        Prerequisites.requireTool("tar");
        Prerequisites.require(Files.isExecutable(Path.of("/bin/busybox")), "busybox-static (/bin/busybox) is missing");
        Prerequisites.require(Files.isDirectory(Path.of("/usr/share/containers")), "Podman's /usr/share/containers is missing");
        runtime = dir.resolve("runc-without-rlimits");
        Files.writeString(runtime, """
                #!/bin/sh
                # runc, with the bundle's process.rlimits removed before "create"
                prev=
                for a in "$@"; do
                    if [ "$prev" = --bundle ] || [ "$prev" = -b ]; then
                        sed -i -e 's/,"rlimits":\\[[^]]*\\]//' -e 's/"rlimits":\\[[^]]*\\],\\{0,1\\}//' "$a/config.json"
                    fi
                    prev=$a
                done
                exec %s "$@"
                """.formatted(runc));
        Files.setPosixFilePermissions(runtime, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path rootfs = Files.createDirectories(dir.resolve("rootfs/bin"));
        Files.copy(Path.of("/bin/busybox"), rootfs.resolve("busybox"));
        for (String applet : List.of("sh", "echo", "sleep")) {
            Files.createSymbolicLink(rootfs.resolve(applet), Path.of("busybox"));
        }
        MountNamespace.Run imported = MountNamespace.exec(List.of("/bin/sh", "-c", "tar -C '" + rootfs.getParent()
                + "' -c . | '" + podman + "' import - " + IMAGE), "", dir);
        assertEquals(0, imported.exit(), imported.out());
    }

    @AfterEach
    void removeContainers() throws Exception {
        for (String c : containers) {
            MountNamespace.exec(List.of(podman.toString(), "rm", "-f", "-t", "0", c), "", dir);
        }
        if (podman != null) {
            MountNamespace.exec(List.of(podman.toString(), "rmi", "-f", IMAGE), "", dir);
        }
    }

    private String name() {
        // The pid keeps two builds on one host (and a container left by a killed run) apart: the
        // seeded suffix alone repeats from run to run.
        String n = "gpu-agent-it-" + ProcessHandle.current().pid() + "-" + HexFormat.of().formatHex(new byte[] {
                (byte) random.nextInt(), (byte) random.nextInt(),
                (byte) random.nextInt(), (byte) random.nextInt()});
        containers.add(n);
        return n;
    }

    private List<String> podman(String... args) {
        List<String> cmd = new ArrayList<>(List.of(podman.toString(), "--runtime", runtime.toString()));
        cmd.addAll(List.of(args));
        return cmd;
    }

    private String status(String name) throws Exception {
        return MountNamespace.exec(List.of(podman.toString(), "inspect", "-f", "{{.State.Status}}", name), "", dir).out().strip();
    }

    /** Podman runs the shipped hooks wherever it reads hooks from, and only there. */
    @Test
    void podmanRunsTheShippedHooksFromItsDefaultDirectoryOrFromHooksDir() throws Exception {
        String prestart = Files.readString(DeployTree.deploy("oci", "gpu-agent-hook.json"));
        String poststop = Files.readString(DeployTree.deploy("oci", "gpu-agent-hook-poststop.json"));
        String dropIn = Files.readString(DeployTree.deploy("oci", "containers.conf.d", "gpu-agent.conf"));
        Path bin = Files.createDirectories(dir.resolve("usr-local-bin"));
        Files.createSymbolicLink(bin.resolve("gpu-agent"), TARGET.resolve("gpu-agent"));
        try (AgentUnderTest agent = AgentUnderTest.start(dir)) {
            String config = Files.readString(agent.config());

            MountNamespace packaged = new MountNamespace(dir).file("/etc", "gpu-agent/config.yaml", config)
                    .bind("/usr/local/bin", bin)
                    .file("/usr/share/containers", "oci/hooks.d/gpu-agent-hook.json", prestart)
                    .file("/usr/share/containers", "oci/hooks.d/gpu-agent-hook-poststop.json", poststop);
            admittedAndReleased(agent, packaged, "the packaged default /usr/share/containers/oci/hooks.d");

            MountNamespace etc = new MountNamespace(dir).file("/etc", "gpu-agent/config.yaml", config)
                    .file("/etc", "containers/oci/hooks.d/gpu-agent-hook.json", prestart)
                    .file("/etc", "containers/oci/hooks.d/gpu-agent-hook-poststop.json", poststop)
                    .file("/etc", "containers/containers.conf.d/gpu-agent.conf", dropIn)
                    .bind("/usr/local/bin", bin);
            admittedAndReleased(agent, etc, "/etc/containers/oci/hooks.d with hooks_dir from containers.conf.d");

            MountNamespace etcOnly = new MountNamespace(dir).file("/etc", "gpu-agent/config.yaml", config)
                    .file("/etc", "containers/oci/hooks.d/gpu-agent-hook.json", prestart)
                    .file("/etc", "containers/oci/hooks.d/gpu-agent-hook-poststop.json", poststop)
                    .bind("/usr/local/bin", bin);
            String name = name();
            MountNamespace.Run run = etcOnly.run(podman("run", "-d", "--network", "none", "--name", name,
                    "--annotation", "gpu-agent.service=cams", IMAGE, "sleep", "600"), "", dir);
            assertEquals(0, run.exit(), run.out());
            assertEquals("running", status(name));
            assertEquals(List.of(), agent.leases(), "without hooks_dir Podman never reads /etc/containers/oci/hooks.d");
        }
    }

    private void admittedAndReleased(AgentUnderTest agent, MountNamespace ns, String where) throws Exception {
        String name = name();
        // --network none: a network namespace Podman binds under /run/netns inside this private mount
        // namespace would be invisible to the host's Podman later.
        MountNamespace.Run run = ns.run(podman("run", "-d", "--network", "none", "--name", name,
                "--annotation", "gpu-agent.service=cams",
                "--annotation", "gpu-agent.vram=1.2GiB", IMAGE, "sleep", "600"), "", dir);
        assertEquals(0, run.exit(), where + ": " + run.out());
        String id = run.out().strip().lines().reduce((a, b) -> b).orElse("");
        assertEquals(64, id.length(), run.out());
        List<Map<String, Object>> leases = agent.leases();
        assertEquals(1, leases.size(), where + ": " + leases);
        assertEquals("oci:" + id, leases.get(0).get("holder"), where);
        assertEquals(1288490188L, ((Number) leases.get(0).get("bytes")).longValue(), where);
        MountNamespace.Run rm = ns.run(podman("rm", "-f", "-t", "1", name), "", dir);
        assertEquals(0, rm.exit(), rm.out());
        long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!agent.leases().isEmpty() && System.nanoTime() < end) {
            Thread.sleep(100);
        }
        assertEquals(List.of(), agent.leases(), where + ": the poststop hook released it");
    }

    /**
     * stop-container's command (CommandActuator) under the unit's sandbox: with the stop-container
     * drop-in it stops a container whose process runs as another user and cleans up after it; the
     * unit alone, or the old unit's empty bounding set, cannot.
     */
    @Test
    void podmanStopKeepsWhatItNeedsUnderTheUnitsSandbox() throws Exception {
        SandboxList list = SandboxList.load();
        SandboxList.Effective unitAlone = list.effective(list.shipped("unit"));
        Set<String> withDropIn = new LinkedHashSet<>(list.shipped("unit"));
        withDropIn.addAll(list.shipped(UnitSandboxTest.DROP_IN));
        SandboxList.Effective both = list.effective(withDropIn);

        // the unit as shipped before: an empty bounding set, Podman's state writable
        String old = started();
        MountNamespace.Run oldUnit = new MountNamespace(dir)
                .strict(List.of("-/var/lib/containers", "-/run/containers", "-/run/libpod")).capabilities(List.of())
                .run(stopCommand(old), "", dir);
        assertNotEquals(0, oldUnit.exit(), oldUnit.out());
        assertTrue(oldUnit.out().contains("rootless") || oldUnit.out().contains("uid_map"),
                "without CAP_SYS_ADMIN Podman takes itself for rootless: " + oldUnit.out());
        assertEquals("running", status(old));

        String alone = started();
        MountNamespace.Run unit = new MountNamespace(dir).strict(List.copyOf(unitAlone.readWritePaths()))
                .capabilities(List.copyOf(unitAlone.capabilities())).run(stopCommand(alone), "", dir);
        assertNotEquals(0, unit.exit(), "the unit without the drop-in: " + unit.out());

        String name = started();
        MountNamespace.Run stopped = new MountNamespace(dir).strict(List.copyOf(both.readWritePaths()))
                .capabilities(List.copyOf(both.capabilities())).run(stopCommand(name), "", dir);
        assertEquals(0, stopped.exit(), stopped.out());
        assertEquals("exited", status(name));
        // The errors allowed, both when this stop cleans up before conmon's own clean-up (in the
        // host's mount namespace) does, and both in docs/deploy-systemd-podman.md: it cannot unlink
        // the network namespace's file under /run/netns, a mount point outside the unit's mount
        // namespace (EBUSY; the network itself is torn down), and with the cgroupfs manager it
        // cannot remove the container's empty cgroup under ProtectControlGroups=yes.
        for (String line : stopped.out().lines().filter(l -> l.contains("level=error")).toList()) {
            assertTrue(line.contains("/run/netns/") && line.contains("device or resource busy")
                    || line.contains("/sys/fs/cgroup/") && line.contains("read-only file system")
                    // the same refusal, summed up for every controller when Podman gives up retrying
                    || line.contains("Failed to remove paths") && line.contains("/sys/fs/cgroup/"), stopped.out());
        }
    }

    private String started() throws Exception {
        String name = name();
        MountNamespace.Run run = MountNamespace.exec(podman("run", "-d", "--name", name, "--user", "1000", IMAGE,
                "sleep", "600"), "", dir);
        assertEquals(0, run.exit(), run.out());
        assertEquals("running", status(name));
        return name;
    }

    private List<String> stopCommand(String name) {
        List<String> cmd = new ArrayList<>(CommandActuator.stopContainer(name).command());
        assertEquals("podman", cmd.get(0));
        cmd.set(0, podman.toString());
        cmd.add(1, "--runtime");
        cmd.add(2, runtime.toString());
        cmd.add(cmd.size() - 1, "-t");
        cmd.add(cmd.size() - 1, "2");
        return cmd;
    }

    /**
     * restart-unit and stop-unit (systemctl) under the unit's sandbox get as far as systemd: no
     * capability or file-system error (this host may have no systemd as PID 1, so the answer is
     * that, or that the unit does not exist). ollama-unload (HTTP from the JVM) works with the
     * unit's bounding set, in a child JVM.
     */
    @Test
    void theOtherActuatorsCommandsRunUnderTheUnitsSandbox() throws Exception {
        Prerequisites.requireTool("systemctl");
        SandboxList list = SandboxList.load();
        for (String action : List.of("restart-unit", "stop-unit")) {
            SandboxList.Effective e = list.effective(Set.of(action));
            CommandActuator a = action.equals("restart-unit") ? CommandActuator.restartUnit("gpu-agent-it-none.service")
                    : CommandActuator.stopUnit("gpu-agent-it-none.service");
            MountNamespace.Run r = new MountNamespace(dir).strict(List.copyOf(e.readWritePaths()))
                    .capabilities(List.copyOf(e.capabilities())).run(a.command(), "", dir);
            String out = r.out();
            assertFalse(out.contains("Access denied") || out.contains("ermission denied") || out.contains("not permitted")
                    || out.contains("Read-only file system"), action + ": " + out);
            assertTrue(out.contains("not found") || out.contains("not been booted with systemd")
                    || out.contains("Failed to connect to bus"), action + ": " + out);
        }

        List<String> asked = new CopyOnWriteArrayList<>();
        HttpServer ollama = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        ollama.createContext("/api/ps", x -> {
            asked.add("ps");
            byte[] b = "{\"models\":[{\"name\":\"llama3.2:3b\",\"model\":\"llama3.2:3b\"}]}".getBytes(StandardCharsets.UTF_8);
            x.sendResponseHeaders(200, b.length);
            x.getResponseBody().write(b);
            x.close();
        });
        ollama.createContext("/api/generate", x -> {
            asked.add(new String(x.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            byte[] b = "{\"done\":true}".getBytes(StandardCharsets.UTF_8);
            x.sendResponseHeaders(200, b.length);
            x.getResponseBody().write(b);
            x.close();
        });
        ollama.start();
        try {
            SandboxList.Effective e = list.effective(list.shipped("unit"));
            MountNamespace.Run r = new MountNamespace(dir).strict(List.copyOf(e.readWritePaths()))
                    .capabilities(List.copyOf(e.capabilities())).run(List.of(System.getProperty("java.home")
                            + File.separator + "bin" + File.separator + "java", "-cp", System.getProperty("java.class.path"),
                            Unload.class.getName(), "http://127.0.0.1:" + ollama.getAddress().getPort()), "", dir);
            assertEquals(0, r.exit(), r.out());
            assertTrue(asked.size() == 2 && asked.get(1).contains("\"keep_alive\":0"), asked.toString());
        } finally {
            ollama.stop(0);
        }
    }

    /** ollama-unload's actuator, for a child JVM. */
    public static final class Unload {
        public static void main(String[] args) throws Exception {
            Lease l = Lease.active(new LeaseId(1), "ollama", 1, Optional.empty(), List.of(), Instant.EPOCH);
            System.out.println(new OllamaUnloader(URI.create(args[0]), HttpClient::newHttpClient).act(
                    new Evictor.Order(l, Service.of("ollama", PriorityClass.OPPORTUNISTIC, 1, true), "frigate", 1,
                            Instant.now().plusSeconds(30), "test"), Duration.ofSeconds(20)));
        }
    }

    /** The agent on the simulator with the configuration the hooks read, listening where it says. */
    record AgentUnderTest(Process process, Path config, Path state, int apiPort) implements AutoCloseable {
        static AgentUnderTest start(Path dir) throws Exception {
            int port;
            try (java.net.ServerSocket probe = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                port = probe.getLocalPort();
            }
            Path state = dir.resolve("state");
            Path config = dir.resolve("config.yaml");
            Files.writeString(config, """
                    device-memory: 4GiB
                    state-dir: %s
                    listen:
                      api: 127.0.0.1:%d
                      metrics: 127.0.0.1:0
                    services:
                      cams: {priority: interactive, request: 512MiB, fail-mode: closed}
                    """.formatted(state, port));
            Process p = new ProcessBuilder(TARGET.resolve("gpu-agent").toString(), "run", "--backend", "sim", "--config",
                    config.toString()).redirectErrorStream(true).redirectOutput(dir.resolve("agent.log").toFile()).start();
            long end = System.nanoTime() + Duration.ofSeconds(90).toNanos();
            while (!Files.readString(dir.resolve("agent.log")).contains(" ready: ")) {
                assertTrue(p.isAlive() && System.nanoTime() < end, Files.readString(dir.resolve("agent.log")));
                Thread.sleep(50);
            }
            return new AgentUnderTest(p, config, state, port);
        }

        @SuppressWarnings("unchecked")
        List<Map<String, Object>> leases() throws Exception {
            String token = Files.readString(state.resolve("api-token")).strip();
            var r = HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + apiPort + "/v1/leases"))
                    .header("Authorization", "Bearer " + token).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
            return (List<Map<String, Object>>) (List<?>) JSON.std.mapFrom(r.body()).get("leases");
        }

        /** SIGTERM, then SIGKILL after 30 s or when interrupted (the interrupt stays set). */
        @Override
        public void close() {
            process.toHandle().destroy();
            try {
                if (!process.waitFor(30, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }
}
