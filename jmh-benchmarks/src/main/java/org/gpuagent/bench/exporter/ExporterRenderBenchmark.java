package org.gpuagent.bench.exporter;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Rendering the exporter's families (nvgpu_*, the Dropwizard bridge; JVM metrics off) for one
 * P1000 and the four services, and with 50 workloads: what a scrape costs beyond HTTP. Targets:
 * median ≤ 100 µs (default set), ≤ 500 µs (50 workloads) for {@code renderText}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class ExporterRenderBenchmark {
    private static final Predicate<String> ALL = name -> true;
    private static final String OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8";

    @Param({"4", "50"})
    public int workloads;

    private HomelabMetrics home;
    private HomelabMetrics homeWithJvm;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream(64 * 1024);

    @Setup(Level.Trial)
    public void setUp() {
        home = new HomelabMetrics(workloads, false);
        homeWithJvm = new HomelabMetrics(workloads, true);
    }

    /** A scrape in steady state: cached text of the published families plus the live ones. */
    @Benchmark
    public int renderText() throws IOException {
        out.reset();
        home.metrics.write(out, null);
        return out.size();
    }

    @Benchmark
    public int renderOpenMetrics() throws IOException {
        out.reset();
        home.metrics.write(out, OPENMETRICS);
        return out.size();
    }

    /** Every family collected and rendered from its snapshot: what the first scrape after a publish costs at most. */
    @Benchmark
    public int renderFullCollect() throws IOException {
        out.reset();
        home.metrics.write(out, null, ALL);
        return out.size();
    }

    /** The steady-state scrape with client_java's JVM metrics, as /metrics serves it. */
    @Benchmark
    public int renderWithJvm() throws IOException {
        out.reset();
        homeWithJvm.metrics.write(out, null);
        return out.size();
    }

    /** Once per snapshot, on the sampler thread: families built, counters integrated. */
    @Benchmark
    public Object publish() {
        home.metrics.publish(home.snapshot, home.workloads);
        return home.metrics;
    }
}
