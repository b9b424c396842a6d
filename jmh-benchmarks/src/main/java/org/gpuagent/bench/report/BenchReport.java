package org.gpuagent.bench.report;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.function.Function;
import org.gpuagent.bench.agent.AgentCapacity;
import org.gpuagent.bench.agent.CapacityChart;
import org.gpuagent.bench.report.Figure.Target;
import org.gpuagent.bench.report.Figure.Target.Kind;

/**
 * Gathers the rounds {@code bench/report} ran into {@code report.md}: each figure's median over
 * the rounds, its spread, its target and its ratio to the anchor measured in the same round, then
 * the agent capacity curve, the card replays and the GPU section.
 *
 * <p>{@code BenchReport --out DIR [--date D] [--machine TEXT] [--gpu FILE] ROUND_DIR...}
 */
public final class BenchReport {
    static final String[] BINDING_CALLS = {"errorString", "memory", "utilization", "temperature", "computeProcesses"};

    private BenchReport() {
    }

    public static void main(String[] args) throws IOException {
        Path out = null;
        String date = "";
        String machine = "";
        Path gpu = null;
        List<Path> rounds = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--out" -> out = Path.of(args[++i]);
                case "--date" -> date = args[++i];
                case "--machine" -> machine = args[++i];
                case "--gpu" -> gpu = Path.of(args[++i]);
                default -> rounds.add(Path.of(args[i]));
            }
        }
        if (out == null || rounds.isEmpty()) {
            System.err.println("usage: BenchReport --out DIR [--date D] [--machine TEXT] [--gpu FILE] ROUND_DIR...");
            System.exit(2);
        }
        List<Round> read = new ArrayList<>();
        for (Path r : rounds) {
            read.add(Round.read(r));
        }
        Optional<String> gpuSection = gpu != null && Files.exists(gpu)
                ? Optional.of(Files.readString(gpu, StandardCharsets.UTF_8)) : Optional.empty();
        Files.createDirectories(out);
        Files.writeString(out.resolve("report.md"), render(date, machine, read, gpuSection), StandardCharsets.UTF_8);
        Files.writeString(out.resolve("agent-capacity.svg"), CapacityChart.svg(medianSteps(read)), StandardCharsets.UTF_8);
    }

    /** Every figure the rounds give, in report order. */
    static List<Figure> figures(List<Round> rounds) {
        List<Figure> f = new ArrayList<>();
        String binding = "Binding vs the C floor (fake libnvidia-ml, P1000 scenario)";
        for (String call : BINDING_CALLS) {
            f.add(new Figure(binding, "`" + call + "`: JNA direct", "ns/op",
                    values(rounds, r -> jmh(r, "NvmlCallBenchmark." + call + "Direct", 1e-9)),
                    values(rounds, r -> r.floor().containsKey(call)
                            ? OptionalDouble.of(r.floor().get(call).nsPerOp()) : OptionalDouble.empty()),
                    Optional.of("C floor (same library, dlopen)"),
                    Optional.of(new Target("≤ floor + 150 ns per call", Kind.AT_MOST_OVER_ANCHOR,
                            150.0 * callsPerOp(rounds, call)))));
            if (!call.equals("errorString")) {
                f.add(new Figure(binding, "`" + call + "`: typed API", "ns/op",
                        values(rounds, r -> jmh(r, "NvmlCallBenchmark." + call + "Typed", 1e-9)), null,
                        Optional.empty(), Optional.empty()));
            }
        }
        String inside = "Sampling, exposition, decisions, planning, journal";
        f.add(jmhFigure(rounds, inside, "sample, fast fields", "SamplerCollectBenchmark.collect[cadence=fast]", "µs/op", 1e-6, null));
        f.add(jmhFigure(rounds, inside, "sample, slow fields", "SamplerCollectBenchmark.collect[cadence=slow]", "µs/op", 1e-6, null));
        f.add(jmhFigure(rounds, inside, "render `/metrics` text, 4 workloads", "ExporterRenderBenchmark.renderText[workloads=4]",
                "µs/op", 1e-6, null));
        f.add(withAnchor(rounds, jmhFigure(rounds, inside, "scrape `/metrics` over HTTP (keep-alive)",
                "ExporterScrapeBenchmark.scrape[gzip=false", "µs/op", 1e-6, null),
                "fork and exec of a trivial process (an nvidia-smi-style exporter's floor)",
                "ProcessSpawnBenchmark.forkTrivialProcess", 1e-6));
        f.add(jmhFigure(rounds, inside, "decision, 1 thread, p50", "LedgerDecisionBenchmark.decision1Thread:p0.50", "µs/op",
                1e-6, new Target("≤ 2 µs", Kind.AT_MOST, 2)));
        f.add(jmhFigure(rounds, inside, "decision, 1 thread, p99", "LedgerDecisionBenchmark.decision1Thread:p0.99", "µs/op",
                1e-6, new Target("≤ 20 µs", Kind.AT_MOST, 20)));
        f.add(jmhFigure(rounds, inside, "preemption plan, 1,000 leases (mean)", "PreemptionPlanningBenchmark.planner", "µs/op",
                1e-6, new Target("≤ 100 µs", Kind.AT_MOST, 100)));
        f.add(jmhFigure(rounds, inside, "durable admissions, 32 requesters", "DurableAdmissionBenchmark.durableAdmission32Requesters",
                "ops/s", 0, new Target("≥ 2,000 /s", Kind.AT_LEAST, 2000)));
        f.add(jmhFigure(rounds, inside, "card replay: one day, one policy", "CardReplayBenchmark.replayDay", "ms/op", 1e-3,
                new Target("≤ 1,000 ms", Kind.AT_MOST, 1000)));
        String clients = "CLI and HTTP API";
        f.add(new Figure(clients, "`gpu-agent admit` wall time (median of the round's runs)", "ms",
                values(rounds, r -> Figure.median(toArray(r.cli().get("admit")))),
                values(rounds, r -> Figure.median(toArray(r.cli().get("curl")))),
                Optional.of("`curl` sending the same admission"), Optional.of(new Target("≤ 150 ms", Kind.AT_MOST, 150))));
        f.add(new Figure(clients, "OCI hook (prestart) wall time (median of the round's runs)", "ms",
                values(rounds, r -> Figure.median(toArray(r.cli().get("hook")))),
                values(rounds, r -> Figure.median(toArray(r.cli().get("curl")))),
                Optional.of("`curl` sending the same admission"), Optional.empty()));
        f.add(new Figure(clients, "admit + release rate with p99 ≤ 20 ms", "/s",
                values(rounds, r -> bestRate(r, "admitRelease", 20)), null, Optional.empty(), Optional.empty()));
        f.add(new Figure(clients, "scrape rate with p99 ≤ 2 ms", "/s",
                values(rounds, r -> bestRate(r, "scrape", 2)), null, Optional.empty(), Optional.empty()));
        f.add(new Figure(clients, "agent RSS, highest step", "MiB",
                values(rounds, r -> r.capacity().stream().mapToDouble(c -> c.rssKiB() / 1024.0).max()), null,
                Optional.empty(), Optional.empty()));
        return f;
    }

    /** Rows from a benchmark whose name mentions a proxy (per-model admission's overhead), when one exists. */
    static List<Figure> proxyFigures(List<Round> rounds) {
        Map<String, String> names = new LinkedHashMap<>();
        for (Round r : rounds) {
            for (Round.JmhRow row : r.jmh().values()) {
                if (row.name().toLowerCase(java.util.Locale.ROOT).contains("proxy") && !row.name().contains(":p")) {
                    names.putIfAbsent(row.name(), row.unit());
                }
            }
        }
        List<Figure> f = new ArrayList<>();
        names.forEach((name, unit) -> f.add(new Figure("Proxy overhead", name, unit,
                values(rounds, r -> r.row(name).map(x -> OptionalDouble.of(x.score())).orElse(OptionalDouble.empty())),
                null, Optional.empty(), Optional.empty())));
        return f;
    }

    private static double callsPerOp(List<Round> rounds, String call) {
        return rounds.stream().filter(r -> r.floor().containsKey(call)).findFirst()
                .map(r -> (double) r.floor().get(call).callsPerOp()).orElse(1.0);
    }

    private static Figure jmhFigure(List<Round> rounds, String section, String name, String key, String unit,
            double unitSeconds, Target target) {
        return new Figure(section, name, unit, values(rounds, r -> jmh(r, key, unitSeconds)), null, Optional.empty(),
                Optional.ofNullable(target));
    }

    private static Figure withAnchor(List<Round> rounds, Figure f, String anchorName, String key, double unitSeconds) {
        return new Figure(f.section(), f.name(), f.unit(), f.values(), values(rounds, r -> jmh(r, key, unitSeconds)),
                Optional.of(anchorName), f.target());
    }

    /**
     * The score of the first row whose name starts with {@code key} (the exact percentile row
     * when {@code key} names one), converted to {@code unitSeconds} per op; 0 keeps the row's
     * own unit (a throughput).
     */
    static OptionalDouble jmh(Round r, String key, double unitSeconds) {
        for (Round.JmhRow row : r.jmh().values()) {
            boolean percentile = row.name().contains(":");
            if (row.name().startsWith(key) && (key.contains(":") || !percentile)) {
                if (unitSeconds == 0) {
                    return OptionalDouble.of(row.score());
                }
                return OptionalDouble.of(row.score() * secondsPer(row.unit()) / unitSeconds);
            }
        }
        return OptionalDouble.empty();
    }

    static double secondsPer(String unit) {
        return switch (unit) {
            case "ns/op" -> 1e-9;
            case "us/op" -> 1e-6;
            case "ms/op" -> 1e-3;
            case "s/op" -> 1;
            default -> throw new IllegalArgumentException("not a time per operation: " + unit);
        };
    }

    private static OptionalDouble bestRate(Round r, String benchmark, double p99LimitMs) {
        return r.capacity().stream().filter(c -> c.benchmark().equals(benchmark) && c.p99Ms() <= p99LimitMs)
                .mapToDouble(Round.CapacityRow::rate).max();
    }

    private static double[] toArray(List<Double> xs) {
        return xs == null ? new double[0] : xs.stream().mapToDouble(Double::doubleValue).toArray();
    }

    private static double[] values(List<Round> rounds, Function<Round, OptionalDouble> f) {
        double[] v = new double[rounds.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = f.apply(rounds.get(i)).orElse(Double.NaN);
        }
        return v;
    }

    static String render(String date, String machine, List<Round> rounds, Optional<String> gpuSection) throws IOException {
        List<Figure> figures = figures(rounds);
        StringBuilder b = new StringBuilder();
        b.append("# Benchmark report").append(date.isEmpty() ? "" : ", " + date).append("\n\n");
        b.append("Made by `bench/report` (quick profile of every benchmark, ").append(rounds.size()).append(" rounds)");
        if (!machine.isEmpty()) {
            b.append(" on ").append(machine);
        }
        b.append(". Each figure: the median of the rounds, the spread (lowest to highest), its target, and its "
                + "ratio to the anchor measured in the same round (the median of the per-round ratios).\n\n");
        b.append("## Summary\n\n").append(summary(figures)).append('\n');
        String section = null;
        for (Figure f : figures) {
            if (!f.section().equals(section)) {
                section = f.section();
                b.append("## ").append(section).append("\n\n").append(tableHeader());
            }
            b.append(row(f));
            if (f == figures.get(figures.size() - 1) || !figures.get(figures.indexOf(f) + 1).section().equals(section)) {
                b.append('\n');
            }
        }
        b.append("## Proxy overhead\n\n");
        List<Figure> proxy = proxyFigures(rounds);
        if (proxy.isEmpty()) {
            b.append("Not present: no benchmark with \"proxy\" in its name is in the benchmarks jar of this build.\n\n");
        } else {
            b.append(tableHeader());
            proxy.forEach(p -> b.append(row(p)));
            b.append('\n');
        }
        b.append("## Agent capacity\n\n").append(capacity(rounds)).append('\n');
        b.append("## Card replays\n\n").append(replays(rounds)).append('\n');
        b.append("## GPU\n\n").append(gpuSection.orElse("No NVIDIA GPU on this machine (nvidia-smi found none), so no "
                + "figures on real NVML; `bench/gpu-check` produces them on one.\n"));
        return b.toString();
    }

    static String tableHeader() {
        return "| figure | median | spread | target | ratio to anchor |\n|---|---:|---:|---|---|\n";
    }

    static String row(Figure f) {
        StringBuilder b = new StringBuilder("| ").append(f.name()).append(" | ");
        if (f.median().isEmpty()) {
            return b.append("missing | – | ").append(f.target().map(Target::text).orElse("–")).append(" | – |\n").toString();
        }
        b.append(Figure.format(f.median().getAsDouble())).append(' ').append(f.unit()).append(" | ");
        b.append(Figure.format(f.min().getAsDouble())).append('–').append(Figure.format(f.max().getAsDouble()));
        b.append(" | ").append(f.target().map(t -> t.text() + ": " + f.verdict()).orElse("")).append(" | ");
        OptionalDouble ratio = f.anchorRatio();
        if (ratio.isPresent()) {
            b.append(String.format(java.util.Locale.ROOT, "%.2fx ", ratio.getAsDouble())).append(f.anchorName().orElse(""));
            OptionalDouble anchor = Figure.median(f.anchorValues());
            anchor.ifPresent(a -> b.append(" (").append(Figure.format(a)).append(' ').append(f.unit()).append(')'));
        }
        return b.append(" |\n").toString();
    }

    /** The README's table: the figures a person asks about first. */
    static String summary(List<Figure> figures) {
        List<String> picked = List.of("`memory`: JNA direct", "sample, slow fields", "scrape `/metrics` over HTTP (keep-alive)",
                "decision, 1 thread, p99", "durable admissions, 32 requesters",
                "`gpu-agent admit` wall time (median of the round's runs)", "admit + release rate with p99 ≤ 20 ms",
                "scrape rate with p99 ≤ 2 ms", "card replay: one day, one policy");
        StringBuilder b = new StringBuilder(tableHeader());
        for (Figure f : figures) {
            if (picked.contains(f.name())) {
                b.append(row(f));
            }
        }
        return b.toString();
    }

    /** Each capacity step's median over the rounds, in the rounds' order of steps. */
    static List<AgentCapacity.Step> medianSteps(List<Round> rounds) {
        Map<String, List<Round.CapacityRow>> steps = new LinkedHashMap<>();
        for (Round r : rounds) {
            for (Round.CapacityRow c : r.capacity()) {
                steps.computeIfAbsent(c.benchmark() + "/" + c.clients(), k -> new ArrayList<>()).add(c);
            }
        }
        List<AgentCapacity.Step> out = new ArrayList<>();
        for (List<Round.CapacityRow> s : steps.values()) {
            out.add(new AgentCapacity.Step(s.get(0).benchmark(), s.get(0).clients(), med(s, Round.CapacityRow::p50Ms),
                    med(s, Round.CapacityRow::p99Ms), med(s, Round.CapacityRow::rate), (long) med(s, c -> c.rssKiB())));
        }
        return out;
    }

    /** Median of each step over the rounds, then where the targets are met. */
    static String capacity(List<Round> rounds) {
        List<AgentCapacity.Step> steps = medianSteps(rounds);
        if (steps.isEmpty()) {
            return "Missing: no round has `capacity.csv`.\n";
        }
        StringBuilder b = new StringBuilder("The real agent on the simulator, over HTTP, each client on its own keep-alive "
                + "connection sending its next request when the last is answered (medians over the rounds; rate = clients "
                + "÷ mean latency; RSS after the step):\n\n");
        b.append("| benchmark | clients | p50 | p99 | rate | agent RSS |\n|---|---:|---:|---:|---:|---:|\n");
        for (AgentCapacity.Step s : steps) {
            b.append("| ").append(s.benchmark()).append(" | ").append(s.clients()).append(" | ")
                    .append(Figure.format(s.p50Ms())).append(" ms | ").append(Figure.format(s.p99Ms())).append(" ms | ")
                    .append(Figure.format(s.ratePerSecond())).append(" /s | ")
                    .append(Figure.format(s.rssKiB() / 1024.0)).append(" MiB |\n");
        }
        b.append("\n![agent capacity](agent-capacity.svg)\n\nThe two rates in \"CLI and HTTP API\" are each round's "
                + "answer (its highest rate whose p99 meets the target) and then their median and spread; this table is "
                + "each step's median, so on a busy machine the two need not agree.\n");
        return b.toString();
    }

    private static double med(List<Round.CapacityRow> rows, java.util.function.ToDoubleFunction<Round.CapacityRow> f) {
        return Figure.median(rows.stream().mapToDouble(f).toArray()).orElse(Double.NaN);
    }

    /** The first round's replay report, and whether every round produced the same bytes. */
    static String replays(List<Round> rounds) throws IOException {
        List<String> texts = new ArrayList<>();
        for (Round r : rounds) {
            Path md = r.dir().resolve("replay").resolve("replay.md");
            if (Files.exists(md)) {
                texts.add(Files.readString(md, StandardCharsets.UTF_8));
            }
        }
        if (texts.isEmpty()) {
            return "Missing: no round has `replay/replay.md`.\n";
        }
        boolean same = texts.stream().allMatch(t -> t.equals(texts.get(0)));
        String note = same ? "The " + texts.size() + " rounds produced the same report byte for byte (one seed).\n\n"
                : "**The rounds' replay reports differ: the replay is not deterministic.**\n\n";
        // Headings one level down, charts in replay/.
        String body = texts.get(0).replaceAll("(?m)^(#+) ", "#$1 ").replaceAll("\\]\\(([^)]+\\.svg)\\)", "](replay/$1)");
        return note + body;
    }
}
