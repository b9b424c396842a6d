package org.gpuagent.bench.nvml;

import java.nio.file.Path;
import java.time.InstantSource;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.gpuagent.nvml.jna.NativeNvml;
import org.gpuagent.nvml.jna.NvmlLibraryLocator;
import org.gpuagent.nvml.sampler.GpuSnapshot;
import org.gpuagent.nvml.sampler.Sampler;
import org.gpuagent.nvml.sampler.SamplerConfig;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jol.info.GraphLayout;

/**
 * One whole sample through the JNA binding: {@code Sampler.collectOnce()} over every device, cheap
 * fields only ({@code fast}) or with the process lists, per-process samples and PCIe
 * ({@code slow}).
 *
 * <p>Run with {@code -prof gc}: {@code gc.alloc.rate.norm} is what one collect allocates. At
 * the start of each trial the benchmark prints the size of the objects the last snapshot holds that
 * the snapshot before it did not (JOL), i.e. what a collect must allocate to publish a new
 * snapshot. When the two figures agree, a sample allocates nothing beyond the snapshot.
 *
 * <p>The library: {@code GPU_AGENT_NVML_LIBRARY} (the fake needs {@code FAKE_NVML_SCENARIO}), else
 * the production search.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Djdk.attach.allowAttachSelf=true", "-Djol.magicFieldOffset=true"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class SamplerCollectBenchmark {

    @Param({"fast", "slow"})
    public String cadence;

    private Sampler sampler;

    @Setup
    public void open() {
        String library = System.getenv("GPU_AGENT_NVML_LIBRARY");
        NvmlLibraryLocator locator = library == null || library.isBlank()
                ? NvmlLibraryLocator.defaults(Optional.empty())
                : NvmlLibraryLocator.exactly(Path.of(library));
        SamplerConfig config = SamplerConfig.DEFAULTS.withSlowEveryTicks(cadence.equals("slow") ? 1 : Integer.MAX_VALUE);
        sampler = new Sampler(NativeNvml.opener(locator), config, InstantSource.system(), System::nanoTime);
        GpuSnapshot first = sampler.collectOnce();
        if (first.status() != GpuSnapshot.Status.OK || !first.errors().isEmpty()) {
            throw new IllegalStateException("the first collect is not clean: " + first.status() + " " + first.errors());
        }
        // Sized here, before any measured iteration, so that JOL's own allocations are not counted.
        GpuSnapshot previous = sampler.collectOnce();
        GpuSnapshot last = sampler.collectOnce();
        long fresh = GraphLayout.parseInstance(last).subtract(GraphLayout.parseInstance(previous)).totalSize();
        System.out.println("# snapshot-new-bytes cadence=" + cadence + " bytes=" + fresh
                + " (objects the newest snapshot holds that the one before it did not)");
    }

    @Benchmark
    public GpuSnapshot collect() {
        return sampler.collectOnce();
    }

    @TearDown(Level.Trial)
    public void close() {
        sampler.close();
    }
}
