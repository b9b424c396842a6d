package org.gpuagent.agent.e2e;

import static org.gpuagent.agent.e2e.SimulatedDaemonTest.json;
import static org.gpuagent.agent.e2e.SimulatedDaemonTest.list;
import static org.gpuagent.agent.e2e.SimulatedDaemonTest.map;
import static org.gpuagent.agent.e2e.SimulatedDaemonTest.num;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.gpuagent.agent.FailOpenRecord;
import org.gpuagent.agent.config.ConfigLoader;
import org.gpuagent.nvml.jna.FakeNvmlControl;
import org.gpuagent.nvml.testing.Prerequisites;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Starting and stopping the real daemon: SIGTERM with a journal that replays, the fail-open and
 * fail-closed rule with the agent stopped, and every expected start-up failure as one line
 * without a stack trace (bad configuration, damaged journal, port in use, missing NVML, a second
 * agent). And the backend choice: the fake libnvidia-ml when given, the simulator otherwise.
 */
class DaemonLifecycleTest {
    @TempDir
    Path dir;

    @Test
    void sigtermSyncsTheJournalAndARestartKeepsAcknowledgedLeases() throws Exception {
        Path state = dir.resolve("state");
        long kept;
        long released;
        try (DaemonProcess d = DaemonProcess.start(state, List.of())) {
            assertEquals("rw-------", PosixFilePermissions.toString(
                    Files.getPosixFilePermissions(state.resolve("api-token"))));
            kept = admit(d, "{\"service\":\"ollama\",\"holder\":\"systemd:ollama.service\"}");
            released = admit(d, "{\"service\":\"jellyfin\"}");
            assertEquals(204, d.api("DELETE", "/v1/leases/" + released, null).statusCode());
            int exit = d.stop();
            assertEquals(143, exit, d.logText());
            assertTrue(d.logText().contains("INFO stopped; the ledger journal is synced with 1 lease(s)"), d.logText());
            assertNoStackTrace(d.logText());
        }
        String token = Files.readString(state.resolve("api-token"));
        try (DaemonProcess d = DaemonProcess.start(state, List.of())) {
            assertEquals(token, Files.readString(state.resolve("api-token")), "the token survives a restart");
            assertTrue(d.logText().contains("ledger: 1 lease(s) recovered"), d.logText());
            List<?> leases = list(json(d.api("GET", "/v1/leases", null)).get("leases"));
            assertEquals(1, leases.size(), leases.toString());
            assertEquals(kept, num(map(leases.get(0)).get("id")));
            assertEquals("systemd:ollama.service", map(leases.get(0)).get("holder"));
            long next = admit(d, "{\"service\":\"frigate\"}");
            assertTrue(next > released, "lease ids are never reused: " + next);
        }
    }

    /**
     * Issue 14, security defaults: run by hand under a wide umask the state directory was 0755; a
     * 1-character token was accepted; nothing was said when the API listened beyond loopback.
     */
    @Test
    void stateIsOwnerOnlyUnderAnyUmaskAWeakTokenIsRefusedAndAnOpenApiIsWarnedAbout() throws Exception {
        Path state = dir.resolve("by-hand").resolve("state");
        try (DaemonProcess d = DaemonProcess.startUnderUmask("000", state, List.of("--api-listen", "0.0.0.0:0"))) {
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(state)));
            assertEquals("rw-------", PosixFilePermissions.toString(
                    Files.getPosixFilePermissions(state.resolve("api-token"))));
            d.awaitLine(l -> l.contains("WARN the API listens on 0.0.0.0:" + d.apiPort + ", beyond this host"),
                    Duration.ofSeconds(5));
            assertEquals(200, d.api("GET", "/v1/status", null).statusCode());
            d.stop();
        }
        Files.setPosixFilePermissions(state, PosixFilePermissions.fromString("rwxr-xr-x"));
        try (DaemonProcess d = DaemonProcess.start(state, List.of())) {
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(state)));
            assertTrue(d.logText().contains("was mode rwxr-xr-x; narrowed to rwx------"), d.logText());
            assertFalse(d.logText().contains("beyond this host"), d.logText());
            d.stop();
        }
        Files.writeString(state.resolve("api-token"), "x\n");
        DaemonProcess weak = DaemonProcess.start(state, List.of(), Map.of(), false);
        assertEquals(1, weak.awaitExit(Duration.ofSeconds(60)), weak.logText());
        assertTrue(weak.logText().contains("holds a 1-character token; a token needs at least 32 characters"),
                weak.logText());
        assertNoStackTrace(weak.logText());
    }

    @Test
    void failOpenAndFailClosedWithTheAgentStopped() throws Exception {
        Path state = dir.resolve("state");
        int port;
        try (DaemonProcess d = DaemonProcess.start(state, List.of())) {
            port = d.apiPort;
            d.stop();
        }
        Map<String, String> env = Map.of("GPU_AGENT_API", "127.0.0.1:" + port, "GPU_AGENT_STATE_DIR", state.toString());
        // through the real main, as ExecStartPre runs it
        Result closed = runMain(env, "admit", "--service", "ollama");
        assertEquals(4, closed.exit, closed.toString());
        assertTrue(closed.err.contains("cannot reach the agent at 127.0.0.1:" + port), closed.err);
        assertTrue(closed.err.contains("ollama is fail-closed (the built-in default)"), closed.err);
        assertEquals("", closed.out);

        Result open = runMain(env, "admit", "--service", "frigate", "--wait", "30s");
        assertEquals(0, open.exit, open.toString());
        assertTrue(open.err.startsWith("gpu-agent: warning: "), open.err);
        assertTrue(open.err.contains("frigate is fail-open"), open.err);
        assertEquals("", open.out);

        Path config = dir.resolve("open-ollama.yaml");
        Files.writeString(config, """
                services:
                  ollama:
                    priority: opportunistic
                    request: 2GiB
                    fail-mode: open
                """);
        CliRun viaConfig = CliRun.of("", env, "admit", "--service", "ollama", "--config", config.toString());
        assertEquals(0, viaConfig.exit(), viaConfig.toString());
        assertTrue(viaConfig.err().contains("ollama is fail-open (" + config + ")"), viaConfig.err());

        CliRun release = CliRun.of("", env, "release", "--holder", "x");
        assertEquals(4, release.exit(), release.toString());
        CliRun status = CliRun.of("", env, "status");
        assertEquals(4, status.exit(), status.toString());

        CliRun noToken = CliRun.of("", Map.of("GPU_AGENT_API", "127.0.0.1:" + port,
                "GPU_AGENT_STATE_DIR", dir.resolve("empty").toString()), "admit", "--service", "ollama");
        assertEquals(4, noToken.exit(), noToken.toString());
        assertTrue(noToken.err().contains("no API token"), noToken.err());

        String hookState = "{\"id\":\"cam\",\"annotations\":{\"gpu-agent.service\":\"frigate\"}}";
        assertEquals(0, CliRun.of(hookState, env, "hook", "oci", "prestart").exit());
        String ollamaState = "{\"id\":\"llm\",\"annotations\":{\"gpu-agent.service\":\"ollama\"}}";
        CliRun hookClosed = CliRun.of(ollamaState, env, "hook", "oci", "prestart");
        assertEquals(4, hookClosed.exit(), hookClosed.toString());
        assertEquals(1, hookClosed.err().lines().count(), hookClosed.err());
        assertEquals(0, CliRun.of(ollamaState, env, "hook", "oci", "poststop").exit());

        // Each fail-open start is on record (0600), and the agent reports them when it is back:
        // a warning line each, the counter, and a fail-open webhook; then the record is empty.
        Path record = state.resolve(FailOpenRecord.FILE_NAME);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(record)));
        assertEquals(3, Files.readAllLines(record).size(), Files.readString(record));
        assertTrue(open.err.contains("recorded in " + record), open.err);
        List<String> hooks = new java.util.concurrent.CopyOnWriteArrayList<>();
        com.sun.net.httpserver.HttpServer receiver = com.sun.net.httpserver.HttpServer.create(
                new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        receiver.createContext("/hook", x -> {
            hooks.add(new String(x.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            x.sendResponseHeaders(204, -1);
            x.close();
        });
        receiver.start();
        Path withWebhook = dir.resolve("webhook.yaml");
        Files.writeString(withWebhook, ConfigLoader.builtInDefaultText().replace("  webhooks: []",
                "  webhooks:\n    - url: http://127.0.0.1:" + receiver.getAddress().getPort() + "/hook\n"
                        + "      events: [fail-open]"));
        try (DaemonProcess d = DaemonProcess.start(state, List.of("--config", withWebhook.toString()))) {
            d.awaitLine(l -> l.contains("WARN frigate started without a lease at ") && l.contains("holder oci:cam"),
                    Duration.ofSeconds(30));
            assertTrue(d.logText().contains("WARN ollama started without a lease at "), d.logText());
            String metrics = d.metrics("/metrics").body();
            assertTrue(metrics.contains("nvgpu_fail_open_admissions_total{service=\"frigate\"} 2.0"), metrics);
            assertTrue(metrics.contains("nvgpu_fail_open_admissions_total{service=\"ollama\"} 1.0"), metrics);
            long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (hooks.size() < 3 && System.nanoTime() < end) {
                Thread.sleep(50);
            }
            assertEquals(3, hooks.size(), hooks.toString());
            assertTrue(hooks.stream().allMatch(h -> h.contains("\"event\":\"fail-open\"")), hooks.toString());
            assertTrue(hooks.stream().anyMatch(h -> h.contains("\"holder\":\"oci:cam\"")), hooks.toString());
            assertEquals(0, Files.size(record), "reported once, then emptied");
        } finally {
            receiver.stop(0);
        }
    }

    /**
     * A client given the agent's --config finds the agent where that file says (listen.api,
     * state-dir), as the hooks and drop-ins run it: no --api, --state-dir or environment.
     */
    @Test
    void clientsGivenTheAgentsConfigurationFindTheAgent() throws Exception {
        Path state = dir.resolve("state");
        int port;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort();
        }
        Path config = dir.resolve("agent.yaml");
        Files.writeString(config, "state-dir: " + state + "\nlisten:\n  api: 127.0.0.1:" + port
                + "\n  metrics: 127.0.0.1:0\n");
        try (DaemonProcess d = DaemonProcess.start(state, List.of("--config", config.toString(),
                "--api-listen", "127.0.0.1:" + port))) {
            CliRun admit = CliRun.of("", Map.of(), "admit", "--service", "jellyfin", "--bytes", "1.2GiB",
                    "--holder", "systemd:jellyfin.service", "--config", config.toString());
            assertEquals(0, admit.exit(), admit.toString());
            Map<?, ?> lease = map(list(json(d.api("GET", "/v1/leases", null)).get("leases")).get(0));
            assertEquals(1288490188L, num(lease.get("bytes")), "1.2GiB, rounded down to whole bytes");
            CliRun release = CliRun.of("", Map.of(), "release", "--holder", "systemd:jellyfin.service",
                    "--config", config.toString());
            assertEquals(0, release.exit(), release.toString());
            assertEquals(List.of(), list(json(d.api("GET", "/v1/leases", null)).get("leases")));
        }
    }

    @Test
    void aBadConfigurationIsRefusedWithEveryProblemAsCheckConfigPrintsThem() throws Exception {
        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, """
                headroom: lots
                listen:
                  api: nowhere
                services:
                  ollama:
                    priority: whenever
                    request: 2GiB
                """);
        DaemonProcess d = DaemonProcess.start(dir.resolve("state"), List.of("--config", bad.toString()), Map.of(), false);
        assertEquals(1, d.awaitExit(Duration.ofSeconds(60)), d.logText());
        CliRun check = CliRun.of("check-config", bad.toString());
        assertEquals(1, check.exit());
        assertEquals(check.err().strip(), d.logText().strip());
        assertEquals(4, d.log().size(), d.logText());
        assertFalse(Files.exists(dir.resolve("state").resolve("ledger.journal")), "nothing started");
    }

    /**
     * A damaged journal refuses every start in one line that names the byte offset and the command
     * that moves it aside; the file stays until someone runs it; then the agent starts empty, and
     * lease ids do not start again at 1.
     */
    @Test
    void aDamagedJournalRefusesTheStartInOneLineUntilItIsMovedAsideKnowingly() throws Exception {
        Path state = dir.resolve("state");
        long last;
        try (DaemonProcess d = DaemonProcess.start(state, List.of())) {
            admit(d, "{\"service\":\"ollama\"}");
            last = admit(d, "{\"service\":\"frigate\"}");
            d.stop();
        }
        // damage the first record (the snapshot written at start)
        Path file = state.resolve("ledger.journal");
        byte[] journal = Files.readAllBytes(file);
        journal[12 + 8] ^= 0x5a;
        Files.write(file, journal);
        String error = null;
        for (int start = 0; start < 2; start++) {
            DaemonProcess d = DaemonProcess.start(state, List.of(), Map.of(), false);
            assertEquals(1, d.awaitExit(Duration.ofSeconds(60)), d.logText());
            List<String> errors = d.log().stream().filter(l -> l.contains(" ERROR ")).toList();
            assertEquals(1, errors.size(), d.logText());
            error = errors.get(0);
            assertTrue(error.contains("gpu-agent not started: ledger journal " + file.toAbsolutePath()
                    + " is damaged at byte 12: record 1 at byte 12: its checksum does not match"), error);
            assertNoStackTrace(d.logText());
            assertTrue(java.util.Arrays.equals(journal, Files.readAllBytes(file)), "left as it was");
        }
        java.util.regex.Matcher mv = java.util.regex.Pattern.compile("move it aside: mv (\\S+) (\\S+)$").matcher(error);
        assertTrue(mv.find(), error);
        Files.move(Path.of(mv.group(1)), Path.of(mv.group(2)));
        try (DaemonProcess again = DaemonProcess.start(state, List.of())) {
            assertTrue(list(json(again.api("GET", "/v1/leases", null)).get("leases")).isEmpty());
            long next = admit(again, "{\"service\":\"jellyfin\"}");
            assertTrue(next > last, "lease ids do not start again at 1: " + next + " after " + last);
        }
    }

    @Test
    void portInUseAndASecondAgentAreOneLineEach() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            DaemonProcess d = DaemonProcess.start(dir.resolve("a"), List.of("--api-listen",
                    "127.0.0.1:" + taken.getLocalPort()), Map.of(), false);
            assertEquals(1, d.awaitExit(Duration.ofSeconds(60)), d.logText());
            String error = d.awaitLine(l -> l.contains(" ERROR "), Duration.ofSeconds(1));
            assertTrue(error.contains("cannot listen on 127.0.0.1:" + taken.getLocalPort()), error);
            assertNoStackTrace(d.logText());
        }
        try (DaemonProcess first = DaemonProcess.start(dir.resolve("b"), List.of())) {
            DaemonProcess second = DaemonProcess.start(dir.resolve("b"), List.of(), Map.of(), false);
            assertEquals(1, second.awaitExit(Duration.ofSeconds(60)), second.logText());
            assertTrue(second.logText().contains("in use by another gpu-agent"), second.logText());
            assertNoStackTrace(second.logText());
            assertTrue(first.alive());
        }
    }

    @Test
    void backendNvmlWithoutALibraryFailsInOneLine() throws Exception {
        DaemonProcess d = DaemonProcess.start(dir.resolve("state"), List.of("--backend", "nvml", "--nvml-library",
                dir.resolve("libnvidia-ml.so.1").toString()), Map.of(), false);
        assertEquals(1, d.awaitExit(Duration.ofSeconds(60)), d.logText());
        assertEquals(1, d.log().size(), d.logText());
        assertTrue(d.log().get(0).contains("ERROR gpu-agent not started: --backend nvml: "), d.logText());
        assertNoStackTrace(d.logText());
    }

    @Test
    void autoFallsBackToTheSimulatorSayingWhyInOneLine() throws Exception {
        try (DaemonProcess d = DaemonProcess.start(dir.resolve("state"), List.of("--backend", "auto",
                "--nvml-library", dir.resolve("libnvidia-ml.so.1").toString()))) {
            List<String> backend = d.log().stream().filter(l -> l.contains(" backend: ")).toList();
            assertEquals(1, backend.size(), d.logText());
            assertTrue(backend.get(0).contains("INFO backend: simulated Quadro P1000, because no NVML library loads"),
                    backend.get(0));
            assertEquals("sim", json(d.api("GET", "/v1/status", null)).get("backend"));
        }
    }

    @Test
    void autoPicksNvmlWhenTheLibraryLoads() throws Exception {
        Path fake = Prerequisites.requireFakeNvmlDir().resolve("libnvidia-ml.so.1").toAbsolutePath();
        Prerequisites.require(Files.isRegularFile(fake), "the fake libnvidia-ml is missing: " + fake);
        // a file the fake library can read (copied out when the test-jar holds it)
        Path scenario = FakeNvmlControl.scenario("p1000");
        try (DaemonProcess d = DaemonProcess.start(dir.resolve("state"), List.of("--backend", "auto",
                "--nvml-library", fake.toString()), Map.of("FAKE_NVML_SCENARIO", scenario.toString()), true)) {
            List<String> backend = d.log().stream().filter(l -> l.contains(" backend: ")).toList();
            assertEquals(1, backend.size(), d.logText());
            assertTrue(backend.get(0).contains("INFO backend: NVML from ") && backend.get(0).contains(fake.toString()),
                    backend.get(0));
            Map<String, Object> status = json(d.api("GET", "/v1/status", null));
            assertEquals("nvml", status.get("backend"));
            assertEquals("Quadro P1000", map(list(status.get("devices")).get(0)).get("name"));
            HttpResponse<String> m = d.metrics("/metrics");
            assertTrue(m.body().contains("nvgpu_info{") && m.body().contains("name=\"Quadro P1000\""), m.body());
            // a lease on a real backend: no simulated process, counted at its size
            long id = admit(d, "{\"service\":\"immich\"}");
            assertNotEquals(0, id);
            assertFalse(d.logText().contains("simulator:"), d.logText());
        }
    }

    /**
     * The whole path in the real daemon: a refusal becomes a ledger event, the reporting thread
     * hands it to the notifier, and Alertmanager's API receives a postable alert with the labels
     * routes key on; the request's own answer does not wait for any of it.
     */
    @Test
    @SuppressWarnings("unchecked")
    void aDenialReachesAlertmanagerAsAPostableAlert() throws Exception {
        java.util.concurrent.LinkedBlockingQueue<String> alerts = new java.util.concurrent.LinkedBlockingQueue<>();
        com.sun.net.httpserver.HttpServer am = com.sun.net.httpserver.HttpServer.create(
                new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        am.createContext("/api/v2/alerts", ex -> {
            alerts.add(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            ex.sendResponseHeaders(200, -1);
            ex.close();
        });
        am.start();
        try {
            Path config = dir.resolve("notify.yaml");
            Files.writeString(config, """
                    notifications:
                      instance: hwc-server:9848
                      webhooks:
                        - url: http://127.0.0.1:%d
                          format: alertmanager
                          min-severity: warning
                    """.formatted(am.getAddress().getPort()));
            try (DaemonProcess d = DaemonProcess.start(dir.resolve("state"), List.of("--config", config.toString()))) {
                HttpResponse<String> r = d.api("POST", "/v1/leases", "{\"service\":\"ollama\",\"bytes\":1000000}");
                assertEquals(201, r.statusCode(), r.body());
                HttpResponse<String> denied = d.api("POST", "/v1/leases",
                        "{\"service\":\"ollama\",\"bytes\":" + 8L * 1024 * 1024 * 1024 + "}");
                assertEquals(409, denied.statusCode(), denied.body());
                String body = alerts.poll(30, TimeUnit.SECONDS);
                assertTrue(body != null, "no alert reached the receiver:\n" + d.logText());
                List<Object> list = com.fasterxml.jackson.jr.ob.JSON.std.listFrom(body);
                Map<String, Object> alert = (Map<String, Object>) list.get(0);
                assertEquals(Map.of("alertname", "GpuAgentDenied", "severity", "warning", "service", "ollama",
                        "instance", "hwc-server:9848"), alert.get("labels"), "the admission (info) was not sent");
                assertTrue(((String) ((Map<String, Object>) alert.get("annotations")).get("description"))
                        .contains("ollama"), body);
            }
        } finally {
            am.stop(0);
        }
    }

    // ---- helpers ----

    private static long admit(DaemonProcess d, String body) throws IOException, InterruptedException {
        HttpResponse<String> r = d.api("POST", "/v1/leases", body);
        assertEquals(201, r.statusCode(), r.body());
        return num(map(json(r).get("lease")).get("id"));
    }

    private static void assertNoStackTrace(String log) {
        assertFalse(log.contains("\tat ") || log.contains("Exception in thread"), log);
    }

    private record Result(int exit, String out, String err) {
    }

    /** {@code gpu-agent ARGS} through the real main in a child JVM. */
    private static Result runMain(Map<String, String> env, String... args) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(DaemonProcess.javaCommand(List.of(args)));
        pb.environment().putAll(env);
        Process p = pb.start();
        p.getOutputStream().close();
        var out = p.getInputStream().readAllBytes();
        var err = p.getErrorStream().readAllBytes();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
    }
}
