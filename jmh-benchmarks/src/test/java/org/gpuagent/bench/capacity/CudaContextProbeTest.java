package org.gpuagent.bench.capacity;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.gpuagent.nvml.jna.NvmlLibraryLocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The probe's answers before it measures anything: bad arguments, no NVML. */
class CudaContextProbeTest {

    @TempDir
    Path tmp;

    @Test
    void withoutLibnvidiaMlItSaysSoInOneLine() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = CudaContextProbe.run(0, NvmlLibraryLocator.exactly(tmp.resolve("absent/libnvidia-ml.so.1")),
                ordinal -> {
                    throw new AssertionError("CUDA is not asked once NVML is missing");
                }, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(CudaContextProbe.NO_GPU, rc);
        assertEquals("", out.toString(StandardCharsets.UTF_8));
        List<String> lines = err.toString(StandardCharsets.UTF_8).lines().toList();
        assertEquals(1, lines.size(), lines.toString());
        assertTrue(lines.get(0).startsWith("cuda-context-probe: no GPU here: libnvidia-ml did not load"), lines.get(0));
    }

    @Test
    void aBadArgumentIsAUsageError() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = CudaContextProbe.run(new String[] {"--cuda-device", "first"},
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), null);
        assertEquals(CudaContextProbe.USAGE, rc);
        assertEquals("cuda-context-probe: --cuda-device takes a device ordinal (0, 1, ...), got 'first'",
                err.toString(StandardCharsets.UTF_8).strip());
    }
}
