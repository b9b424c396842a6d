package org.gpuagent.bench.agent;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.util.Statistics;

/**
 * What the agent itself sustains: starts the real daemon on the simulator (child process,
 * ephemeral ports, temporary state), then for growing client counts runs {@link AgentHttpBenchmark}
 * through JMH in this JVM (each JMH thread a client on its own connection) and records the
 * latency percentiles, the rate (clients ÷ mean latency: each client sends its next request when
 * the last one is answered) and the agent's RSS after the step. Writes {@code agent-capacity.md}
 * and {@code agent-capacity.svg}.
 *
 * <p>{@code AgentCapacity --launcher agent/target/gpu-agent --out DIR [--clients 1,2,4,8,16]
 * [--seconds 2] [--cli-runs N]}; with {@code --cli-runs} it first times {@code gpu-agent admit}
 * against {@code curl} ({@link CliWallTime}) and writes {@code cli.csv}.
 */
public final class AgentCapacity {
    /** Targets from the issue: admit/release p99 at most 20 ms, scrape p99 at most 2 ms. */
    static final double ADMIT_P99_TARGET_MS = 20;
    static final double SCRAPE_P99_TARGET_MS = 2;

    /** One step of the curve. */
    public record Step(String benchmark, int clients, double p50Ms, double p99Ms, double ratePerSecond, long rssKiB) {
    }

    private AgentCapacity() {
    }

    public static void main(String[] args) throws Exception {
        Path launcher = Path.of("agent/target/gpu-agent");
        Path out = Path.of(".");
        int[] clients = {1, 2, 4, 8, 16};
        int seconds = 2;
        int cliRuns = 0;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--launcher" -> launcher = Path.of(args[i + 1]);
                case "--out" -> out = Path.of(args[i + 1]);
                case "--clients" -> clients = Arrays.stream(args[i + 1].split(",")).mapToInt(Integer::parseInt).toArray();
                case "--seconds" -> seconds = Integer.parseInt(args[i + 1]);
                case "--cli-runs" -> cliRuns = Integer.parseInt(args[i + 1]);
                default -> {
                    System.err.println("usage: AgentCapacity [--launcher PATH] [--out DIR] [--clients 1,2,4] [--seconds N] [--cli-runs N]");
                    System.exit(2);
                }
            }
        }
        List<Step> steps = new ArrayList<>();
        StringBuilder cli = new StringBuilder("what,ms\n");
        try (RunningAgent agent = RunningAgent.start(launcher)) {
            if (cliRuns > 0) {
                CliWallTime.measure(launcher, agent, cliRuns, cli);
            }
            System.setProperty("gpuagent.bench.api", "127.0.0.1:" + agent.api().getPort());
            System.setProperty("gpuagent.bench.metrics", "127.0.0.1:" + agent.metrics().getPort());
            System.setProperty("gpuagent.bench.token", agent.token());
            for (String benchmark : List.of("admitRelease", "scrape")) {
                for (int n : clients) {
                    Statistics s = measure(benchmark, n, seconds);
                    Step step = new Step(benchmark, n, s.getPercentile(50) / 1000, s.getPercentile(99) / 1000,
                            n / (s.getMean() / 1e6), agent.rssKiB());
                    steps.add(step);
                    System.err.printf(Locale.ROOT, "agent capacity: %s, %d clients: p50 %.2f ms, p99 %.2f ms, %.0f/s, RSS %d KiB%n",
                            benchmark, n, step.p50Ms(), step.p99Ms(), step.ratePerSecond(), step.rssKiB());
                }
            }
        }
        Files.createDirectories(out);
        StringBuilder csv = new StringBuilder("benchmark,clients,p50_ms,p99_ms,rate,rss_kib\n");
        for (Step st : steps) {
            csv.append(String.format(Locale.ROOT, "%s,%d,%.4f,%.4f,%.1f,%d%n", st.benchmark(), st.clients(), st.p50Ms(),
                    st.p99Ms(), st.ratePerSecond(), st.rssKiB()));
        }
        Files.writeString(out.resolve("capacity.csv"), csv, StandardCharsets.UTF_8);
        if (cliRuns > 0) {
            Files.writeString(out.resolve("cli.csv"), cli, StandardCharsets.UTF_8);
        }
        Files.writeString(out.resolve("agent-capacity.md"), markdown(steps), StandardCharsets.UTF_8);
        Files.writeString(out.resolve("agent-capacity.svg"), CapacityChart.svg(steps), StandardCharsets.UTF_8);
        System.out.print(markdown(steps));
    }

    private static Statistics measure(String benchmark, int clients, int seconds) throws Exception {
        Options o = new OptionsBuilder()
                .include(AgentHttpBenchmark.class.getName() + "\\." + benchmark + "$")
                .forks(0)
                .threads(clients)
                .warmupIterations(1).warmupTime(TimeValue.seconds(1))
                .measurementIterations(1).measurementTime(TimeValue.seconds(seconds))
                .shouldFailOnError(true)
                .verbosity(org.openjdk.jmh.runner.options.VerboseMode.SILENT)
                .build();
        RunResult r = new Runner(o).runSingle();
        return r.getPrimaryResult().getStatistics();
    }

    /** The curve as a table, then the answers: the highest rate that meets each target. */
    static String markdown(List<Step> steps) {
        StringBuilder b = new StringBuilder();
        b.append("| benchmark | clients | p50 | p99 | rate | agent RSS |\n|---|---:|---:|---:|---:|---:|\n");
        for (Step s : steps) {
            b.append(String.format(Locale.ROOT, "| %s | %d | %.2f ms | %.2f ms | %,.0f /s | %.1f MiB |%n", s.benchmark(),
                    s.clients(), s.p50Ms(), s.p99Ms(), s.ratePerSecond(), s.rssKiB() / 1024.0));
        }
        b.append('\n').append(answer(steps, "admitRelease", ADMIT_P99_TARGET_MS, "admissions and releases"));
        b.append(answer(steps, "scrape", SCRAPE_P99_TARGET_MS, "scrapes"));
        return b.toString();
    }

    static String answer(List<Step> steps, String benchmark, double targetMs, String what) {
        Step best = null;
        for (Step s : steps) {
            if (s.benchmark().equals(benchmark) && s.p99Ms() <= targetMs && (best == null || s.ratePerSecond() > best.ratePerSecond())) {
                best = s;
            }
        }
        if (best == null) {
            return String.format(Locale.ROOT, "- %s: no step kept p99 at or under %.0f ms.%n", what, targetMs);
        }
        return String.format(Locale.ROOT, "- %s: at most %,.0f /s with p99 at or under %.0f ms (%d clients, p99 %.2f ms).%n",
                what, best.ratePerSecond(), targetMs, best.clients(), best.p99Ms());
    }
}
