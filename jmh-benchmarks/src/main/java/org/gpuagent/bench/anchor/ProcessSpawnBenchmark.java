package org.gpuagent.bench.anchor;

import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The anchor for the scrape path: an {@code nvidia-smi}-style exporter forks and executes a
 * program on every scrape. Here the program is {@code /bin/true} (it does nothing), so this is the
 * floor of that design on this machine, before {@code nvidia-smi}'s own 21-25 ms (measured on the
 * H200 reference host). {@code bench/report} divides the agent's scrape time by it.
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
public class ProcessSpawnBenchmark {
    @Benchmark
    public int forkTrivialProcess() throws IOException, InterruptedException {
        return new ProcessBuilder("/bin/true").start().waitFor();
    }
}
