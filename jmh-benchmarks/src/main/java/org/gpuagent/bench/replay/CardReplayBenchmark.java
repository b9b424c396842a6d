package org.gpuagent.bench.replay;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The card capacity replay's own cost: one scenario day under its first policy, through the real
 * controller on the simulated card in virtual time, and the stream-fit table. The target: a day
 * replays in well under a second, so {@code bench/report} can replay every policy three times.
 * Run from the repository root (the scenario path is relative to it).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Benchmark)
public class CardReplayBenchmark {
    @Param("bench/scenarios/homelab-day.yaml")
    public String scenario;

    private Scenario loaded;

    @Setup
    public void load() throws Exception {
        loaded = ScenarioLoader.load(Path.of(scenario));
    }

    @Benchmark
    public Object replayDay() {
        return CardReplay.replay(loaded, loaded.policies().get(0));
    }

    @Benchmark
    public Object fitTable() {
        return StreamFit.table(loaded, loaded.policies().get(0));
    }
}
