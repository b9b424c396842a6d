package org.gpuagent.agent.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.jr.ob.JSON;
import com.sun.net.httpserver.HttpServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.gpuagent.agent.FailOpenRecord;
import org.gpuagent.nvml.testing.Prerequisites;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The OCI hooks exactly as deploy/oci ships them, run by a real runc (Debian's) for containers
 * with a busybox-static root file system, the way Podman would run them: the hooks.d files read
 * and matched by their {@code when} clause ({@link PodmanHooks}), prestart put into the bundle's
 * config.json, poststop run after the container is deleted with the state on stdin. The files
 * name /usr/local/bin/gpu-agent and /etc/gpu-agent/config.yaml: each runc runs in a private mount
 * namespace where those are the built launcher (through a symlink, as installed) and the test's
 * configuration, so the host is not touched. runc and every hook run with an empty environment
 * ({@code env -i}). The agent runs on the simulator.
 *
 * <p>Covered: admitted (a {@code 1.2GiB} annotation), denied (runc refuses the start and shows
 * the hook's reason), poststop releases, the agent down with a fail-open and a fail-closed
 * service, and the fail-open start reported (log, counter, webhook) when the agent is back.
 */
class RuncHooksIT {
    private static final Path TARGET = Path.of(System.getProperty("gpu-agent.target", "target")).toAbsolutePath();
    private static final Pattern LISTENING = Pattern.compile("metrics http://[^ ]+:(\\d+)/metrics, API http://[^ ]+:(\\d+)/v1");
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final long GIB_1_2 = 1288490188L;

    @TempDir
    Path dir;

    private Path runc;
    private Path rootfs;
    private Path bin;
    private Path config;
    private Path state;
    private int apiPort;
    private List<PodmanHooks.Hook> hooks;
    private final Random ids = new Random(8);

    record Run(int exit, String out) {
    }

    @Test
    void containersAreAdmittedDeniedAndReleasedThroughTheShippedHooks() throws Exception {
        prerequisites();
        hooks = PodmanHooks.read(DeployTree.deploy("oci"));
        assertEquals(2, hooks.size(), hooks.toString());
        setUp();
        List<String> webhooks = new CopyOnWriteArrayList<>();
        HttpServer receiver = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        receiver.createContext("/hook", x -> {
            webhooks.add(new String(x.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            x.sendResponseHeaders(204, -1);
            x.close();
        });
        receiver.start();
        writeConfig(receiver.getAddress().getPort());
        Agent agent = Agent.start(config);
        try {
            // admitted, with a fractional size; the lease is the container's until poststop
            String a = id();
            Run admitted = container(a, Map.of("gpu-agent.service", "cams", "gpu-agent.vram", "1.2GiB"));
            assertEquals(0, admitted.exit(), admitted.out());
            assertTrue(admitted.out().contains("started in the container"), admitted.out());
            Map<String, Object> lease = leaseOf(agent, "oci:" + a);
            assertEquals("cams", lease.get("service"));
            assertEquals(GIB_1_2, ((Number) lease.get("bytes")).longValue(), "1.2GiB rounded down to whole bytes");
            assertEquals(0, poststop(a, Map.of("gpu-agent.service", "cams", "gpu-agent.vram", "1.2GiB")).exit());
            assertEquals(null, leaseOf(agent, "oci:" + a), "poststop released it");

            // denied: a non-preemptible lease holds the memory; runc refuses and shows why
            HttpResponse<String> hog = agent.api("POST", "/v1/leases", "{\"service\":\"hog\",\"holder\":\"test:hog\"}");
            assertEquals(201, hog.statusCode(), hog.body());
            String b = id();
            Run denied = container(b, Map.of("gpu-agent.service", "cams", "gpu-agent.vram", "1.2GiB"));
            assertNotEquals(0, denied.exit(), denied.out());
            assertFalse(denied.out().contains("started in the container"), denied.out());
            assertTrue(denied.out().contains("error running hook") && denied.out().contains("exit status 3"), denied.out());
            assertTrue(denied.out().contains("gpu-agent hook: cams needs"), "the reason is shown: " + denied.out());
            assertEquals(null, leaseOf(agent, "oci:" + b));
            assertEquals(204, agent.api("DELETE", "/v1/leases?holder=test:hog", null).statusCode());
        } finally {
            assertEquals(143, agent.stop(), agent.log());
        }

        // the agent is down: its configured fail modes apply (the hooks pass --config)
        String c = id();
        Run open = container(c, Map.of("gpu-agent.service", "frigate"));
        assertEquals(0, open.exit(), open.out());
        assertTrue(open.out().contains("started in the container"), open.out());
        String d = id();
        Run closed = container(d, Map.of("gpu-agent.service", "ollama"));
        assertNotEquals(0, closed.exit(), closed.out());
        assertFalse(closed.out().contains("started in the container"), closed.out());
        assertTrue(closed.out().contains("exit status 4") && closed.out().contains(
                "ollama is fail-closed (/etc/gpu-agent/config.yaml)"), closed.out());
        assertEquals(0, poststop(c, Map.of("gpu-agent.service", "frigate")).exit(), "poststop never fails");
        List<String> record = Files.readAllLines(FailOpenRecord.file(state));
        assertEquals(1, record.size(), record.toString());
        assertTrue(record.get(0).contains("\"holder\":\"oci:" + c + "\""), record.toString());

        // back: the fail-open start is reported, once
        agent = Agent.start(config);
        try {
            String line = agent.awaitLine("WARN frigate started without a lease");
            assertTrue(line.contains("holder oci:" + c), line);
            assertTrue(agent.metrics().contains("nvgpu_fail_open_admissions_total{service=\"frigate\"} 1.0"));
            long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (webhooks.isEmpty() && System.nanoTime() < end) {
                Thread.sleep(50);
            }
            assertEquals(1, webhooks.size(), webhooks.toString());
            Map<String, Object> event = JSON.std.mapFrom(webhooks.get(0));
            assertEquals("fail-open", event.get("event"));
            assertEquals("frigate", event.get("service"));
            assertEquals("oci:" + c, event.get("holder"));
            assertEquals(0, Files.size(FailOpenRecord.file(state)));
        } finally {
            agent.stop();
            receiver.stop(0);
        }
    }

    private void prerequisites() {
        Prerequisites.require("0".equals(MountNamespace.uid()), "runc needs root");
        runc = Prerequisites.requireTool("runc");
        Prerequisites.requireTool("unshare");
        Prerequisites.require(Files.isExecutable(Path.of("/bin/busybox")), "busybox-static (/bin/busybox) is missing");
        Prerequisites.require(Files.isDirectory(Path.of("/usr/local/bin")), "no /usr/local/bin to mount over");
        Prerequisites.require(Files.isExecutable(Path.of("/usr/bin/java")),
                "the hooks run with an empty environment and then find Java at /usr/bin/java");
        assertTrue(Files.isExecutable(TARGET.resolve("gpu-agent")), "the launcher is built");
    }

    private void setUp() throws Exception {
        rootfs = Files.createDirectories(dir.resolve("rootfs/bin"));
        Files.copy(Path.of("/bin/busybox"), rootfs.resolve("busybox"));
        for (String applet : List.of("sh", "echo", "sleep")) {
            Files.createSymbolicLink(rootfs.resolve(applet), Path.of("busybox"));
        }
        rootfs = rootfs.getParent();
        // /usr/local/bin/gpu-agent as the guide installs it: a link to the launcher next to its jar
        bin = Files.createDirectories(dir.resolve("usr-local-bin"));
        Files.createSymbolicLink(bin.resolve("gpu-agent"), TARGET.resolve("gpu-agent"));
        state = dir.resolve("state");
    }

    private void writeConfig(int webhookPort) throws IOException {
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            apiPort = probe.getLocalPort();
        }
        config = dir.resolve("config.yaml");
        Files.writeString(config, """
                device-memory: 4GiB
                state-dir: %s
                listen:
                  api: 127.0.0.1:%d
                  metrics: 127.0.0.1:0
                services:
                  frigate: {priority: critical, request: 1100MiB, fail-mode: open}
                  cams: {priority: interactive, request: 512MiB, fail-mode: closed}
                  hog: {priority: batch, request: 3GiB, fail-mode: closed}
                  ollama: {priority: opportunistic, request: 2560MiB, fail-mode: closed}
                notifications:
                  webhooks:
                    - url: http://127.0.0.1:%d/hook
                      events: [fail-open]
                """.formatted(state, apiPort, webhookPort));
    }

    private String id() {
        byte[] b = new byte[32];
        ids.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    /** A bundle as Podman would write it, run with {@code runc run} (which deletes it on exit). */
    @SuppressWarnings("unchecked")
    private Run container(String id, Map<String, String> annotations) throws Exception {
        Path bundle = Files.createDirectories(dir.resolve("bundles").resolve(id));
        Run spec = run(List.of(runc.toString(), "spec", "--bundle", bundle.toString()), "", dir);
        assertEquals(0, spec.exit(), spec.out());
        Map<String, Object> cfg = JSON.std.mapFrom(Files.readString(bundle.resolve("config.json")));
        Map<String, Object> process = (Map<String, Object>) cfg.get("process");
        process.put("terminal", false);
        process.put("args", List.of("sh", "-c", "echo started in the container"));
        // Podman sets rlimits too; they have nothing to do with hooks, and a sandbox may refuse them.
        process.remove("rlimits");
        cfg.put("root", Map.of("path", rootfs.toString(), "readonly", true));
        cfg.put("annotations", new LinkedHashMap<>(annotations));
        Map<String, List<PodmanHooks.Hook>> extension = PodmanHooks.inject(cfg, hooks);
        assertEquals(List.of("gpu-agent-hook-poststop.json"), extension.get("poststop").stream()
                .map(PodmanHooks.Hook::file).toList(), "poststop is Podman's to run");
        assertEquals(1, ((List<?>) ((Map<String, Object>) cfg.get("hooks")).get("prestart")).size());
        Files.writeString(bundle.resolve("config.json"), JSON.std.asString(cfg));
        return inNamespace(List.of("/usr/bin/env", "-i", runc.toString(), "--root", dir.resolve("runc").toString(),
                "run", "--bundle", bundle.toString(), id), "", bundle);
    }

    /** What Podman does after deleting the container: each poststop hook, state on stdin. */
    private Run poststop(String id, Map<String, String> annotations) throws Exception {
        Path bundle = dir.resolve("bundles").resolve(id);
        String stateJson = JSON.std.asString(Map.of("ociVersion", "1.0.2", "id", id, "status", "stopped",
                "bundle", bundle.toString(), "annotations", annotations));
        Run last = null;
        for (PodmanHooks.Hook h : hooks) {
            if (h.stages().contains("poststop") && h.matches(annotations, List.of("sh"), false)) {
                List<String> cmd = new ArrayList<>(List.of("/usr/bin/env", "-i", h.path()));
                cmd.addAll(h.args().subList(1, h.args().size()));
                last = inNamespace(cmd, stateJson, bundle);
            }
        }
        assertNotEquals(null, last, "a poststop hook matched");
        return last;
    }

    /**
     * {@code cmd} in a private mount namespace where /etc/gpu-agent/config.yaml is the test's
     * configuration (an overlay on /etc) and /usr/local/bin holds the launcher's link.
     */
    private Run inNamespace(List<String> cmd, String stdin, Path cwd) throws Exception {
        MountNamespace.Run r = new MountNamespace(dir).file("/etc", "gpu-agent/config.yaml", Files.readString(config))
                .bind("/usr/local/bin", bin).run(cmd, stdin, cwd);
        return new Run(r.exit(), r.out());
    }

    private static Run run(List<String> cmd, String stdin, Path cwd) throws Exception {
        MountNamespace.Run r = MountNamespace.exec(cmd, stdin, cwd);
        return new Run(r.exit(), r.out());
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> leaseOf(Agent agent, String holder) throws Exception {
        Map<String, Object> body = JSON.std.mapFrom(agent.api("GET", "/v1/leases", null).body());
        for (Object o : (List<Object>) body.get("leases")) {
            Map<String, Object> l = (Map<String, Object>) o;
            if (holder.equals(l.get("holder"))) {
                return l;
            }
        }
        return null;
    }

    /** The agent through the built launcher, on the simulator. */
    private static final class Agent {
        private final Process process;
        private final List<String> log = new CopyOnWriteArrayList<>();
        private final Path stateDir;
        private int metricsPort;
        private int apiPort;

        private Agent(Process process, Path stateDir) {
            this.process = process;
            this.stateDir = stateDir;
        }

        static Agent start(Path config) throws Exception {
            Path stateDir = org.gpuagent.agent.config.ConfigLoader.load(config).stateDir().orElseThrow();
            Process p = new ProcessBuilder(TARGET.resolve("gpu-agent").toString(), "run", "--backend", "sim",
                    "--config", config.toString()).redirectErrorStream(true).start();
            Agent a = new Agent(p, stateDir);
            Thread reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = r.readLine()) != null) {
                        a.log.add(line);
                    }
                } catch (IOException e) {
                    // ended
                }
            });
            reader.setDaemon(true);
            reader.start();
            Matcher m = LISTENING.matcher(a.awaitLine("listening: "));
            assertTrue(m.find());
            a.metricsPort = Integer.parseInt(m.group(1));
            a.apiPort = Integer.parseInt(m.group(2));
            a.awaitLine(" ready: ");
            return a;
        }

        String awaitLine(String fragment) throws InterruptedException {
            long end = System.nanoTime() + Duration.ofSeconds(90).toNanos();
            while (System.nanoTime() < end) {
                for (String l : log) {
                    if (l.contains(fragment)) {
                        return l;
                    }
                }
                assertTrue(process.isAlive(), "the agent exited:\n" + log());
                Thread.sleep(50);
            }
            throw new AssertionError("no line with \"" + fragment + "\" in:\n" + log());
        }

        String log() {
            return String.join("\n", log);
        }

        HttpResponse<String> api(String method, String path, String body) throws Exception {
            String token = Files.readString(stateDir.resolve("api-token")).strip();
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + apiPort + path))
                    .header("Authorization", "Bearer " + token).timeout(Duration.ofSeconds(60))
                    .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
            return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        }

        String metrics() throws Exception {
            return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
        }

        int stop() throws InterruptedException {
            process.toHandle().destroy();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor();
            }
            return process.exitValue();
        }
    }
}
