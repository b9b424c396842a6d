package org.gpuagent.bench.nvml;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.gpuagent.nvml.ExpectedGpu;
import org.gpuagent.nvml.jna.FakeNvmlControl;
import org.gpuagent.nvml.testing.Prerequisites;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Keeps the binding benchmark from rotting between hand runs: the C floor compiles and measures
 * the fake library, and every benchmark method answers. No timing is asserted.
 */
class NvmlBindingBenchSmokeTest {

    private static final Pattern FLOOR_LINE = Pattern.compile(
            "^floor call=(\\w+) function=(\\w+) ns_per_op=([0-9.]+) ns_best=([0-9.]+) calls_per_op=(\\d) iterations=1000 rounds=1$");

    @TempDir
    Path tmp;

    @Test
    void cFloorMeasuresTheSameFunctionsTheBindingCalls() throws IOException, InterruptedException {
        Path gcc = Prerequisites.requireTool("gcc");
        FakeNvmlControl fake = FakeNvmlControl.r580();
        Path floor = tmp.resolve("nvml_floor");
        run(List.of(gcc.toString(), "-std=c11", "-Wall", "-Wextra", "-Werror", "-O2", "-o", floor.toString(),
                Path.of("src/main/c/nvml_floor.c").toAbsolutePath().toString(), "-ldl"), Map.of());
        String out = run(List.of(floor.toString(), fake.library().toString(), "1000", "1"),
                Map.of("FAKE_NVML_SCENARIO", FakeNvmlControl.scenario("p1000").toString()));

        List<String> lines = out.lines().toList();
        assertEquals(5, lines.size(), out);
        List<String> functions = List.of("nvmlErrorString", "nvmlDeviceGetMemoryInfo_v2", "nvmlDeviceGetUtilizationRates",
                "nvmlDeviceGetTemperature", "nvmlDeviceGetComputeRunningProcesses_v3");
        List<String> calls = List.of("errorString", "memory", "utilization", "temperature", "computeProcesses");
        for (int i = 0; i < 5; i++) {
            Matcher m = FLOOR_LINE.matcher(lines.get(i));
            assertTrue(m.matches(), lines.get(i));
            assertEquals(calls.get(i), m.group(1));
            assertEquals(functions.get(i), m.group(2));
            assertTrue(Double.parseDouble(m.group(3)) > 0, lines.get(i));
        }
    }

    @Test
    void everyBenchmarkMethodAnswers() {
        FakeNvmlControl fake = FakeNvmlControl.r580().loadScenario("p1000");
        NvmlCallBenchmark bench = new NvmlCallBenchmark();
        bench.open(fake.locator(), 0);
        try {
            assertTrue(bench.errorStringDirect() != 0, "nvmlErrorString answered NULL");
            assertEquals(0, bench.memoryDirect());
            assertEquals(0, bench.utilizationDirect());
            assertEquals(0, bench.temperatureDirect());
            assertEquals(0, bench.computeProcessesDirect());
            assertEquals(ExpectedGpu.QUADRO_P1000.memoryTotalBytes(), bench.memoryTyped().totalBytes());
            assertTrue(bench.utilizationTyped().isPresent());
            assertEquals(OptionalInt.of(41), bench.temperatureTyped());
            assertEquals(2, bench.computeProcessesTyped().size());
        } finally {
            bench.close();
        }
    }

    private static String run(List<String> command, Map<String, String> env) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "still running: " + command);
        assertEquals(0, p.exitValue(), command + " said: " + out);
        return out;
    }
}
