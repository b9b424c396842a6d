package org.gpuagent.exporter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.gpuagent.nvml.testing.Prerequisites;
import org.junit.jupiter.api.Test;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

/**
 * The exposition and deploy/prometheus/ against Debian's promtool: a live scrape lints clean, the
 * rules and the example configuration load, and every alert has a unit test in which it fires.
 */
class PromtoolTest {
    private static final Path RULES = Path.of("rules", "gpu-agent.rules.yml");
    private static final Path TESTS = Path.of("tests", "gpu-agent.rules.test.yml");

    @Test
    void promtoolCheckMetricsFindsNothingInALiveScrape() throws Exception {
        Path promtool = Prerequisites.requireTool("promtool");
        try (HomelabScenario s = new HomelabScenario(true);
             MetricsServer server = MetricsServer.start(s.metrics,
                     new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            s.run();
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + server.port() + "/metrics")).timeout(Duration.ofSeconds(20))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
            assertTrue(r.body().contains("nvgpu_workload_process_memory_used_bytes"), "the pid series are in too");
            Tools.Result lint = Tools.run(DeployFiles.prometheus(), r.body(), promtool.toString(), "check", "metrics");
            assertEquals("", lint.output().trim(), "promtool check metrics complained");
            assertEquals(0, lint.exitCode(), lint.output());
        }
    }

    @Test
    void promtoolCheckRulesAndConfigAccept() throws Exception {
        Path promtool = Prerequisites.requireTool("promtool");
        Tools.Result rules = Tools.run(DeployFiles.prometheus(), null, promtool.toString(), "check", "rules",
                RULES.toString());
        assertEquals(0, rules.exitCode(), rules.output());
        assertTrue(rules.output().contains("SUCCESS"), rules.output());
        Tools.Result config = Tools.run(DeployFiles.prometheus(), null, promtool.toString(), "check", "config",
                "prometheus.yml");
        assertEquals(0, config.exitCode(), config.output());
    }

    @Test
    void promtoolTestRulesPass() throws Exception {
        Path promtool = Prerequisites.requireTool("promtool");
        Tools.Result tests = Tools.run(DeployFiles.prometheus(), null, promtool.toString(), "test", "rules",
                TESTS.toString());
        assertEquals(0, tests.exitCode(), tests.output());
        assertTrue(tests.output().contains("SUCCESS"), tests.output());
    }

    @Test
    @SuppressWarnings("unchecked")
    void everyAlertHasATestInWhichItFires() throws Exception {
        Set<String> alerts = new TreeSet<>();
        for (Map<String, Object> rule : rules()) {
            alerts.add((String) rule.get("alert"));
        }
        Set<String> firing = new TreeSet<>();
        Map<String, Object> tests = (Map<String, Object>) yaml(DeployFiles.prometheus().resolve(TESTS));
        for (Object t : (List<Object>) tests.get("tests")) {
            for (Object a : (List<Object>) ((Map<String, Object>) t).getOrDefault("alert_rule_test", List.of())) {
                Map<String, Object> check = (Map<String, Object>) a;
                List<Object> expected = (List<Object>) check.get("exp_alerts");
                if (expected != null && !expected.isEmpty()) {
                    firing.add((String) check.get("alertname"));
                }
            }
        }
        assertEquals(alerts, firing, "alerts without a test in which they fire, or tests of unknown alerts");
        assertTrue(alerts.size() >= 10, alerts.toString());
    }

    @Test
    void everyRuleCarriesASeveritySummaryAndDescription() throws Exception {
        Set<String> severities = new LinkedHashSet<>();
        for (Map<String, Object> rule : rules()) {
            @SuppressWarnings("unchecked")
            Map<String, Object> labels = (Map<String, Object>) rule.get("labels");
            String severity = (String) labels.get("severity");
            assertTrue(List.of("critical", "warning", "info").contains(severity), rule.get("alert") + ": " + severity);
            severities.add(severity);
            @SuppressWarnings("unchecked")
            Map<String, Object> annotations = (Map<String, Object>) rule.get("annotations");
            assertFalse(((String) annotations.get("summary")).isBlank(), (String) rule.get("alert"));
            assertFalse(((String) annotations.getOrDefault("description", "")).isBlank(), (String) rule.get("alert"));
        }
        assertEquals(Set.of("critical", "warning", "info"), severities);
    }

    @Test
    void rulesUseOnlyMetricsTheExporterExposes() throws Exception {
        Set<String> exposed = DeployFiles.exposedNames();
        Set<String> unknown = new TreeSet<>();
        for (Map<String, Object> rule : rules()) {
            String expr = (String) rule.get("expr");
            for (String name : DeployFiles.metricNames(expr)) {
                if (!exposed.contains(name)) {
                    unknown.add(rule.get("alert") + ": " + name);
                }
            }
        }
        if (!unknown.isEmpty()) {
            fail("alert rules use metrics the exporter does not expose:\n" + String.join("\n", unknown));
        }
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> rules() throws Exception {
        Map<String, Object> file = (Map<String, Object>) yaml(DeployFiles.prometheus().resolve(RULES));
        List<Map<String, Object>> out = new java.util.ArrayList<>();
        List<String> groups = new java.util.ArrayList<>();
        for (Object g : (List<Object>) file.get("groups")) {
            Map<String, Object> group = (Map<String, Object>) g;
            groups.add((String) group.get("name"));
            for (Object r : (List<Object>) group.get("rules")) {
                out.add((Map<String, Object>) r);
            }
        }
        // The owner's alert groups (System, Storage, GPU, Containers, Services): ours are these three.
        assertEquals(List.of("GPU", "Containers", "Services"), groups);
        return out;
    }

    private static Object yaml(Path file) throws Exception {
        return new Load(LoadSettings.builder().build()).loadFromString(Files.readString(file));
    }
}
