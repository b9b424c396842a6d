package org.gpuagent.nvml.jna;

import java.util.Optional;
import org.gpuagent.nvml.ExpectedGpu;
import org.gpuagent.nvml.Nvml;
import org.gpuagent.nvml.NvmlContractTest;
import org.junit.jupiter.api.BeforeAll;

/**
 * The JNA binding over two fake GPUs (the P1000 first, a GeForce without serial second): the
 * invariants hold for both.
 */
class FakeLibraryTwoGpuContractTest extends NvmlContractTest {
    private static FakeNvmlControl fake;

    @BeforeAll
    static void loadScenario() {
        fake = FakeNvmlControl.of(FakeNvmlControl.Variant.R580).loadScenario("two-gpus");
    }

    @Override
    protected Nvml open() {
        return fake.open();
    }

    @Override
    protected Optional<ExpectedGpu> expected() {
        return Optional.of(ExpectedGpu.QUADRO_P1000);
    }
}
