package org.gpuagent.bench.capacity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.gpuagent.nvml.jna.FakeNvmlControl;
import org.gpuagent.nvml.jna.NvmlLibraryLocator;
import org.gpuagent.nvml.testing.Prerequisites;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The probe as a program, through JCuda's real natives and the JNA binding: a fake libcuda.so.1
 * (src/test/c/fake_cuda.c) books what the probe does into the fake libnvidia-ml, so the whole
 * path from cuCtxCreate to NVML's process list runs without a GPU. Each run is its own JVM:
 * the NVML binding and JCuda's natives bind once per process.
 */
class CudaContextProbeOverFakeDriverTest {

    private static final long MIB = 1L << 20;

    @TempDir
    static Path tmp;
    private static Path fakeCuda;
    private static Path fakeNvml;

    @BeforeAll
    static void build() throws IOException, InterruptedException {
        Path gcc = Prerequisites.requireTool("gcc");
        fakeNvml = Prerequisites.requireFakeNvmlDir().resolve(NvmlLibraryLocator.SONAME).toAbsolutePath();
        Path dir = Files.createDirectories(tmp.resolve("cuda"));
        fakeCuda = dir.resolve("libcuda.so.1");
        Run r = run(List.of(gcc.toString(), "-std=c11", "-Wall", "-Wextra", "-Werror", "-O2", "-shared", "-fPIC",
                "-Wl,-soname,libcuda.so.1", "-o", fakeCuda.toString(),
                Path.of("src/test/c/fake_cuda.c").toAbsolutePath().toString(), "-ldl"), Map.of());
        assertEquals(0, r.exit(), r.err());
    }

    @Test
    void measuresTheContextAndEachAllocationAsNvmlListsThem() throws IOException, InterruptedException {
        Run r = probe(Map.of("FAKE_CUDA_CONTEXT", "300"));
        assertEquals(0, r.exit(), r.err());
        Map<String, String> kv = ContextFootprintTest.keyValues(r.out().lines().toList());
        assertEquals("Quadro P1000", kv.get("device.name"));
        assertEquals("2", kv.get("baseline.processes"), "the p1000 scenario's Frigate and Jellyfin");
        assertEquals("pid", kv.get("context.process.match"), "the fake libcuda books under the JVM's own pid");
        assertEquals(Long.toString(300 * MIB), kv.get("context.process.bytes"));
        assertEquals(Long.toString(300 * MIB), kv.get("context.device.delta.bytes"));
        assertEquals(Long.toString(256 * MIB), kv.get("alloc.256MiB.process.delta.bytes"));
        assertEquals(Long.toString(1024 * MIB), kv.get("alloc.1GiB.device.delta.bytes"));
        assertEquals("0", kv.get("alloc.1GiB.freed.process.delta.bytes"));
        assertEquals("none", kv.get("destroy.process.match"));
        assertEquals("0", kv.get("destroy.device.delta.bytes"));
        assertTrue(r.out().contains("# context: this JVM (pid " + kv.get("pid") + ") is listed with 300.0 MiB"), r.out());
        assertEquals("", r.err());
    }

    @Test
    void noDeviceIsOneLineAndExitThree() throws IOException, InterruptedException {
        Run r = probe(Map.of("FAKE_CUDA_INIT", "100"));
        assertEquals(CudaContextProbe.NO_GPU, r.exit(), r.err());
        assertEquals("", r.out());
        assertEquals(List.of("cuda-context-probe: no GPU here: cuInit answered CUDA_ERROR_NO_DEVICE (100)"),
                r.err().lines().toList());
    }

    @Test
    void anAllocationTheDriverRefusesFailsTheProbe() throws IOException, InterruptedException {
        Run r = probe(Map.of("FAKE_CUDA_FREE", "512"));
        assertEquals(CudaContextProbe.FAILED, r.exit(), r.out() + r.err());
        assertEquals(List.of("cuda-context-probe: cuMemAlloc answered CUDA_ERROR_OUT_OF_MEMORY (2) on Quadro P1000"),
                r.err().lines().toList());
    }

    private record Run(int exit, String out, String err) {
    }

    private static Run probe(Map<String, String> env) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), CudaContextProbe.class.getName()));
        Map<String, String> all = new java.util.HashMap<>(env);
        all.put("LD_LIBRARY_PATH", fakeCuda.getParent().toString());
        all.put("FAKE_CUDA_NVML", fakeNvml.toString());
        all.put("GPU_AGENT_NVML_LIBRARY", fakeNvml.toString());
        all.put("FAKE_NVML_SCENARIO", FakeNvmlControl.scenario("p1000").toString());
        // JCuda unpacks its natives into the temporary directory; keep them out of the shared /tmp.
        cmd.add(1, "-Djava.io.tmpdir=" + Files.createDirectories(tmp.resolve("jvm-tmp")));
        return run(cmd, all);
    }

    private static Run run(List<String> command, Map<String, String> env) throws IOException, InterruptedException {
        Path out = Files.createTempFile(tmp, "out", ".txt");
        Path err = Files.createTempFile(tmp, "err", ".txt");
        ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().putAll(env);
        Process p = pb.start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "still running: " + command);
        return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
    }
}
