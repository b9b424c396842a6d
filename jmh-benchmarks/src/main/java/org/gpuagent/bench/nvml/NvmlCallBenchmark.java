package org.gpuagent.bench.nvml;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;
import org.gpuagent.nvml.MemoryInfo;
import org.gpuagent.nvml.NvmlDevice;
import org.gpuagent.nvml.ProcessInfo;
import org.gpuagent.nvml.Utilization;
import org.gpuagent.nvml.jna.DirectCalls;
import org.gpuagent.nvml.jna.NativeNvml;
import org.gpuagent.nvml.jna.NvmlLibraryLocator;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Per-call cost of the NVML binding: {@code *Direct} is the bare direct-mapped call (JNA's cost
 * plus the library's), {@code *Typed} the typed API on top (lock, closed check, value objects).
 * {@code errorStringDirect} calls a function that is a table lookup, so it shows what crossing
 * into C costs through JNA with no work on either side.
 * {@code jmh-benchmarks/run-binding-bench.sh} runs it next to the C floor ({@code src/main/c/nvml_floor.c})
 * on the same library and prints the comparison.
 *
 * <p>The library: {@code GPU_AGENT_NVML_LIBRARY} (a file), else the production search. The fake
 * library needs {@code FAKE_NVML_SCENARIO}. Device: {@code GPU_AGENT_NVML_DEVICE} (default 0).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class NvmlCallBenchmark {

    private NativeNvml nvml;
    private NvmlDevice device;
    private DirectCalls direct;

    @Setup
    public void open() {
        String library = System.getenv("GPU_AGENT_NVML_LIBRARY");
        String index = System.getenv("GPU_AGENT_NVML_DEVICE");
        open(library == null || library.isBlank()
                        ? NvmlLibraryLocator.defaults(Optional.empty())
                        : NvmlLibraryLocator.exactly(Path.of(library)),
                index == null || index.isBlank() ? 0 : Integer.parseInt(index));
    }

    void open(NvmlLibraryLocator locator, int deviceIndex) {
        nvml = NativeNvml.open(locator);
        device = nvml.device(deviceIndex);
        direct = nvml.directCalls(deviceIndex);
        for (int rc : new int[] {direct.memoryInfo(), direct.utilizationRates(), direct.temperature(),
                direct.computeRunningProcesses()}) {
            if (rc != 0) {
                throw new IllegalStateException("a benchmarked call fails on " + nvml.libraryLocation() + ": " + rc);
            }
        }
        System.out.println("# NVML " + nvml.libraryLocation() + " driver " + nvml.driverVersion() + ", device "
                + device.name() + "; memory " + direct.memoryInfoFunction() + ", processes "
                + direct.computeProcessesFunction());
    }

    @TearDown
    public void close() {
        nvml.close();
    }

    /** JNA's own cost: the C side is a table lookup. There is no typed counterpart. */
    @Benchmark
    public long errorStringDirect() {
        return direct.errorString();
    }

    @Benchmark
    public int memoryDirect() {
        return direct.memoryInfo();
    }

    @Benchmark
    public MemoryInfo memoryTyped() {
        return device.memory();
    }

    @Benchmark
    public int utilizationDirect() {
        return direct.utilizationRates();
    }

    @Benchmark
    public Optional<Utilization> utilizationTyped() {
        return device.utilization();
    }

    @Benchmark
    public int temperatureDirect() {
        return direct.temperature();
    }

    @Benchmark
    public OptionalInt temperatureTyped() {
        return device.temperatureCelsius();
    }

    /** The size query and the fill: two calls, as the C floor makes them. */
    @Benchmark
    public int computeProcessesDirect() {
        return direct.computeRunningProcesses();
    }

    @Benchmark
    public List<ProcessInfo> computeProcessesTyped() {
        return device.computeProcesses();
    }
}
