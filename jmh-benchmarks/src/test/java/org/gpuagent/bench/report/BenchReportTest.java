package org.gpuagent.bench.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The report generator on canned rounds: the median, spread and ratio math, and the markdown's shape. */
class BenchReportTest {
    @TempDir
    Path dir;

    private static final String HEADER = "\"Benchmark\",\"Mode\",\"Threads\",\"Samples\",\"Score\",\"Score Error (99.9%)\","
            + "\"Unit\",\"Param: cadence\",\"Param: gzip\"\n";

    Round round(int n, double memoryNs, double floorNs, double scrapeUs, double forkUs, double decisionP50Us,
            String extraCsv, boolean replay) throws IOException {
        Path d = dir.resolve("round-" + n);
        Files.createDirectories(d);
        Files.writeString(d.resolve("jmh.csv"), HEADER
                + "\"org.gpuagent.bench.nvml.NvmlCallBenchmark.memoryDirect\",\"avgt\",1,2," + memoryNs + ",NaN,\"ns/op\",,\n"
                + "\"org.gpuagent.bench.nvml.SamplerCollectBenchmark.collect\",\"avgt\",1,2,5.5,NaN,\"us/op\",fast,\n"
                + "\"org.gpuagent.bench.exporter.ExporterScrapeBenchmark.scrape\",\"sample\",1,900," + scrapeUs
                + ",1.0,\"us/op\",,false\n"
                + "\"org.gpuagent.bench.anchor.ProcessSpawnBenchmark.forkTrivialProcess\",\"sample\",1,900," + forkUs
                + ",1.0,\"us/op\",,\n"
                + "\"org.gpuagent.bench.scheduler.LedgerDecisionBenchmark.decision1Thread\",\"sample\",1,900,9.0,1.0,\"us/op\",,\n"
                + "\"org.gpuagent.bench.scheduler.LedgerDecisionBenchmark.decision1Thread:p0.50\",\"sample\",1,1,"
                + decisionP50Us + ",NaN,\"us/op\",,\n"
                + "\"org.gpuagent.bench.scheduler.DurableAdmissionBenchmark.durableAdmission32Requesters\",\"thrpt\",32,2,"
                + (9000 + n * 1000) + ",NaN,\"ops/s\",,\n"
                + extraCsv);
        Files.writeString(d.resolve("floor.txt"), "floor call=memory function=nvmlDeviceGetMemoryInfo_v2 ns_per_op=" + floorNs
                + " ns_best=20.0 calls_per_op=1 iterations=300000 rounds=3\n");
        Files.writeString(d.resolve("cli.csv"), "what,ms\nadmit,120\ncurl,12\nadmit," + (100 + n * 10) + "\ncurl,10\nadmit,130\ncurl,11\n");
        Files.writeString(d.resolve("capacity.csv"), "benchmark,clients,p50_ms,p99_ms,rate,rss_kib\n"
                + "admitRelease,1,4.0,15.0,200.0,62000\nadmitRelease,4,4.0," + (18 + n) + ",900.0,64000\n"
                + "scrape,1,0.1,1.5,9000.0,66000\nscrape,4,0.2,3.0,15000.0,67000\n");
        if (replay) {
            Files.createDirectories(d.resolve("replay"));
            Files.writeString(d.resolve("replay").resolve("replay.md"), "## Card replay: x\n\n![c](x-default.svg)\n");
        }
        return Round.read(d);
    }

    List<Round> rounds(String extraCsv) throws IOException {
        List<Round> r = new ArrayList<>();
        r.add(round(1, 200, 30, 100, 1000, 1.2, extraCsv, true));
        r.add(round(2, 180, 25, 110, 1100, 1.5, extraCsv, true));
        r.add(round(3, 220, 35, 90, 900, 1.3, extraCsv, true));
        return r;
    }

    Figure figure(List<Figure> all, String name) {
        return all.stream().filter(f -> f.name().equals(name)).findFirst().orElseThrow(() -> new AssertionError(name));
    }

    @Test
    void medianSpreadAndRatioToTheAnchorOfTheSameRound() throws IOException {
        List<Figure> all = BenchReport.figures(rounds(""));
        Figure memory = figure(all, "`memory`: JNA direct");
        assertEquals(200, memory.median().getAsDouble());
        assertEquals(180, memory.min().getAsDouble());
        assertEquals(220, memory.max().getAsDouble());
        // Per round 200/30, 180/25, 220/35 = 6.67, 7.2, 6.29: the median ratio is round 1's, not 200/30 by chance.
        assertEquals(200.0 / 30, memory.anchorRatio().getAsDouble(), 1e-9);
        // 200 - 30 = 170 ns over the floor: more than 150.
        assertEquals("**not met**", memory.verdict());
        Figure scrape = figure(all, "scrape `/metrics` over HTTP (keep-alive)");
        assertEquals(0.1, scrape.anchorRatio().getAsDouble(), 1e-9);
        Figure p50 = figure(all, "decision, 1 thread, p50");
        assertEquals(1.3, p50.median().getAsDouble(), 1e-9);
        assertEquals("met", p50.verdict());
        Figure cli = figure(all, "`gpu-agent admit` wall time (median of the round's runs)");
        assertEquals(120, cli.median().getAsDouble(), 1e-9);
        assertEquals(120.0 / 11, cli.anchorRatio().getAsDouble(), 1e-9);
        // Round 1 and 2 keep 4 clients under 20 ms (p99 19, 20); round 3 (21) only 1 client.
        assertEquals(900, figure(all, "admit + release rate with p99 ≤ 20 ms").median().getAsDouble(), 1e-9);
        assertEquals(10_000 + 1000, figure(all, "durable admissions, 32 requesters").median().getAsDouble(), 1e-9);
        assertEquals(Optional.empty().isPresent(), figure(all, "sample, slow fields").median().isPresent(),
                "a figure no round measured stays missing");
    }

    @Test
    void evenCountsTakeTheMeanOfTheMiddleTwo() {
        assertEquals(2.5, Figure.median(new double[] {4, 1, 2, 3}).getAsDouble());
        assertEquals(3, Figure.median(new double[] {Double.NaN, 3}).getAsDouble());
        assertTrue(Figure.median(new double[] {Double.NaN}).isEmpty());
    }

    @Test
    void markdownShape() throws IOException {
        String md = BenchReport.render("2026-12-06", "2 cores", rounds(""), Optional.empty());
        assertTrue(md.startsWith("# Benchmark report, 2026-12-06\n\nMade by `bench/report` (quick profile of every "
                + "benchmark, 3 rounds) on 2 cores."), md);
        for (String heading : List.of("## Summary", "## Binding vs the C floor (fake libnvidia-ml, P1000 scenario)",
                "## Sampling, exposition, decisions, planning, journal", "## CLI and HTTP API", "## Proxy overhead",
                "## Agent capacity", "## Card replays", "## GPU")) {
            assertTrue(md.contains("\n" + heading + "\n\n"), heading);
        }
        assertTrue(md.contains("| `memory`: JNA direct | 200 ns/op | 180–220 | ≤ floor + 150 ns per call: **not met** "
                + "| 6.67x C floor (same library, dlopen) (30.0 ns/op) |\n"), md);
        assertTrue(md.contains("| sample, slow fields | missing | – | – | – |\n"), md);
        assertTrue(md.contains("Not present: no benchmark with \"proxy\" in its name"), md);
        assertTrue(md.contains("| admitRelease | 4 | 4.00 ms | 20.0 ms | 900 /s | 62.5 MiB |\n"), md);
        assertTrue(md.contains("same report byte for byte"), md);
        assertTrue(md.contains("### Card replay: x\n\n![c](replay/x-default.svg)"), md);
        assertTrue(md.contains("## GPU\n\nNo NVIDIA GPU on this machine"), md);
        // Every table row has the header's five columns.
        for (String line : md.split("\n")) {
            if (line.startsWith("| ") && md.contains("| figure | median |")) {
                assertTrue(line.chars().filter(c -> c == '|').count() >= 6, line);
            }
        }
    }

    @Test
    void aProxyBenchmarkIsPickedUpByName() throws IOException {
        String proxy = "\"org.gpuagent.bench.proxy.OllamaProxyBenchmark.overhead\",\"avgt\",1,2,42.0,NaN,\"us/op\",,\n";
        String md = BenchReport.render("", "", rounds(proxy), Optional.of("GPU figures\n"));
        assertTrue(md.contains("## Proxy overhead\n\n| figure | median |"), md);
        assertTrue(md.contains("| OllamaProxyBenchmark.overhead | 42.0 us/op | 42.0–42.0 |"), md);
        assertTrue(md.contains("## GPU\n\nGPU figures\n"), md);
    }
}
