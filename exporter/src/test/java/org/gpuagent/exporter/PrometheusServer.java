package org.gpuagent.exporter;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.net.InetAddress;
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
import java.util.function.Predicate;
import org.gpuagent.nvml.testing.Prerequisites;

/**
 * A real Prometheus server (Debian's package) for integration tests: it scrapes one target every
 * second and evaluates the alert rules every second; queries go through its HTTP API. Waits poll
 * the API (Prometheus runs in real time), each bounded by {@link #DEADLINE}, and fail with the
 * server's log.
 */
final class PrometheusServer implements AutoCloseable {
    static final Duration DEADLINE = Duration.ofSeconds(90);

    private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final Process process;
    private final Path log;
    private final String base;

    private PrometheusServer(Process process, Path log, String base) {
        this.process = process;
        this.log = log;
        this.base = base;
    }

    /** Starts Prometheus in {@code dir} scraping {@code 127.0.0.1:targetPort} as job {@code gpu-agent}, with the project's rules. */
    static PrometheusServer start(Path dir, int targetPort) throws IOException {
        Path prometheus = Prerequisites.requireTool("prometheus");
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
                "      - targets: ['127.0.0.1:" + targetPort + "']",
                ""));
        Path log = dir.resolve("prometheus.log");
        Process p = new ProcessBuilder(prometheus.toString(),
                "--config.file=" + config,
                "--storage.tsdb.path=" + dir.resolve("data"),
                "--web.listen-address=127.0.0.1:" + webPort,
                "--log.level=warn")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        return new PrometheusServer(p, log, "http://127.0.0.1:" + webPort);
    }

    /** The instant vector of {@code promql} now (possibly empty); throws when Prometheus refuses the query. */
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> query(String promql) throws Exception {
        Map<String, Object> r = get(base + "/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
        Map<String, Object> data = (Map<String, Object>) r.get("data");
        Object result = data == null ? null : data.get("result");
        if (!(result instanceof List)) {
            throw new AssertionError("query " + promql + " gave no vector: " + r);
        }
        return (List<Map<String, Object>>) result;
    }

    /** Queries until the instant vector has exactly one series. */
    Map<String, Object> awaitSeries(String promql) throws Exception {
        return awaitResult(promql, r -> r.size() == 1).get(0);
    }

    /** Queries until {@code done} accepts the result. */
    List<Map<String, Object>> awaitResult(String promql, Predicate<List<Map<String, Object>>> done) throws Exception {
        long end = System.nanoTime() + DEADLINE.toNanos();
        String last = "no answer";
        while (System.nanoTime() < end) {
            checkAlive();
            try {
                List<Map<String, Object>> r = query(promql);
                if (done.test(r)) {
                    return r;
                }
                last = r.toString();
            } catch (IOException e) {
                last = e.toString();
            }
            Thread.sleep(250);
        }
        throw new AssertionError("no acceptable answer to " + promql + " within " + DEADLINE + "; last answer: "
                + last + "\nprometheus log:\n" + Files.readString(log));
    }

    /** The alerts Prometheus holds now ({@code /api/v1/alerts}), pending and firing. */
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> alerts() throws Exception {
        Map<String, Object> data = (Map<String, Object>) get(base + "/api/v1/alerts").get("data");
        return (List<Map<String, Object>>) data.get("alerts");
    }

    /** Polls until an alert named {@code name} fires whose labels include {@code labels}. */
    @SuppressWarnings("unchecked")
    Map<String, Object> awaitFiring(String name, Map<String, String> labels) throws Exception {
        long end = System.nanoTime() + DEADLINE.toNanos();
        List<Map<String, Object>> last = List.of();
        while (System.nanoTime() < end) {
            checkAlive();
            last = alerts();
            for (Map<String, Object> a : last) {
                Map<String, Object> l = (Map<String, Object>) a.get("labels");
                if ("firing".equals(a.get("state")) && name.equals(l.get("alertname"))
                        && l.entrySet().containsAll(labels.entrySet())) {
                    return a;
                }
            }
            Thread.sleep(250);
        }
        throw new AssertionError(name + " " + labels + " did not fire within " + DEADLINE + "; alerts: " + last
                + "\nprometheus log:\n" + Files.readString(log));
    }

    Map<String, Object> get(String url) throws Exception {
        HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(url.startsWith("/") ? base + url : url))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IOException("HTTP " + r.statusCode() + " from " + url + ": " + r.body());
        }
        return JSON.std.mapFrom(r.body());
    }

    private void checkAlive() throws IOException {
        if (!process.isAlive()) {
            throw new AssertionError("prometheus exited with " + process.exitValue() + ":\n" + Files.readString(log));
        }
    }

    @SuppressWarnings("unchecked")
    static double value(Map<String, Object> series) {
        List<Object> v = (List<Object>) series.get("value");
        return Double.parseDouble((String) v.get(1));
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> labels(Map<String, Object> series) {
        return (Map<String, Object>) series.get("metric");
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** SIGTERM, then SIGKILL after 15 s or when interrupted (the interrupt stays set). */
    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(15, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(15, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
