package org.gpuagent.agent.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.jr.ob.JSON;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The CLI against the real daemon (a child JVM on the simulator): admit, release, status,
 * check-config, version and the OCI hook, with the contract's exit codes.
 */
class CliEndToEndTest extends SimulatedDaemonTest {
    /** A client command against the daemon: --api and --state-dir come from the environment. */
    private CliRun cli(String... args) {
        return cliWithStdin("", args);
    }

    private CliRun cliWithStdin(String stdin, String... args) {
        return CliRun.of(stdin, Map.of("GPU_AGENT_API", "127.0.0.1:" + daemon.apiPort,
                "GPU_AGENT_STATE_DIR", daemon.stateDir.toString()), args);
    }

    @Test
    void admitPrintsTheLeaseAndStatusShowsIt() throws Exception {
        CliRun r = cli("admit", "--service", "ollama", "--holder", "systemd:ollama.service");
        assertEquals(0, r.exit(), r.toString());
        assertTrue(r.out().strip().matches("\\d+"), r.toString());
        long id = Long.parseLong(r.out().strip());

        CliRun s = cli("status");
        assertEquals(0, s.exit(), s.toString());
        assertTrue(s.out().contains("Budget    3.8 GiB = 4 GiB device - 204.8 MiB headroom"), s.out());
        assertTrue(s.out().lines().anyMatch(l -> l.startsWith(id + " ") && l.contains("ollama")
                && l.contains("2.5 GiB") && l.contains("systemd:ollama.service") && l.contains("active")), s.out());
        assertTrue(s.out().lines().anyMatch(l -> l.startsWith("frigate ") && l.contains("critical")), s.out());
        assertTrue(s.out().contains("Quadro P1000"), s.out());
        assertTrue(s.out().contains("QUEUE: nothing waiting"), s.out());

        CliRun j = cli("status", "--json");
        assertEquals(0, j.exit(), j.toString());
        Map<String, Object> m = JSON.std.mapFrom(j.out());
        assertEquals(id, num(map(list(m.get("leases")).get(0)).get("id")));
        assertTrue(m.containsKey("budget") && m.containsKey("devices") && m.containsKey("services")
                && m.containsKey("queue"), j.out());

        assertEquals(0, cli("release", "--lease", Long.toString(id)).exit());
        assertEquals(0, cli("release", "--lease", Long.toString(id)).exit());
        assertTrue(list(json(daemon.api("GET", "/v1/leases", null)).get("leases")).isEmpty());
    }

    @Test
    void resizeGrowsShrinksAndIsDeniedLikeAnAdmission() throws Exception {
        CliRun admitted = cli("admit", "--service", "immich", "--bytes", "512MiB", "--holder", "h-resize");
        assertEquals(0, admitted.exit(), admitted.toString());
        String id = admitted.out().strip();

        CliRun grown = cli("resize", "--lease", id, "--bytes", "1.5GiB");
        assertEquals(0, grown.exit(), grown.toString());
        assertTrue(grown.out().startsWith("immich lease " + id + " for h-resize resized from 512 MiB to 1.5 GiB"),
                grown.out());
        assertEquals(1536L << 20, num(map(list(json(daemon.api("GET", "/v1/leases", null)).get("leases")).get(0))
                .get("bytes")));

        assertEquals(0, cli("admit", "--service", "frigate", "--holder", "h-frigate").exit());
        CliRun tooBig = cli("resize", "--lease", id, "--bytes", "3GiB");
        assertEquals(3, tooBig.exit(), tooBig.toString());
        assertTrue(tooBig.err().startsWith("gpu-agent: growing immich lease " + id + " to 3 GiB: "), tooBig.err());
        assertEquals(0, cli("release", "--holder", "h-frigate").exit());

        assertEquals(0, cli("resize", "--lease", id, "--bytes", "256MiB").exit());
        assertEquals(0, cli("release", "--lease", id).exit());
        CliRun gone = cli("resize", "--lease", id, "--bytes", "256MiB");
        assertEquals(3, gone.exit(), gone.toString());
        assertTrue(gone.err().contains("not counted"), gone.err());
        assertEquals(2, cli("resize", "--lease", id, "--bytes", "lots").exit());
        assertEquals(2, cli("resize", "--lease", id).exit());
    }

    @Test
    void admitDryRunSaysWhatWouldHappenAndChangesNothing() throws Exception {
        assertEquals(0, cli("admit", "--service", "ollama", "--holder", "systemd:ollama.service").exit());
        CliRun preempt = cli("admit", "--service", "frigate", "--bytes", "2GiB", "--dry-run");
        assertEquals(0, preempt.exit(), preempt.toString());
        assertTrue(preempt.out().startsWith("dry run: preempt: frigate needs 2 GiB"), preempt.out());
        assertTrue(preempt.out().contains("preempting ollama lease"), preempt.out());
        assertEquals(1, preempt.out().lines().count(), preempt.out());

        CliRun asJson = cli("admit", "--service", "frigate", "--bytes", "2GiB", "--dry-run", "--json");
        assertEquals(0, asJson.exit(), asJson.toString());
        Map<String, Object> m = JSON.std.mapFrom(asJson.out());
        assertEquals("preempt", m.get("decision"));
        assertEquals(List.of("ollama"), m.get("preemptedServices"));

        CliRun deny = cli("admit", "--service", "frigate", "--bytes", "5GiB", "--dry-run");
        assertEquals(3, deny.exit(), deny.toString());
        assertTrue(deny.out().startsWith("dry run: deny: "), deny.out());
        assertEquals(2, cli("admit", "--service", "frigate", "--json").exit(), "--json needs --dry-run");

        List<?> leases = list(json(daemon.api("GET", "/v1/leases", null)).get("leases"));
        assertEquals(1, leases.size());
        assertEquals("active", map(leases.get(0)).get("state"), "nothing was preempted");
        assertEquals(0, cli("release", "--holder", "systemd:ollama.service").exit());
    }

    @Test
    void releaseByHolderTwice() throws Exception {
        assertEquals(0, cli("admit", "--service", "immich", "--bytes", "512MiB", "--holder", "h1").exit());
        assertEquals(0, cli("admit", "--service", "immich", "--bytes", "512MiB", "--holder", "h1").exit());
        assertEquals(2, list(json(daemon.api("GET", "/v1/leases", null)).get("leases")).size());
        assertEquals(0, cli("release", "--holder", "h1").exit());
        assertEquals(0, cli("release", "--holder", "h1").exit());
        assertTrue(list(json(daemon.api("GET", "/v1/leases", null)).get("leases")).isEmpty());
    }

    @Test
    void deniedExitsThreeWithTheSentence() {
        for (String s : List.of("frigate", "jellyfin", "immich")) {
            assertEquals(0, cli("admit", "--service", s).exit());
        }
        CliRun r = cli("admit", "--service", "ollama");
        assertEquals(3, r.exit(), r.toString());
        assertEquals("", r.out());
        assertTrue(r.err().startsWith("gpu-agent: ollama needs 2.5 GiB"), r.err());
        assertEquals(1, r.err().lines().count(), r.err());

        CliRun tooBig = cli("admit", "--service", "ollama", "--bytes", "5GiB");
        assertEquals(3, tooBig.exit(), tooBig.toString());
        assertTrue(tooBig.err().contains("it can never fit"), tooBig.err());

        CliRun unknown = cli("admit", "--service", "plex");
        assertEquals(3, unknown.exit(), unknown.toString());
        assertTrue(unknown.err().contains("unknown service 'plex'"), unknown.err());
    }

    @Test
    void usageErrorsExitTwo() throws Exception {
        for (String[] args : List.of(
                new String[] {"admit"},
                new String[] {"admit", "--service", "ollama", "--bytes", "12 parsecs"},
                new String[] {"admit", "--service", "ollama", "--bytes", "-1"},
                new String[] {"admit", "--service", "ollama", "--bytes", "0"},
                new String[] {"admit", "--service", "ollama", "--wait", "soon"},
                new String[] {"admit", "--service", "ollama", "--api", "nowhere"},
                new String[] {"release"},
                new String[] {"release", "--lease", "1", "--holder", "x"},
                new String[] {"release", "--lease", "abc"},
                new String[] {"frobnicate"},
                new String[] {"status", "--jsn"})) {
            CliRun r = cli(args);
            assertEquals(2, r.exit(), String.join(" ", args) + "\n" + r);
            assertFalse(r.err().contains("\tat "), r.err());
        }
        assertTrue(list(listLeases()).isEmpty());
    }

    @Test
    void checkConfigReportsEveryProblemWithItsLine() throws Exception {
        Path good = dir.resolve("good.yaml");
        Files.writeString(good, "device-memory: 4GiB\n");
        CliRun ok = CliRun.of("check-config", good.toString());
        assertEquals(0, ok.exit(), ok.toString());
        assertEquals(1, ok.out().lines().count(), ok.out());
        assertTrue(ok.out().contains("valid; 4 services"), ok.out());

        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, """
                device-memory: 4GiB
                sampling:
                  intervall: 1s
                services:
                  ollama:
                    priority: opportunistic
                    request: 12 parsecs
                  frigate:
                    priority: critical
                    request: 5GiB
                """);
        CliRun r = CliRun.of("check-config", bad.toString());
        assertEquals(1, r.exit(), r.toString());
        assertTrue(r.err().contains(bad + ":3: sampling.intervall"), r.err());
        assertTrue(r.err().contains(bad + ":7: services.ollama.request"), r.err());
        assertTrue(r.err().contains(bad + ":10: services.frigate.request"), r.err());
        assertTrue(r.err().strip().endsWith("problems in " + bad), r.err());

        CliRun missing = CliRun.of("check-config", dir.resolve("nope.yaml").toString());
        assertEquals(1, missing.exit());
        assertTrue(missing.err().contains("no such file"), missing.err());
    }

    @Test
    void versionPrintsIt() {
        CliRun r = CliRun.of("version");
        assertEquals(0, r.exit());
        assertTrue(r.out().startsWith("gpu-agent 0."), r.out());
        assertTrue(CliRun.of("--version").out().startsWith("gpu-agent "));
    }

    @Test
    void ociHookAdmitsFromAnnotationsAndReleasesAtPoststop() throws Exception {
        String state = """
                {"ociVersion":"1.0.2","id":"c0ffee","status":"created","pid":%d,"bundle":"/nonexistent",
                 "annotations":{"gpu-agent.service":"jellyfin","gpu-agent.vram":"600MiB","gpu-agent.wait":"5s"}}
                """.formatted(ProcessHandle.current().pid());
        CliRun r = cliWithStdin(state, "hook", "oci", "prestart");
        assertEquals(0, r.exit(), r.toString());
        Map<String, Object> lease = map(list(listLeases()).get(0));
        assertEquals("oci:c0ffee", lease.get("holder"));
        assertEquals("jellyfin", lease.get("service"));
        assertEquals(600L * TestConfigs.MIB, num(lease.get("bytes")));
        assertEquals(List.of(ProcessHandle.current().pid()), list(lease.get("pids")).stream().map(x -> num(x)).toList());

        assertEquals(0, cliWithStdin(state, "hook", "oci", "poststop").exit());
        assertTrue(list(listLeases()).isEmpty());
        assertEquals(0, cliWithStdin(state, "hook", "oci", "poststop").exit());
    }

    @Test
    void ociHookReadsTheBundleWhenTheStateHasNoAnnotations() throws Exception {
        Path bundle = Files.createDirectories(dir.resolve("bundle"));
        Files.writeString(bundle.resolve("config.json"), """
                {"ociVersion":"1.0.2","process":{"args":["sh"]},
                 "annotations":{"gpu-agent.service":"immich"}}
                """);
        String state = "{\"id\":\"b4\",\"pid\":" + ProcessHandle.current().pid() + ",\"bundle\":\"" + bundle + "\"}";
        CliRun r = cliWithStdin(state, "hook", "oci", "createRuntime");
        assertEquals(0, r.exit(), r.toString());
        Map<String, Object> lease = map(list(listLeases()).get(0));
        assertEquals("oci:b4", lease.get("holder"));
        assertEquals(1536L * TestConfigs.MIB, num(lease.get("bytes")));
        assertEquals(0, cliWithStdin(state, "hook", "oci", "poststop").exit());
        assertTrue(list(listLeases()).isEmpty());
    }

    @Test
    void ociHookLeavesUnmanagedContainersAlone() throws Exception {
        String state = "{\"id\":\"plain\",\"pid\":1,\"annotations\":{\"io.podman.annotations.label\":\"x\"}}";
        CliRun r = cliWithStdin(state, "hook", "oci", "prestart");
        assertEquals(0, r.exit(), r.toString());
        assertEquals("", r.err());
        assertTrue(list(listLeases()).isEmpty());
        assertEquals(0, cliWithStdin(state, "hook", "oci", "poststop").exit());
    }

    @Test
    void ociHookDeniedOrBrokenInputFailsWithOneLine() throws Exception {
        String big = "{\"id\":\"big\",\"annotations\":{\"gpu-agent.service\":\"ollama\",\"gpu-agent.vram\":\"5GiB\"}}";
        CliRun denied = cliWithStdin(big, "hook", "oci", "prestart");
        assertEquals(3, denied.exit(), denied.toString());
        assertEquals(1, denied.err().lines().count(), denied.err());
        assertTrue(denied.err().startsWith("gpu-agent hook: ollama asks for 5 GiB"), denied.err());

        CliRun badSize = cliWithStdin("{\"id\":\"x\",\"annotations\":{\"gpu-agent.service\":\"ollama\","
                + "\"gpu-agent.vram\":\"lots\"}}", "hook", "oci", "prestart");
        assertEquals(2, badSize.exit(), badSize.toString());
        assertEquals(1, badSize.err().lines().count(), badSize.err());

        CliRun garbage = cliWithStdin("not json", "hook", "oci", "prestart");
        assertEquals(2, garbage.exit(), garbage.toString());
        assertEquals(0, cliWithStdin("not json", "hook", "oci", "poststop").exit());
        assertEquals(2, cliWithStdin("{}", "hook", "oci", "poststart").exit());
        assertTrue(list(listLeases()).isEmpty());
    }

    private Object listLeases() throws Exception {
        return json(daemon.api("GET", "/v1/leases", null)).get("leases");
    }
}
