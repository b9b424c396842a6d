package org.gpuagent.exporter;

import static org.gpuagent.exporter.PrometheusServer.labels;
import static org.gpuagent.exporter.PrometheusServer.value;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.gpuagent.nvml.sim.GpuProfile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real Prometheus server (Debian's package) scrapes the exporter every second, loads the alert
 * rules, and its HTTP API returns the series with the values the simulated P1000 has; a burst of
 * denials inside one scrape interval fires AdmissionsDeniedRepeatedly.
 */
class PrometheusServerTest {

    @Test
    void prometheusScrapesTheExporterAndAnswersQueries(@TempDir Path dir) throws Exception {
        try (HomelabScenario s = HomelabScenario.started();
             MetricsServer server = MetricsServer.start(s.metrics,
                     new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
             PrometheusServer prometheus = PrometheusServer.start(dir, server.port())) {
            Map<String, Object> total = prometheus.awaitSeries("nvgpu_memory_total_bytes");
            assertEquals(4294967296.0, value(total));
            Map<String, Object> labels = labels(total);
            assertEquals("0", labels.get("gpu"));
            assertEquals(GpuProfile.QUADRO_P1000.identity().uuid(), labels.get("uuid"));
            assertEquals("gpu-agent", labels.get("job"));

            assertEquals(1.0, value(prometheus.awaitSeries("nvgpu_up")));
            assertEquals(1.0, value(prometheus.awaitSeries("up{job=\"gpu-agent\"}")));
            assertEquals("Quadro P1000", labels(prometheus.awaitSeries("nvgpu_info")).get("name"));
            assertEquals(1.0, value(prometheus.awaitSeries(
                    "nvgpu_admissions_total{service=\"ollama\",outcome=\"admitted_after_preemption\"}")));
            assertEquals(1.0, value(prometheus.awaitSeries("nvgpu_xid_errors_total{xid=\"13\"}")));
            assertEquals(256.0 * 1024 * 1024, value(prometheus.awaitSeries(
                    "nvgpu_vram_leased_bytes{service=\"jellyfin\"}")));
            assertEquals(2.0, value(prometheus.awaitSeries(
                    "nvgpu_workload_processes{workload=\"frigate\",kind=\"service\"}")));

            String groups = prometheus.get("/api/v1/rules").toString();
            assertTrue(groups.contains("name=GPU") && groups.contains("name=Containers")
                    && groups.contains("name=Services"), "Prometheus loaded the alert rules: " + groups);
        }
    }

    /**
     * The case: four denials inside one scrape interval. The series exists at 0 before
     * (the agent creates it when it starts), so increase() sees all four and the alert fires.
     */
    @Test
    void aBurstOfDenialsWithinOneScrapeFiresTheAlert(@TempDir Path dir) throws Exception {
        try (HomelabScenario s = HomelabScenario.started();
             MetricsServer server = MetricsServer.start(s.metrics,
                     new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
             PrometheusServer prometheus = PrometheusServer.start(dir, server.port())) {
            String immich = "nvgpu_admissions_total{service=\"immich\",outcome=\"denied_insufficient_vram\"}";
            assertEquals(0.0, value(prometheus.awaitSeries(immich)), "scraped at 0 before any denial");
            prometheus.awaitResult("count_over_time(" + immich + "[1m])", r -> r.size() == 1 && value(r.get(0)) >= 2);
            for (int i = 0; i < 4; i++) {
                s.metrics.scheduler().denied("immich", "insufficient_vram", Duration.ZERO);
            }
            Map<String, Object> alert = prometheus.awaitFiring("AdmissionsDeniedRepeatedly",
                    Map.of("service", "immich", "severity", "warning", "job", "gpu-agent"));
            @SuppressWarnings("unchecked")
            Map<String, Object> annotations = (Map<String, Object>) alert.get("annotations");
            String summary = (String) annotations.get("summary");
            assertTrue(summary.matches("immich was denied VRAM \\d+ times in 15 minutes \\(127\\.0\\.0\\.1:\\d+\\)"),
                    "a whole number for people: " + summary);
        }
    }
}
