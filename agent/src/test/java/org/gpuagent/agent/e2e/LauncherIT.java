package org.gpuagent.agent.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The build's output as the README and docs/cli.md use it (runs in the integration-test phase, after package):
 * {@code agent/target/gpu-agent run} on the simulator, a scrape, {@code gpu-agent admit} and
 * {@code status} through the launcher (the second admit maps the class-data archive the first one
 * wrote), {@code java -jar gpu-agent.jar}, and SIGTERM.
 */
class LauncherIT {
    private static final Path TARGET = Path.of(System.getProperty("gpu-agent.target", "target")).toAbsolutePath();
    private static final Pattern LISTENING = Pattern.compile("metrics http://[^ ]+:(\\d+)/metrics, API http://[^ ]+:(\\d+)/v1");

    @TempDir
    Path dir;

    private record Run(int exit, String out, String err) {
    }

    private Run launcher(String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(TARGET.resolve("gpu-agent").toString());
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        byte[] err = p.getErrorStream().readAllBytes();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
    }

    /**
     * An OCI runtime may run the hooks with an empty environment, or with a PATH that names
     * nothing on the host: through a symlink (as /usr/local/bin/gpu-agent is installed), with
     * PATH=/nonexistent, the launcher still finds its jar and Java and the hook runs.
     */
    @Test
    void theLauncherRunsWithAnEmptyEnvironment() throws Exception {
        Path bin = dir.resolve("bin");
        Files.createDirectories(bin);
        Files.createSymbolicLink(bin.resolve("gpu-agent"), TARGET.resolve("gpu-agent"));
        String state = "{\"id\":\"cam\",\"annotations\":{\"gpu-agent.service\":\"frigate\"}}";
        Run poststop = run(state, "env", "-i", "PATH=/nonexistent", "JAVA_HOME=" + System.getProperty("java.home"),
                bin.resolve("gpu-agent").toString(), "hook", "oci", "poststop", "--state-dir", dir.resolve("s").toString());
        assertEquals(0, poststop.exit(), poststop.toString());
        assertTrue(poststop.err().startsWith("gpu-agent hook: warning: no API token at "), poststop.toString());

        Run version = run("", "env", "-i", bin.resolve("gpu-agent").toString(), "version");
        if (Files.isExecutable(Path.of("/usr/bin/java"))) {
            assertEquals(0, version.exit(), "without JAVA_HOME and PATH, /usr/bin/java: " + version);
            assertTrue(version.out().startsWith("gpu-agent "), version.toString());
        } else {
            assertEquals(1, version.exit(), version.toString());
            assertTrue(version.err().contains("no Java found: set JAVA_HOME"), version.toString());
        }
    }

    private static Run run(String stdin, String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).start();
        try (var in = p.getOutputStream()) {
            in.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
        byte[] out = p.getInputStream().readAllBytes();
        byte[] err = p.getErrorStream().readAllBytes();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
    }

    @Test
    void theLauncherRunsTheAgentAndItsClients() throws Exception {
        assertTrue(Files.isExecutable(TARGET.resolve("gpu-agent")), "the launcher is built and executable");
        Path state = dir.resolve("state");
        Process agent = new ProcessBuilder(TARGET.resolve("gpu-agent").toString(), "run", "--state-dir", state.toString(),
                "--metrics-listen", "127.0.0.1:0", "--api-listen", "127.0.0.1:0").redirectErrorStream(true).start();
        List<String> log = new CopyOnWriteArrayList<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(agent.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    log.add(line);
                }
            } catch (java.io.IOException e) {
                // ended
            }
        });
        reader.start();
        try {
            long end = System.nanoTime() + Duration.ofSeconds(90).toNanos();
            while (log.stream().noneMatch(l -> l.contains(" ready: "))) {
                assertTrue(agent.isAlive() && System.nanoTime() < end, String.join("\n", log));
                Thread.sleep(50);
            }
            Matcher m = log.stream().map(LISTENING::matcher).filter(Matcher::find).findFirst().orElseThrow();
            String api = "127.0.0.1:" + m.group(2);
            assertTrue(log.stream().anyMatch(l -> l.contains("INFO backend: simulated Quadro P1000")), String.join("\n", log));

            HttpResponse<String> scrape = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + m.group(1) + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, scrape.statusCode());
            assertTrue(scrape.body().contains("nvgpu_up 1.0"), scrape.body());

            Run first = launcher("admit", "--service", "ollama", "--api", api, "--state-dir", state.toString());
            assertEquals(0, first.exit(), first.toString());
            assertTrue(first.out().strip().matches("\\d+"), first.toString());
            Run second = launcher("admit", "--service", "frigate", "--api", api, "--state-dir", state.toString());
            assertEquals(0, second.exit(), second.toString());
            assertTrue(second.out().strip().matches("\\d+"), "only the lease id on stdout: " + second);
            assertEquals("", second.err(), second.toString());

            Run status = launcher("status", "--api", api, "--state-dir", state.toString());
            assertEquals(0, status.exit(), status.toString());
            assertTrue(status.out().contains("ollama") && status.out().contains("2.5 GiB"), status.out());

            Process jar = new ProcessBuilder("java", "-jar", TARGET.resolve("gpu-agent.jar").toString(), "version").start();
            String version = new String(jar.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, jar.waitFor());
            assertTrue(version.startsWith("gpu-agent "), version);
        } finally {
            agent.toHandle().destroy();
            assertTrue(agent.waitFor(30, TimeUnit.SECONDS));
            reader.join(10_000);
        }
        assertEquals(143, agent.exitValue(), String.join("\n", log));
        assertTrue(log.stream().anyMatch(l -> l.contains("INFO stopped; the ledger journal is synced with 2 lease(s)")),
                String.join("\n", log));
    }
}
