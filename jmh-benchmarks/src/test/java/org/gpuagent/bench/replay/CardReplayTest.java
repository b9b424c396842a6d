package org.gpuagent.bench.replay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CardReplayTest {
    static final String TABLE = """
            rows:
              - {kind: cam, service: frigate, vram: 1GiB, source: test}
              - {kind: stream, service: jellyfin, vram: 1GiB, source: test}
              - {kind: model, service: ollama, vram: 2GiB, source: test}
            """;

    static final String TINY = """
            name: tiny
            card: quadro-p1000
            seed: 7
            table: table.yaml
            services:
              frigate: {priority: critical, request: 1GiB}
              jellyfin: {priority: interactive, request: 1GiB, wait: 30s}
              ollama: {priority: opportunistic, request: 2GiB, preemptible: true, wait: 1m, evicts-in: 5s}
            workloads:
              - {kind: cam, from: "00:00", to: "24:00"}
              - {kind: stream, from: "18:00", to: "20:00", every: 10m, jitter: 10m, lasts: 30m}
              - {kind: model, from: "17:00", to: "21:00", every: 30m, jitter: 20m, lasts: 20m}
            policies:
              - name: per request
              - name: service leases
                per-request: false
            fit:
              streams: [stream]
              beside:
                - {name: cams, kinds: [cam]}
                - {name: cams and model, kinds: [cam, model]}
            """;

    @TempDir
    Path dir;

    Path write(String scenario) throws IOException {
        Files.writeString(dir.resolve("table.yaml"), TABLE);
        Path p = dir.resolve("day.yaml");
        Files.writeString(p, scenario);
        return p;
    }

    @Test
    void sameSeedSameReportByteForByte() throws Exception {
        Path p = write(TINY);
        ReplayReport.Rendered first = ReplayReport.render(ScenarioLoader.load(p));
        ReplayReport.Rendered second = ReplayReport.render(ScenarioLoader.load(p));
        assertEquals(first.markdown(), second.markdown());
        assertEquals(first.charts(), second.charts());
        ReplayReport.Rendered otherSeed = ReplayReport.render(ScenarioLoader.load(write(TINY.replace("seed: 7", "seed: 8"))));
        assertNotEquals(first.markdown(), otherSeed.markdown(), "the seed drives the arrivals");
    }

    @Test
    void perRequestAdmissionQueuesAndPreemptsWhereServiceLeasesRunOutOfMemory() throws Exception {
        Scenario s = ScenarioLoader.load(write(TINY));
        ReplayOutcome perRequest = CardReplay.replay(s, s.policies().get(0));
        ReplayOutcome serviceLeases = CardReplay.replay(s, s.policies().get(1));
        // 3.8 GiB of budget: the camera's 1 GiB, then streams (1 GiB each, interactive) evict the model.
        assertEquals(1, perRequest.services().get("frigate").admitted);
        assertTrue(perRequest.services().get("ollama").preempted > 0, "streams preempt the model");
        assertEquals(0, perRequest.services().values().stream().mapToInt(x -> x.outOfMemory).sum(),
                "admitted work always fits on the card");
        assertTrue(perRequest.peakCommittedBytes() <= perRequest.budgetBytes());
        int arrived = perRequest.services().values().stream().mapToInt(x -> x.arrived).sum();
        int accounted = perRequest.services().values().stream().mapToInt(x -> x.admitted + x.denied).sum();
        assertEquals(arrived, accounted, "every arrival is admitted or denied once");
        assertTrue(serviceLeases.services().get("jellyfin").outOfMemory > 0,
                "one 1 GiB lease for all streams: the card refuses the ones beyond it");
    }

    @Test
    void aRequestStillWaitingAtMidnightIsWithdrawnAndCountsAsDenied() throws Exception {
        Scenario s = ScenarioLoader.load(write("""
                name: late
                card: quadro-p1000
                table: table.yaml
                services:
                  frigate: {priority: critical, request: 1GiB}
                  jellyfin: {priority: interactive, request: 1GiB, wait: 5m}
                workloads:
                  - {kind: cam, count: 3, from: "00:00", to: "24:00"}
                  - {kind: stream, from: "23:59", to: "24:00", every: 1m, lasts: 10m}
                """));
        ReplayOutcome o = CardReplay.replay(s, s.policies().get(0));
        ReplayOutcome.ServiceStats jellyfin = o.services().get("jellyfin");
        assertEquals(1, jellyfin.arrived);
        assertEquals(0, jellyfin.admitted);
        assertEquals(1, jellyfin.denied, "3 GiB of cameras leave 0.8 GiB: the stream waits until midnight");
        assertEquals(CardReplay.DAY, o.marks().get(0).at());
    }

    @Test
    void fitTableCountsStreamsBesideTheBackground() throws Exception {
        Scenario s = ScenarioLoader.load(write(TINY));
        StreamFit.Row row = StreamFit.table(s, s.policies().get(0)).get(0);
        // Budget 4096 - 204.8 MiB = 3891 MiB; the camera holds 1 GiB: two 1 GiB streams fit.
        assertEquals(new StreamFit.Cell(2, 2, 0), row.cells().get(0));
        // Beside the 2 GiB model: one fits, two once the model is evicted.
        assertEquals(new StreamFit.Cell(0, 2, 0), row.cells().get(1));
    }

    @Test
    void cliWritesTheReportAndOneChartPerPolicy() throws Exception {
        Path p = write(TINY);
        Path out = dir.resolve("out");
        assertEquals(0, ReplayMain.run(new String[] {p.toString(), "--out", out.toString()}));
        String md = Files.readString(out.resolve("replay.md"), StandardCharsets.UTF_8);
        assertTrue(md.contains("### Policy: per request"), md);
        assertTrue(md.contains("| stream (1 GiB) |"), md);
        try (Stream<Path> files = Files.list(out)) {
            assertEquals("day-per-request.svg,day-service-leases.svg,replay.md",
                    files.map(f -> f.getFileName().toString()).sorted().collect(Collectors.joining(",")));
        }
        String svg = Files.readString(out.resolve("day-per-request.svg"));
        assertTrue(svg.startsWith("<svg") && svg.contains("budget") && svg.contains("▼"), svg);
    }

    @Test
    void theBundledScenarioLoadsAndReplays() throws Exception {
        Path scenario = Path.of("..", "bench", "scenarios", "homelab-day.yaml");
        Scenario s = ScenarioLoader.load(scenario);
        assertTrue(s.policies().size() >= 4);
        ReplayOutcome o = CardReplay.replay(s, s.policies().get(0));
        assertEquals(3, o.services().get("frigate").admitted, "detector and two decoders, all day");
    }
}
