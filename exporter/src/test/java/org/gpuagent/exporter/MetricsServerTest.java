package org.gpuagent.exporter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;
import org.gpuagent.nvml.sampler.GpuSnapshot;
import org.gpuagent.nvml.sim.BlockedCall;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class MetricsServerTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(20);
    private final HttpClient client = HttpClient.newBuilder().connectTimeout(TIMEOUT).build();
    private HomelabScenario scenario;
    private MetricsServer server;

    @BeforeEach
    void start() throws IOException {
        scenario = HomelabScenario.started();
        server = MetricsServer.start(scenario.metrics, new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    }

    @AfterEach
    void stop() {
        server.close();
        scenario.close();
    }

    private HttpResponse<byte[]> send(String method, String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                .timeout(TIMEOUT).method(method, HttpRequest.BodyPublishers.noBody());
        if (headers.length > 0) {
            b.headers(headers);
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private static String body(HttpResponse<byte[]> r) {
        return new String(r.body(), StandardCharsets.UTF_8);
    }

    @Test
    void metricsDefaultToThePrometheusTextFormat() throws Exception {
        HttpResponse<byte[]> r = send("GET", "/metrics");
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"),
                r.headers().toString());
        Exposition e = Exposition.parse(body(r));
        assertEquals(HomelabScenario.P1000_TOTAL_BYTES, e.value("nvgpu_memory_total_bytes{gpu=\"0\",uuid=\""
                + scenario.host.device(0).profile().identity().uuid() + "\"}"));
        assertTrue(e.hasMetric("jvm_memory_used_bytes"), "JVM metrics are on by default");
        assertFalse(body(r).contains("# EOF"));
    }

    @Test
    void openMetricsWhenTheScraperAsksForIt() throws Exception {
        HttpResponse<byte[]> r = send("GET", "/metrics", "Accept",
                "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,"
                        + "text/plain;version=0.0.4;q=0.5,*/*;q=0.1");
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("application/openmetrics-text"),
                r.headers().toString());
        String text = body(r);
        assertTrue(text.contains("# TYPE nvgpu info\n"), "the info type exists in OpenMetrics only");
        assertTrue(text.contains("# UNIT nvgpu_memory_total_bytes bytes\n"));
        assertTrue(text.endsWith("# EOF\n"));
    }

    @Test
    void gzipWhenAskedAndFamiliesByName() throws Exception {
        HttpResponse<byte[]> r = send("GET", "/metrics?name[]=nvgpu_up&name[]=nvgpu_memory_total_bytes",
                "Accept-Encoding", "gzip");
        assertEquals("gzip", r.headers().firstValue("Content-Encoding").orElse(""));
        String text;
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(r.body()))) {
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        Exposition e = Exposition.parse(text);
        assertTrue(e.names().containsAll(java.util.Set.of("nvgpu_up", "nvgpu_memory_total_bytes")), e.text);
        assertFalse(e.hasMetric("nvgpu_temperature_celsius"), e.text);
        assertFalse(e.hasMetric("jvm_memory_used_bytes"), e.text);
    }

    @Test
    void healthzAndTheOtherPathsAndMethods() throws Exception {
        HttpResponse<byte[]> health = send("GET", "/healthz");
        assertEquals(200, health.statusCode());
        assertEquals("ok\n", body(health));
        assertEquals(200, send("HEAD", "/healthz").statusCode());
        scenario.metrics.publish(new SchedulerMetricsView(4000, 3000, java.util.List.of(), 0,
                new SchedulerMetricsView.Journal(false, 1, java.util.Optional.of("No space left on device"))));
        HttpResponse<byte[]> unhealthy = send("GET", "/healthz");
        assertEquals(503, unhealthy.statusCode());
        assertEquals("unhealthy: the ledger journal cannot be written: No space left on device\n", body(unhealthy));
        scenario.metrics.publish(new SchedulerMetricsView(4000, 3000, java.util.List.of(), 0));
        assertEquals(200, send("GET", "/healthz").statusCode());
        HttpResponse<byte[]> head = send("HEAD", "/metrics");
        assertEquals(200, head.statusCode());
        assertEquals(0, head.body().length);
        HttpResponse<byte[]> missing = send("GET", "/metricsz");
        assertEquals(404, missing.statusCode());
        assertTrue(body(missing).contains("/metrics"));
        assertEquals(404, send("GET", "/").statusCode());
        HttpResponse<byte[]> post = send("POST", "/metrics");
        assertEquals(405, post.statusCode());
        assertEquals("GET, HEAD", post.headers().firstValue("Allow").orElse(""));
    }

    @Test
    void everyScrapeIsCountedWhenEveryScrapeRenders() throws Exception {
        server.close();
        server = MetricsServer.start(scenario.metrics, new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 2,
                Duration.ZERO);
        send("GET", "/metrics");
        send("GET", "/metrics");
        Exposition e = Exposition.parse(body(send("GET", "/metrics")));
        assertEquals(3, e.value("nvgpu_scrapes_total"), "this scrape counts itself");
        send("GET", "/healthz");
        assertEquals(4, Exposition.parse(body(send("GET", "/metrics"))).value("nvgpu_scrapes_total"));
    }

    @Test
    void scrapesWithinTheCacheAgeShareOneRenderUntilSomethingIsPublished() throws Exception {
        server.close();
        server = MetricsServer.start(scenario.metrics, new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 2,
                Duration.ofHours(1));
        String first = body(send("GET", "/metrics"));
        String second = body(send("GET", "/metrics"));
        assertEquals(first, second, "the second scrape got the first one's body (its scrape count is not in it)");
        assertEquals(1, Exposition.parse(second).value("nvgpu_scrapes_total"));
        String om = body(send("GET", "/metrics", "Accept", "application/openmetrics-text; version=1.0.0"));
        assertTrue(om.endsWith("# EOF\n"), "another format is another body");

        scenario.metrics.scheduler().preempted("ollama");
        Exposition after = Exposition.parse(body(send("GET", "/metrics")));
        assertEquals(1, after.value("nvgpu_preemptions_total{service=\"ollama\"}"), "an event makes a new body");
        assertEquals(4, after.value("nvgpu_scrapes_total"));

        scenario.time.advanceSeconds(1);
        scenario.sampler.collectOnce();
        Exposition collected = Exposition.parse(body(send("GET", "/metrics")));
        assertEquals(scenario.time.instant().getEpochSecond(), collected.value("nvgpu_last_collect_timestamp_seconds"),
                1e-3, "a published snapshot makes a new body");
    }

    /** Compression and family names as client_java's scrape handler reads them. */
    @Test
    void gzipOnlyWhenAcceptedAndNamesPercentEncodedOrNot() throws Exception {
        assertEquals("", send("GET", "/metrics", "Accept-Encoding", "gzip;q=0").headers()
                .firstValue("Content-Encoding").orElse(""));
        assertEquals("", send("GET", "/metrics", "Accept-Encoding", "identity").headers()
                .firstValue("Content-Encoding").orElse(""));
        assertEquals("", send("GET", "/metrics").headers().firstValue("Content-Encoding").orElse(""));
        HttpResponse<byte[]> gzip = send("GET", "/metrics", "Accept-Encoding", "deflate, gzip");
        assertEquals("gzip", gzip.headers().firstValue("Content-Encoding").orElse(""));
        assertEquals(Long.toString(gzip.body().length), gzip.headers().firstValue("Content-Length").orElse(""),
                "sent with its length, not chunked");
        Exposition e = Exposition.parse(body(send("GET", "/metrics?name%5B%5D=nvgpu_up&x=1&name[]=nvgpu_info&name[]=")));
        assertEquals(java.util.Set.of("nvgpu_up", "nvgpu_info"), e.names(), e.text);
    }

    @Test
    void aScrapeIsAnsweredWhileACollectIsBlockedInTheDriver() throws Exception {
        BlockedCall blocked = scenario.host.blockCall("nvmlDeviceGetTemperature");
        CompletableFuture<GpuSnapshot> collect = CompletableFuture.supplyAsync(scenario.sampler::collectOnce);
        try {
            assertTrue(blocked.awaitBlocked(TIMEOUT), "the collect reached the blocked call");
            HttpResponse<byte[]> r = send("GET", "/metrics");
            assertEquals(200, r.statusCode());
            assertEquals(1, Exposition.parse(body(r)).value("nvgpu_up"));
            assertFalse(collect.isDone(), "the collect is still blocked: the scrape did not need it");
        } finally {
            blocked.release();
        }
        assertEquals(GpuSnapshot.Status.OK, collect.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS).status());
    }

    /**
     * Issue 14: two connections sending headers slowly stalled /metrics and /healthz (the listener
     * has two request threads). Forty of them now leave both answering.
     */
    @Test
    void clientsSendingHeadersSlowlyDoNotStallMetricsOrHealthz() throws Exception {
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        List<java.net.Socket> slow = new java.util.ArrayList<>();
        java.util.concurrent.CountDownLatch started = new java.util.concurrent.CountDownLatch(40);
        try {
            for (int i = 0; i < 40; i++) {
                java.net.Socket s = new java.net.Socket(InetAddress.getLoopbackAddress(), server.port());
                slow.add(s);
                Thread t = new Thread(() -> {
                    try {
                        s.getOutputStream().write("GET /metrics HTTP/1.1\r\nX: ".getBytes(StandardCharsets.US_ASCII));
                        started.countDown();
                        while (!stop.get()) {
                            s.getOutputStream().write('x');
                            Thread.sleep(100);
                        }
                    } catch (IOException | InterruptedException e) {
                        // closed
                    }
                });
                t.setDaemon(true);
                t.start();
            }
            assertTrue(started.await(TIMEOUT.toSeconds(), TimeUnit.SECONDS), "every slow client has begun");
            for (int i = 0; i < 5; i++) {
                assertEquals(200, send("GET", "/healthz").statusCode());
                assertEquals(200, send("GET", "/metrics").statusCode());
            }
        } finally {
            stop.set(true);
            for (java.net.Socket s : slow) {
                s.close();
            }
        }
    }

    @Test
    void aTakenPortIsAClearError() {
        InetSocketAddress taken = new InetSocketAddress(InetAddress.getLoopbackAddress(), server.port());
        IOException e = assertThrows(IOException.class, () -> MetricsServer.start(scenario.metrics, taken));
        assertTrue(e.getMessage().startsWith("cannot serve metrics on "), e.getMessage());
        assertTrue(e.getMessage().contains(":" + server.port()), e.getMessage());
        IOException unknown = assertThrows(IOException.class, () -> MetricsServer.start(scenario.metrics,
                InetSocketAddress.createUnresolved("no-such-host.invalid", 9848)));
        assertTrue(unknown.getMessage().contains("unknown host"), unknown.getMessage());
    }
}
