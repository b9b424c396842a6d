package org.gpuagent.nvml.jna;

import java.util.Optional;
import org.gpuagent.nvml.ExpectedGpu;
import org.gpuagent.nvml.Nvml;
import org.gpuagent.nvml.NvmlContractTest;
import org.junit.jupiter.api.BeforeAll;

/**
 * The JNA binding over the fake H200 (no fan, an energy counter, per-process utilization NOT_FOUND
 * when idle).
 */
class FakeLibraryH200ContractTest extends NvmlContractTest {
    private static FakeNvmlControl fake;

    @BeforeAll
    static void loadScenario() {
        fake = FakeNvmlControl.of(FakeNvmlControl.Variant.R580).loadScenario("h200");
    }

    @Override
    protected Nvml open() {
        return fake.open();
    }

    @Override
    protected Optional<ExpectedGpu> expected() {
        return Optional.of(FakeScenarios.H200);
    }
}
