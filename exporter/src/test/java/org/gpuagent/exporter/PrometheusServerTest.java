package org.gpuagent.exporter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.gpuagent.nvml.sim.GpuProfile;
import org.gpuagent.nvml.testing.Prerequisites;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real Prometheus server (Debian's package) scrapes the exporter every second, loads the alert
 * rules, and its HTTP API returns the series with the values the simulated P1000 has.
 */
class PrometheusServerTest {
    private static final Duration DEADLINE = Duration.ofSeconds(90);
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void prometheusScrapesTheExporterAndAnswersQueries(@TempDir Path dir) throws Exception {
        Path prometheus = Prerequisites.requireTool("prometheus");
        try (HomelabScenario s = HomelabScenario.started();
             MetricsServer server = MetricsServer.start(s.metrics,
                     new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            int webPort = freePort();
            Path config = dir.resolve("prometheus.yml");
            Path rules = DeployFiles.prometheus().resolve("rules").resolve("gpu-agent.rules.yml");
            Files.writeString(config, String.join("\n",
                    "global:",
                    "  scrape_interval: 1s",
                    "  evaluation_interval: 1s",
                    "rule_files:",
                    "  - '" + rules.toAbsolutePath() + "'",
                    "scrape_configs:",
                    "  - job_name: gpu-agent",
                    "    static_configs:",
                    "      - targets: ['127.0.0.1:" + server.port() + "']",
                    ""));
            Path log = dir.resolve("prometheus.log");
            Process p = new ProcessBuilder(prometheus.toString(),
                    "--config.file=" + config,
                    "--storage.tsdb.path=" + dir.resolve("data"),
                    "--web.listen-address=127.0.0.1:" + webPort,
                    "--log.level=warn")
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            try {
                String base = "http://127.0.0.1:" + webPort;
                Map<String, Object> total = awaitSeries(base, "nvgpu_memory_total_bytes", p, log);
                assertEquals(4294967296.0, value(total));
                Map<String, Object> labels = labels(total);
                assertEquals("0", labels.get("gpu"));
                assertEquals(GpuProfile.QUADRO_P1000.uuid(), labels.get("uuid"));
                assertEquals("gpu-agent", labels.get("job"));

                assertEquals(1.0, value(awaitSeries(base, "nvgpu_up", p, log)));
                assertEquals(1.0, value(awaitSeries(base, "up{job=\"gpu-agent\"}", p, log)));
                assertEquals("Quadro P1000", labels(awaitSeries(base, "nvgpu_info", p, log)).get("name"));
                assertEquals(1.0, value(awaitSeries(base,
                        "nvgpu_admissions_total{service=\"ollama\",outcome=\"admitted_after_preemption\"}", p, log)));
                assertEquals(1.0, value(awaitSeries(base, "nvgpu_xid_errors_total{xid=\"13\"}", p, log)));
                assertEquals(256.0 * 1024 * 1024, value(awaitSeries(base,
                        "nvgpu_vram_leased_bytes{service=\"jellyfin\"}", p, log)));
                assertEquals(2.0, value(awaitSeries(base,
                        "nvgpu_workload_processes{workload=\"frigate\",kind=\"service\"}", p, log)));

                Map<String, Object> ruleGroups = get(base + "/api/v1/rules");
                String groups = ruleGroups.toString();
                assertTrue(groups.contains("name=GPU") && groups.contains("name=Services"),
                        "Prometheus loaded the alert rules: " + groups);
            } finally {
                p.destroy();
                if (!p.waitFor(15, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    p.waitFor(15, TimeUnit.SECONDS);
                }
            }
        }
    }

    /** Queries until the instant vector has exactly one series; fails with Prometheus' log after the deadline. */
    @SuppressWarnings("unchecked")
    private Map<String, Object> awaitSeries(String base, String query, Process p, Path log) throws Exception {
        long end = System.nanoTime() + DEADLINE.toNanos();
        String last = "no answer";
        while (System.nanoTime() < end) {
            if (!p.isAlive()) {
                throw new AssertionError("prometheus exited with " + p.exitValue() + ":\n" + Files.readString(log));
            }
            try {
                Map<String, Object> r = get(base + "/api/v1/query?query=" + URLEncoder.encode(query,
                        StandardCharsets.UTF_8));
                Map<String, Object> data = (Map<String, Object>) r.get("data");
                List<Object> result = data == null ? List.of() : (List<Object>) data.get("result");
                if (result.size() == 1) {
                    return (Map<String, Object>) result.get(0);
                }
                last = r.toString();
            } catch (IOException e) {
                last = e.toString();
            }
            Thread.sleep(250);
        }
        throw new AssertionError("no single series for " + query + " within " + DEADLINE + "; last answer: " + last
                + "\nprometheus log:\n" + Files.readString(log));
    }

    private Map<String, Object> get(String url) throws Exception {
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
                .build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IOException("HTTP " + r.statusCode() + " from " + url + ": " + r.body());
        }
        return JSON.std.mapFrom(r.body());
    }

    @SuppressWarnings("unchecked")
    private static double value(Map<String, Object> series) {
        List<Object> v = (List<Object>) series.get("value");
        return Double.parseDouble((String) v.get(1));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> labels(Map<String, Object> series) {
        return (Map<String, Object>) series.get("metric");
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
