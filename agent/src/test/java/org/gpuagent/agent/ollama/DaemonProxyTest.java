package org.gpuagent.agent.ollama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Optional;
import org.gpuagent.agent.config.AgentConfig;
import org.gpuagent.agent.config.ConfigLoader;
import org.gpuagent.agent.config.HostPort;
import org.gpuagent.agent.daemon.Backend;
import org.gpuagent.agent.daemon.Daemon;
import org.gpuagent.nvml.sim.GpuProfile;
import org.gpuagent.nvml.sim.SimulatedGpuHost;
import org.junit.jupiter.api.Test;

/** The agent with {@code ollama} configured: the proxy runs, and its model leases survive a restart. */
class DaemonProxyTest {

    @Test
    void theAgentRunsTheProxyAndAdoptsItsModelLeasesAfterARestart() throws Exception {
        Path dir = Files.createTempDirectory("daemon-proxy");
        SimulatedGpuHost elsewhere = SimulatedGpuHost.create(3, InstantSource.system(), GpuProfile.QUADRO_P1000);
        try (FakeOllama ollama = new FakeOllama(elsewhere.device(0), Duration.ZERO).add(ProxyRig.SMALL)) {
            AgentConfig config = ConfigLoader.parse("""
                    sampling:
                      interval: 100ms
                      slow-every: 1
                    ollama:
                      listen: 127.0.0.1:0
                      upstream: %s
                      ps-interval: 100ms
                    """.formatted(ollama.base()), "t.yaml");
            Daemon.Options o = new Daemon.Options(config, "t.yaml", Backend.Choice.SIM,
                    Optional.of(new HostPort("127.0.0.1", 0)), Optional.of(new HostPort("127.0.0.1", 0)),
                    dir.resolve("state"), Optional.empty());
            HttpClient http = HttpClient.newHttpClient();
            String leases;
            try (Daemon d = Daemon.start(o)) {
                URI proxy = URI.create("http://127.0.0.1:" + d.ollamaPort().orElseThrow() + "/api/generate");
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(proxy).POST(HttpRequest.BodyPublishers
                        .ofString("{\"model\":\"small:1b\",\"prompt\":\"hi\",\"stream\":false}")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertEquals(200, r.statusCode(), r.body());
                // the lease, once resized to what the model takes (size_vram)
                long end = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
                do {
                    leases = leases(http, d, dir);
                    Thread.sleep(20);
                } while (!leases.contains("\"bytes\":" + ProxyRig.SMALL.sizeVram()) && System.nanoTime() < end);
                assertTrue(leases.contains("\"holder\":\"ollama-model:small:1b\"")
                        && leases.contains("\"bytes\":" + ProxyRig.SMALL.sizeVram()), leases);
            }
            try (Daemon d = Daemon.start(o)) {
                assertEquals(leases, leases(http, d, dir));
            }
        } finally {
            try (var files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static String leases(HttpClient http, Daemon d, Path dir) throws Exception {
        String token = Files.readString(dir.resolve("state").resolve("api-token")).strip();
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + d.apiPort() + "/v1/leases"))
                .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString()).body();
    }
}
