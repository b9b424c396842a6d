package org.gpuagent.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The benchmarks jar lists a benchmark for every area the capacity report covers: the list JMH's
 * annotation processor wrote ({@code META-INF/BenchmarkList}) is what {@code java -jar
 * benchmarks.jar -l} prints.
 */
class BenchmarkListTest {
    static final Map<String, List<String>> AREAS = new LinkedHashMap<>();

    static {
        AREAS.put("binding", List.of("nvml.NvmlCallBenchmark.memoryDirect"));
        AREAS.put("sampling", List.of("nvml.SamplerCollectBenchmark.collect"));
        AREAS.put("exposition", List.of("exporter.ExporterRenderBenchmark.renderText", "exporter.ExporterScrapeBenchmark.scrape"));
        AREAS.put("decisions", List.of("scheduler.LedgerDecisionBenchmark.decision1Thread"));
        AREAS.put("planning", List.of("scheduler.PreemptionPlanningBenchmark.planner"));
        AREAS.put("journal", List.of("scheduler.DurableAdmissionBenchmark.durableAdmission32Requesters"));
        AREAS.put("HTTP API", List.of("agent.AgentHttpBenchmark.admitRelease", "agent.AgentHttpBenchmark.scrape"));
        AREAS.put("card capacity", List.of("replay.CardReplayBenchmark.replayDay", "replay.CardReplayBenchmark.fitTable"));
        AREAS.put("scrape anchor", List.of("anchor.ProcessSpawnBenchmark.forkTrivialProcess"));
    }

    @Test
    void everyAreaHasItsBenchmarks() throws IOException {
        String list;
        try (InputStream in = getClass().getResourceAsStream("/META-INF/BenchmarkList")) {
            assertNotNull(in, "JMH's annotation processor wrote no benchmark list");
            list = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        TreeSet<String> missing = new TreeSet<>();
        AREAS.forEach((area, names) -> {
            for (String n : names) {
                if (!listed(list, "org.gpuagent.bench." + n)) {
                    missing.add(area + ": " + n);
                }
            }
        });
        assertEquals("", missing.stream().collect(Collectors.joining(", ")), "benchmarks missing from the jar's list");
    }

    /** A BenchmarkList line names the class and, as a separate token, the method. */
    private static boolean listed(String list, String qualified) {
        int dot = qualified.lastIndexOf('.');
        String cls = " " + qualified.substring(0, dot) + " ";
        String method = " " + qualified.substring(dot + 1) + " ";
        return list.lines().anyMatch(l -> l.contains(cls) && l.contains(method));
    }
}
