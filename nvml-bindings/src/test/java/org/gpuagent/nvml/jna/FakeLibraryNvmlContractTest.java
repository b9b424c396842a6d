package org.gpuagent.nvml.jna;

import java.util.Optional;
import org.gpuagent.nvml.ExpectedGpu;
import org.gpuagent.nvml.Nvml;
import org.gpuagent.nvml.NvmlContractTest;
import org.junit.jupiter.api.BeforeAll;

/** The JNA binding over the fake library's P1000 scenario: real dlopen, real marshalling. */
class FakeLibraryNvmlContractTest extends NvmlContractTest {
    private static FakeNvmlControl fake;

    @BeforeAll
    static void loadScenario() {
        fake = FakeNvmlControl.of(FakeNvmlControl.Variant.R580).loadScenario("p1000");
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
