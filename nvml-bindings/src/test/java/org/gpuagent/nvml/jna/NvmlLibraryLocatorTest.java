package org.gpuagent.nvml.jna;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.gpuagent.nvml.NvmlException;
import org.gpuagent.nvml.NvmlLibraryNotFoundException;
import org.gpuagent.nvml.NvmlReturn;
import org.gpuagent.nvml.testing.Prerequisites;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Library discovery with search lists the test controls, never the host's own driver. */
class NvmlLibraryLocatorTest {

    @TempDir
    Path tmp;

    @Test
    void productionSearchOrderIsConfiguredThenSonameThenDriverDirectories() {
        Path configured = tmp.resolve("nvml/libnvidia-ml.so.1");
        assertEquals(List.of(
                "configured " + configured,
                "soname libnvidia-ml.so.1",
                "/run/opengl-driver/lib/libnvidia-ml.so.1",
                "/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1",
                "/usr/lib64/libnvidia-ml.so.1",
                "/usr/local/nvidia/lib64/libnvidia-ml.so.1"),
                NvmlLibraryLocator.defaults(Optional.of(configured)).places());
        assertEquals("soname libnvidia-ml.so.1", NvmlLibraryLocator.defaults(Optional.empty()).places().get(0));
    }

    @Test
    void missingLibraryIsOneErrorNamingEveryPlaceTriedAndWhy() throws IOException {
        Path empty = Files.createDirectory(tmp.resolve("empty"));
        Path broken = Files.createDirectory(tmp.resolve("broken"));
        Files.writeString(broken.resolve(NvmlLibraryLocator.SONAME), "not an ELF file");
        Path configured = tmp.resolve("configured/libnvidia-ml.so.1");
        NvmlLibraryLocator locator = NvmlLibraryLocator.builder()
                .configured(Optional.of(configured))
                .soname("libnvidia-ml-gpu-agent-test-absent.so.1")
                .directory(empty)
                .directory(broken)
                .build();

        NvmlLibraryNotFoundException e = assertThrows(NvmlLibraryNotFoundException.class, () -> NativeNvml.open(locator));

        assertEquals(NvmlReturn.LIBRARY_NOT_FOUND, e.code());
        List<String> tried = e.tried();
        assertEquals(4, tried.size(), tried.toString());
        assertEquals("configured " + configured + " (no such file)", tried.get(0));
        assertTrue(tried.get(1).startsWith("soname libnvidia-ml-gpu-agent-test-absent.so.1 ("), tried.get(1));
        assertTrue(tried.get(1).contains("cannot open shared object file"), tried.get(1));
        assertEquals(empty.resolve(NvmlLibraryLocator.SONAME) + " (no such file)", tried.get(2));
        assertTrue(tried.get(3).startsWith(broken.resolve(NvmlLibraryLocator.SONAME) + " ("), tried.get(3));
        assertTrue(tried.get(3).contains("invalid ELF header") || tried.get(3).contains("too short"), tried.get(3));
        for (String place : tried) {
            assertTrue(e.getMessage().contains(place), e.getMessage());
        }
        assertTrue(!e.getMessage().contains("\n"), "one line: " + e.getMessage());
    }

    @Test
    void anEmptySearchListSaysSo() {
        NvmlLibraryNotFoundException e = assertThrows(NvmlLibraryNotFoundException.class,
                () -> NativeNvml.open(NvmlLibraryLocator.builder().build()));
        assertEquals(List.of("(no places configured)"), e.tried());
    }

    @Test
    void aLibraryThatIsNotNvmlIsRefusedAsSuch() {
        // libm is on every glibc system; it loads, but it is not NVML.
        NvmlException e = assertThrows(NvmlException.class,
                () -> NativeNvml.open(NvmlLibraryLocator.builder().soname("libm.so.6").build()));
        assertEquals(NvmlReturn.FUNCTION_NOT_FOUND, e.code());
        assertTrue(e.getMessage().contains("nvmlInit_v2"), e.getMessage());
        assertTrue(!(e instanceof NvmlLibraryNotFoundException), "found, but not usable: " + e);
    }

    @Test
    void searchGoesOnPastBrokenPlacesToTheFirstThatLoads() throws IOException {
        FakeNvmlControl fake = FakeNvmlControl.r580().loadScenario("p1000");
        Path fakeDir = Prerequisites.requireFakeNvmlDir();
        Path broken = Files.createDirectory(tmp.resolve("broken"));
        Files.writeString(broken.resolve(NvmlLibraryLocator.SONAME), "");
        NvmlLibraryLocator locator = NvmlLibraryLocator.builder()
                .configured(Optional.of(tmp.resolve("missing.so")))
                .directory(broken)
                .directory(fakeDir)
                .build();
        try (NativeNvml nvml = NativeNvml.open(locator)) {
            assertEquals(fakeDir.resolve(NvmlLibraryLocator.SONAME).toAbsolutePath().toString(), nvml.libraryLocation());
            assertEquals("Quadro P1000", nvml.device(0).name());
        }
        assertEquals(fake.library(), fakeDir.resolve(NvmlLibraryLocator.SONAME).toAbsolutePath());
    }

    @Test
    void aSonameMustNotContainADirectory() {
        assertThrows(IllegalArgumentException.class, () -> NvmlLibraryLocator.builder().soname("/usr/lib/libnvidia-ml.so.1"));
    }
}
