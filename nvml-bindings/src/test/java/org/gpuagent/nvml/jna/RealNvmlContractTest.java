package org.gpuagent.nvml.jna;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;
import org.gpuagent.nvml.ExpectedGpu;
import org.gpuagent.nvml.Nvml;
import org.gpuagent.nvml.NvmlContractTest;
import org.gpuagent.nvml.NvmlException;
import org.gpuagent.nvml.NvmlLibraryNotFoundException;
import org.gpuagent.nvml.NvmlReturn;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;

/**
 * The contract against the real libnvidia-ml, found by the production search (or the file named
 * by {@code GPU_AGENT_NVML_LIBRARY}). Runs only where an NVIDIA GPU answers; elsewhere (CI,
 * laptops) it skips, the one kind of test allowed to. It runs in its own surefire fork so that
 * the fake library can never be the one bound, and it fails if the library it got is the fake.
 */
@Tag("real-nvml")
class RealNvmlContractTest extends NvmlContractTest {

    /** Codes that mean "no NVIDIA GPU or driver here" rather than a broken one. */
    private static final Set<NvmlReturn> ABSENT = Set.of(NvmlReturn.DRIVER_NOT_LOADED, NvmlReturn.LIBRARY_NOT_FOUND,
            NvmlReturn.GPU_NOT_FOUND, NvmlReturn.FUNCTION_NOT_FOUND, NvmlReturn.NO_PERMISSION);

    private static NvmlLibraryLocator locator;
    /** Why there is no GPU to test, or null when there is one. */
    private static String absent;

    @BeforeAll
    static void probe() {
        String configured = System.getenv("GPU_AGENT_NVML_LIBRARY");
        locator = NvmlLibraryLocator.defaults(
                configured == null || configured.isBlank() ? Optional.empty() : Optional.of(Path.of(configured)));
        try (NativeNvml probe = NativeNvml.open(locator)) {
            if (probe.deviceCount() == 0) {
                absent = "no NVIDIA GPU/NVML here: NVML lists no device";
            } else {
                System.out.println("real NVML: " + probe.libraryLocation() + ", driver " + probe.driverVersion()
                        + ", " + probe.deviceCount() + " device(s), first " + probe.device(0).name()
                        + ", functions " + probe.functions());
            }
        } catch (NvmlLibraryNotFoundException e) {
            absent = "no NVIDIA GPU/NVML here: " + e.getMessage();
        } catch (NvmlException e) {
            if (!ABSENT.contains(e.code())) {
                throw e;
            }
            absent = "no NVIDIA GPU/NVML here: " + e.getMessage();
        }
        // Whatever NVML answered, a library that got bound must not be the fake: the fake without
        // a scenario answers NVML_ERROR_DRIVER_NOT_LOADED, which would otherwise read as "no GPU".
        NvmlBinding.current().ifPresent(binding -> {
            assertThrows(UnsatisfiedLinkError.class, () -> binding.library().getFunction("fake_nvml_variant"),
                    () -> "the real-NVML test bound the fake library: " + binding.location());
            if (binding.location().contains("fake-nvml")) {
                fail("the real-NVML test bound a library from the fake's directory: " + binding.location());
            }
        });
    }

    @Override
    protected Nvml open() {
        assumeTrue(absent == null, absent);
        return NativeNvml.open(locator);
    }

    @Override
    protected Optional<ExpectedGpu> expected() {
        return Optional.empty();
    }
}
