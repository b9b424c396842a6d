package org.gpuagent.exporter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.jr.ob.JSON;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The Grafana dashboard: importable as exported dashboards are, and every query names real metrics. */
class DashboardTest {
    private static Map<String, Object> dashboard;
    private static List<Map<String, Object>> panels;

    @BeforeAll
    @SuppressWarnings("unchecked")
    static void load() throws Exception {
        Path file = DeployFiles.grafana().resolve("gpu-agent-dashboard.json");
        dashboard = JSON.std.mapFrom(Files.readString(file));
        panels = new ArrayList<>();
        for (Object p : (List<Object>) dashboard.get("panels")) {
            panels.add((Map<String, Object>) p);
            Object nested = ((Map<String, Object>) p).get("panels");
            if (nested != null) {
                for (Object n : (List<Object>) nested) {
                    panels.add((Map<String, Object>) n);
                }
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static List<String> expressions() {
        List<String> exprs = new ArrayList<>();
        for (Map<String, Object> p : panels) {
            for (Object t : (List<Object>) p.getOrDefault("targets", List.of())) {
                exprs.add((String) ((Map<String, Object>) t).get("expr"));
            }
        }
        for (Object v : (List<Object>) ((Map<String, Object>) dashboard.get("templating")).get("list")) {
            exprs.add((String) ((Map<String, Object>) v).get("definition"));
        }
        return exprs;
    }

    @Test
    @SuppressWarnings("unchecked")
    void itIsAnExportedDashboardForCurrentGrafana() {
        assertTrue(((Number) dashboard.get("schemaVersion")).intValue() >= 39);
        assertNotNull(dashboard.get("uid"));
        assertNotNull(dashboard.get("title"));
        List<Object> inputs = (List<Object>) dashboard.get("__inputs");
        Map<String, Object> ds = (Map<String, Object>) inputs.get(0);
        assertEquals("DS_PROMETHEUS", ds.get("name"));
        assertEquals("datasource", ds.get("type"));
        assertEquals("prometheus", ds.get("pluginId"));
        assertTrue(dashboard.get("id") == null, "an exported dashboard has no database id");
    }

    @Test
    @SuppressWarnings("unchecked")
    void everyPanelIsWellFormedAndUsesTheImportedDatasource() {
        Set<Object> ids = new HashSet<>();
        for (Map<String, Object> p : panels) {
            String title = (String) p.get("title");
            assertTrue(ids.add(p.get("id")), "duplicate panel id " + p.get("id"));
            assertNotNull(p.get("type"), title);
            Map<String, Object> grid = (Map<String, Object>) p.get("gridPos");
            int x = ((Number) grid.get("x")).intValue();
            int w = ((Number) grid.get("w")).intValue();
            assertTrue(x >= 0 && w > 0 && x + w <= 24, title + ": gridPos outside the 24 columns");
            if ("row".equals(p.get("type"))) {
                continue;
            }
            assertEquals("${DS_PROMETHEUS}", ((Map<String, Object>) p.get("datasource")).get("uid"), title);
            List<Object> targets = (List<Object>) p.get("targets");
            assertFalse(targets.isEmpty(), title + " has no query");
            Set<Object> refIds = new HashSet<>();
            for (Object t : targets) {
                Map<String, Object> target = (Map<String, Object>) t;
                assertTrue(refIds.add(target.get("refId")), title + ": duplicate refId");
                assertFalse(((String) target.get("expr")).isBlank(), title);
            }
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void panelsDoNotOverlap() {
        List<int[]> boxes = new ArrayList<>();
        for (Map<String, Object> p : panels) {
            Map<String, Object> g = (Map<String, Object>) p.get("gridPos");
            int[] b = {((Number) g.get("x")).intValue(), ((Number) g.get("y")).intValue(),
                    ((Number) g.get("w")).intValue(), ((Number) g.get("h")).intValue()};
            for (int[] o : boxes) {
                boolean overlap = b[0] < o[0] + o[2] && o[0] < b[0] + b[2] && b[1] < o[1] + o[3] && o[1] < b[1] + b[3];
                assertFalse(overlap, p.get("title") + " overlaps another panel");
            }
            boxes.add(b);
        }
    }

    @Test
    void everyQueryUsesOnlyMetricsTheExporterExposes() {
        Set<String> exposed = DeployFiles.exposedNames();
        Set<String> unknown = new TreeSet<>();
        Set<String> used = new TreeSet<>();
        for (String expr : expressions()) {
            for (String name : DeployFiles.metricNames(expr)) {
                used.add(name);
                if (!exposed.contains(name)) {
                    unknown.add(name + "   in: " + expr);
                }
            }
        }
        if (!unknown.isEmpty()) {
            fail("the dashboard queries metrics the exporter does not expose:\n" + String.join("\n", unknown));
        }
        for (String section : List.of("nvgpu_workload_memory_used_bytes", "nvgpu_vram_budget_bytes",
                "nvgpu_vram_leased_bytes", "nvgpu_admissions_total", "nvgpu_preemptions_total",
                "nvgpu_admission_duration_seconds", "nvgpu_encoder_sessions", "nvgpu_engine_active_seconds_total",
                "nvgpu_last_collect_timestamp_seconds")) {
            assertTrue(used.contains(section), "the dashboard shows " + section);
        }
    }

    @Test
    void theNameExtractorFindsMetricsAndSkipsTheRest() {
        assertEquals(Set.of("nvgpu_a", "nvgpu_b_total", "up"), DeployFiles.metricNames(
                "sum by (service) (rate(nvgpu_b_total{x=\"nvgpu_fake\", instance=~\"$instance\"}[$__rate_interval]))"
                        + " / on (gpu) nvgpu_a{gpu=~\"${gpu}\"} and up{job=\"gpu-agent\"} or vector(0)"));
        assertEquals(Set.of(), DeployFiles.metricNames("time() - 5"));
    }
}
