package org.gpuagent.exporter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.jr.ob.JSON;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.gpuagent.nvml.sampler.GpuSnapshot;
import org.gpuagent.nvml.sim.SimulatedDevice;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Grafana dashboard: one file that imports by the UI and provisions from a file, every query
 * names real metrics, and every query returns data from a real Prometheus on the simulator.
 */
class DashboardTest {
    private static final Map<String, Object> DATASOURCE = Map.of("type", "prometheus", "uid", "${datasource}");
    /** {@code label_values(SELECTOR, LABEL)}: a variable query, answered from the series SELECTOR matches. */
    private static final Pattern LABEL_VALUES = Pattern.compile("label_values\\((.*),\\s*([A-Za-z_][A-Za-z0-9_]*)\\)");
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
            Object definition = ((Map<String, Object>) v).get("definition");
            if (definition != null) {
                exprs.add((String) definition);
            }
        }
        return exprs;
    }

    /**
     * One file for both ways in: Grafana's file provisioning leaves an import input such as
     * {@code ${DS_PROMETHEUS}} empty, so the dashboard names its Prometheus through a datasource
     * variable, which the UI import and the provisioner both fill (with the default Prometheus,
     * or the one picked in the dropdown).
     */
    @Test
    @SuppressWarnings("unchecked")
    void itProvisionsFromAFileAndImportsByTheUi() throws Exception {
        assertTrue(((Number) dashboard.get("schemaVersion")).intValue() >= 39);
        assertNotNull(dashboard.get("uid"));
        assertNotNull(dashboard.get("title"));
        assertTrue(dashboard.get("id") == null, "an exported dashboard has no database id");
        assertFalse(dashboard.containsKey("__inputs"), "import inputs stay empty under file provisioning");
        String text = Files.readString(DeployFiles.grafana().resolve("gpu-agent-dashboard.json"));
        assertFalse(text.contains("${DS_"), "no import input is referenced anywhere");
        List<Object> variables = (List<Object>) ((Map<String, Object>) dashboard.get("templating")).get("list");
        Map<String, Object> ds = (Map<String, Object>) variables.get(0);
        assertEquals("datasource", ds.get("name"));
        assertEquals("datasource", ds.get("type"));
        assertEquals("prometheus", ds.get("query"));
        for (Object v : variables.subList(1, variables.size())) {
            assertEquals(DATASOURCE, ((Map<String, Object>) v).get("datasource"), String.valueOf(((Map<?, ?>) v).get("name")));
        }
        Map<String, Object> instance = variables.stream().map(v -> (Map<String, Object>) v)
                .filter(v -> "instance".equals(v.get("name"))).findFirst().orElseThrow();
        assertEquals(Boolean.TRUE, instance.get("multi"), "several hosts can be shown together");
        assertEquals(Boolean.TRUE, instance.get("includeAll"));
    }

    @Test
    @SuppressWarnings("unchecked")
    void everyPanelIsWellFormedAndUsesTheDatasourceVariable() {
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
            assertEquals(DATASOURCE, p.get("datasource"), title);
            List<Object> targets = (List<Object>) p.get("targets");
            assertFalse(targets.isEmpty(), title + " has no query");
            Set<Object> refIds = new HashSet<>();
            for (Object t : targets) {
                Map<String, Object> target = (Map<String, Object>) t;
                assertTrue(refIds.add(target.get("refId")), title + ": duplicate refId");
                assertEquals(DATASOURCE, target.get("datasource"), title);
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
                "nvgpu_last_collect_timestamp_seconds", "nvgpu_encoder_average_fps",
                "nvgpu_encoder_average_latency_seconds", "nvgpu_pcie_throughput_bytes_per_second",
                "nvgpu_pcie_link_generation", "nvgpu_pcie_link_max_generation", "nvgpu_pcie_link_width",
                "nvgpu_pcie_link_max_width", "nvgpu_bar1_memory_used_bytes", "nvgpu_bar1_memory_total_bytes",
                "nvgpu_clocks_event_reason_seconds_total", "nvgpu_power_limit_min_watts",
                "nvgpu_power_limit_max_watts", "nvgpu_power_limit_default_watts",
                "nvgpu_xid_last_seen_timestamp_seconds")) {
            assertTrue(used.contains(section), "the dashboard shows " + section);
        }
    }

    /**
     * Every panel query and variable query, as Grafana would send it with "All" selected, returns
     * data from a real Prometheus scraping the simulated homelab (plus a container no service
     * claims and a power-capped GPU, so that the panels showing those have something to show).
     */
    @Test
    @SuppressWarnings("unchecked")
    void everyQueryReturnsDataFromARealPrometheusOnTheSimulator(@TempDir Path dir) throws Exception {
        try (HomelabScenario s = new HomelabScenario(false)) {
            s.run();
            SimulatedDevice gpu = s.host.device(0);
            gpu.startProcess(4600, "comfyui").allocate(300 * HomelabScenario.MIB).setLoad(100, 0, 0);
            s.attribution.put(4600, new WorkloadRef("comfyui", WorkloadKind.CONTAINER));
            s.time.advanceSeconds(1);
            GpuSnapshot capped = s.sampler.collectOnce();
            assertTrue(capped.devices().get(0).clockEventReasons().orElse(0) != 0,
                    "some clock event reason is active, so the panel of active reasons has data");
            try (MetricsServer server = MetricsServer.start(s.metrics,
                         new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                 PrometheusServer prometheus = PrometheusServer.start(dir, server.port())) {
                List<String> checked = new ArrayList<>();
                for (Map<String, Object> p : panels) {
                    for (Object t : (List<Object>) p.getOrDefault("targets", List.of())) {
                        String expr = grafanaSubstitutes((String) ((Map<String, Object>) t).get("expr"));
                        prometheus.awaitResult(expr, r -> !r.isEmpty());
                        checked.add(expr);
                    }
                }
                for (Object v : (List<Object>) ((Map<String, Object>) dashboard.get("templating")).get("list")) {
                    Object definition = ((Map<String, Object>) v).get("definition");
                    if (definition == null) {
                        continue;
                    }
                    Matcher m = LABEL_VALUES.matcher((String) definition);
                    assertTrue(m.matches(), "a variable query Grafana's Prometheus source understands: " + definition);
                    String label = m.group(2);
                    prometheus.awaitResult(grafanaSubstitutes(m.group(1)),
                            r -> r.stream().anyMatch(series -> PrometheusServer.labels(series).containsKey(label)));
                    checked.add((String) definition);
                }
                assertTrue(checked.size() > 40, "checked " + checked.size() + " queries");
            }
        }
    }

    /** What Grafana puts in a query before sending it, with "All" picked in every variable. */
    private static String grafanaSubstitutes(String expr) {
        return expr.replace("$__rate_interval", "1m").replace("${instance}", ".*").replace("$instance", ".*")
                .replace("${gpu}", ".*").replace("$gpu", ".*");
    }

    @Test
    void theNameExtractorFindsMetricsAndSkipsTheRest() {
        assertEquals(Set.of("nvgpu_a", "nvgpu_b_total", "up"), DeployFiles.metricNames(
                "sum by (service) (rate(nvgpu_b_total{x=\"nvgpu_fake\", instance=~\"$instance\"}[$__rate_interval]))"
                        + " / on (gpu) nvgpu_a{gpu=~\"${gpu}\"} and up{job=\"gpu-agent\"} or vector(0)"));
        assertEquals(Set.of(), DeployFiles.metricNames("time() - 5"));
    }
}
