package org.gpuagent.bench.capacity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicInteger;
import org.gpuagent.bench.capacity.ContextFootprint.Match;
import org.gpuagent.bench.capacity.ContextFootprint.Result;
import org.gpuagent.nvml.Nvml;
import org.gpuagent.nvml.sim.GpuProfile;
import org.gpuagent.nvml.sim.SimulatedDevice;
import org.gpuagent.nvml.sim.SimulatedGpuHost;
import org.gpuagent.scheduler.testing.ManualTime;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The probe's sequence and report over the simulated P1000, whose context cost is known (164 MiB). */
class ContextFootprintTest {

    private static final long MIB = ContextFootprint.MIB;
    private static final int PID = 31_337;

    private final ManualTime time = new ManualTime();
    private SimulatedGpuHost host;
    private SimulatedDevice gpu;
    private Nvml nvml;
    private final AtomicInteger pauses = new AtomicInteger();

    @BeforeEach
    void start() {
        host = SimulatedGpuHost.create(7, time, GpuProfile.QUADRO_P1000);
        gpu = host.device(0);
        gpu.startProcess(4242, "frigate").allocate(400 * MIB);
        nvml = host.open();
    }

    @AfterEach
    void stop() {
        nvml.close();
    }

    private ContextFootprint footprint(int maxReads) {
        return new ContextFootprint(nvml.device(0), PID, () -> time.nanoTime(), pauses::incrementAndGet, maxReads);
    }

    @Test
    void contextAndAllocationsReadBackAsTheSimulatorChargesThem() {
        long usedBefore = gpu.usedBytes();
        Result r = footprint(10).measure(SimulatedCudaContext.on(gpu, PID), ContextFootprint.DEFAULT_ALLOCATIONS);

        assertEquals(Match.NONE, r.baseline().match());
        assertEquals(usedBefore, r.baseline().deviceUsedBytes());
        assertEquals(Match.PID, r.context().reading().match());
        assertEquals(OptionalLong.of(164 * MIB), r.context().reading().processBytes());
        assertEquals(usedBefore + 164 * MIB, r.context().reading().deviceUsedBytes());
        assertEquals(2, r.context().reads(), "a change that shows at once settles on the second read");

        assertEquals(List.of(256 * MIB, 1024 * MIB), r.allocations().stream().map(a -> a.bytes()).toList());
        for (var a : r.allocations()) {
            assertEquals(OptionalLong.of(164 * MIB + a.bytes()), a.allocated().reading().processBytes());
            assertEquals(OptionalLong.of(164 * MIB), a.freed().reading().processBytes());
        }
        assertEquals(Match.NONE, r.destroyed().reading().match());
        assertEquals(usedBefore, r.destroyed().reading().deviceUsedBytes());
        assertTrue(gpu.process(PID).isEmpty(), "the context was destroyed");
    }

    @Test
    void reportGivesDeltasAgainstTheStepBefore() {
        Result r = footprint(10).measure(SimulatedCudaContext.on(gpu, PID), ContextFootprint.DEFAULT_ALLOCATIONS);
        Map<String, String> kv = keyValues(CudaContextProbe.report(r));

        assertEquals(Long.toString(GpuProfile.QUADRO_P1000.memory().totalBytes()), kv.get("device.memory.total.bytes"));
        assertEquals("1", kv.get("baseline.processes"));
        assertEquals("pid", kv.get("context.process.match"));
        assertEquals(Long.toString(164 * MIB), kv.get("context.process.bytes"));
        assertEquals(Long.toString(164 * MIB), kv.get("context.device.delta.bytes"));
        assertEquals(Long.toString(256 * MIB), kv.get("alloc.256MiB.process.delta.bytes"));
        assertEquals(Long.toString(256 * MIB), kv.get("alloc.256MiB.device.delta.bytes"));
        assertEquals("0", kv.get("alloc.256MiB.freed.process.delta.bytes"));
        assertEquals(Long.toString(1024 * MIB), kv.get("alloc.1GiB.process.delta.bytes"));
        assertEquals(Long.toString(1024 * MIB), kv.get("alloc.1GiB.device.delta.bytes"));
        assertEquals("0", kv.get("alloc.1GiB.freed.device.delta.bytes"));
        assertEquals("none", kv.get("destroy.process.match"));
        assertEquals("0", kv.get("destroy.device.delta.bytes"));
    }

    @Test
    void callTimesComeFromTheTicker() {
        var contexts = SimulatedCudaContext.on(gpu, PID);
        Result r = footprint(10).measure(() -> {
            time.advance(Duration.ofMillis(120));
            return contexts.get();
        }, List.of());
        assertEquals(120_000_000L, r.context().nanos());
        assertEquals("120.0", keyValues(CudaContextProbe.report(r)).get("context.create.ms"));
    }

    @Test
    void aProcessListedUnderAnotherPidIsTakenWhenItIsTheOnlyNewEntry() {
        // In a container NVML may list the host's pid, not the one the JVM sees.
        Result r = footprint(10).measure(SimulatedCudaContext.on(gpu, 900_001), List.of(256 * MIB));
        assertEquals(Match.NEW_ENTRY, r.context().reading().match());
        assertEquals(OptionalLong.of(164 * MIB), r.context().reading().processBytes());
        assertEquals("new-entry", keyValues(CudaContextProbe.report(r)).get("context.process.match"));
        assertEquals(Long.toString(256 * MIB), keyValues(CudaContextProbe.report(r)).get("alloc.256MiB.process.delta.bytes"));
    }

    @Test
    void aChangeNvmlNeverShowsIsReportedAfterTheLastRead() {
        Result r = footprint(5).measure(() -> new CudaContext() {
            @Override
            public long allocate(long bytes) {
                return 1;
            }

            @Override
            public void free(long handle) {
            }

            @Override
            public void close() {
            }
        }, List.of(256 * MIB));
        assertEquals(Match.NONE, r.context().reading().match());
        assertEquals(5, r.context().reads());
        Map<String, String> kv = keyValues(CudaContextProbe.report(r));
        assertEquals("0", kv.get("context.process.bytes"), "not listed: no bytes");
        assertEquals("0", kv.get("alloc.256MiB.device.delta.bytes"));
        assertEquals("5", kv.get("alloc.256MiB.nvml.reads"));
    }

    @Test
    void aFailedAllocationStillDestroysTheContext() {
        List<SimulatedCudaContext> made = new ArrayList<>();
        var contexts = SimulatedCudaContext.on(gpu, PID);
        CudaCallException e = assertThrows(CudaCallException.class, () -> footprint(10).measure(() -> {
            SimulatedCudaContext c = (SimulatedCudaContext) contexts.get();
            made.add(c);
            return c;
        }, List.of(256 * MIB, 8L << 30)));
        assertEquals(CudaCallException.CUDA_ERROR_OUT_OF_MEMORY, e.code());
        assertEquals("cuMemAlloc", e.call());
        assertFalse(made.get(0).process().isRunning(), "the context must not outlive a failed probe");
    }

    @Test
    void theProbePrintsKeyValuesThenASummary() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        String uuid = nvml.device(0).uuid();
        int rc = CudaContextProbe.measure(0, nvml, "simulated", ordinal -> new CudaContextProbe.OpenedDevice(
                        "Quadro P1000", uuid, 13000, SimulatedCudaContext.on(gpu, PID)),
                device -> new ContextFootprint(device, PID, () -> time.nanoTime(), pauses::incrementAndGet, 10),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(0, rc, err.toString(StandardCharsets.UTF_8));
        List<String> lines = out.toString(StandardCharsets.UTF_8).lines().toList();
        int firstSummary = lines.indexOf(lines.stream().filter(l -> l.startsWith("#")).findFirst().orElseThrow());
        assertTrue(lines.subList(0, firstSummary).stream().allMatch(l -> l.matches("[a-z0-9.A-Z]+=.+")), lines.toString());
        assertTrue(lines.subList(firstSummary, lines.size()).stream().allMatch(l -> l.startsWith("# ")), lines.toString());
        Map<String, String> kv = keyValues(lines.subList(0, firstSummary));
        assertEquals(uuid, kv.get("device.uuid"));
        assertEquals("13000", kv.get("cuda.driver.version"));
        assertTrue(lines.get(firstSummary + 1).contains("is listed with 164.0 MiB"), lines.get(firstSummary + 1));
        assertEquals("", err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void aCudaDeviceNvmlDoesNotListIsAFailureNotAMeasurement() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = CudaContextProbe.measure(0, nvml, "simulated", ordinal -> new CudaContextProbe.OpenedDevice(
                        "Other", "GPU-00000000-0000-0000-0000-000000000000", 13000, SimulatedCudaContext.on(gpu, PID)),
                device -> footprint(10), new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(CudaContextProbe.FAILED, rc);
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("is not among NVML's 1 device(s)"), err.toString());
        assertTrue(gpu.process(PID).isEmpty(), "no context was made");
    }

    static Map<String, String> keyValues(List<String> lines) {
        Map<String, String> kv = new LinkedHashMap<>();
        for (String l : lines) {
            int eq = l.indexOf('=');
            if (!l.startsWith("#") && eq > 0) {
                assertFalse(kv.containsKey(l.substring(0, eq)), "duplicate key " + l);
                kv.put(l.substring(0, eq), l.substring(eq + 1));
            }
        }
        return kv;
    }
}
