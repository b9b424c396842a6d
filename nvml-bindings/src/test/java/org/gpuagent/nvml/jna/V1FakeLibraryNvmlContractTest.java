package org.gpuagent.nvml.jna;

import java.util.Optional;
import org.gpuagent.nvml.ExpectedGpu;
import org.gpuagent.nvml.Nvml;
import org.gpuagent.nvml.NvmlContractTest;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;

/**
 * The contract over a driver with only the oldest form of every versioned call (16-byte process
 * entries, v1 event data, PCI info v2).
 */
@Tag("fake-nvml-v1")
class V1FakeLibraryNvmlContractTest extends NvmlContractTest {
    private static FakeNvmlControl fake;

    @BeforeAll
    static void loadScenario() {
        fake = FakeNvmlControl.of(FakeNvmlControl.Variant.V1).loadScenario("p1000");
    }

    @Override
    protected Nvml open() {
        return fake.open();
    }

    @Override
    protected Optional<ExpectedGpu> expected() {
        return Optional.of(FakeScenarios.P1000_WITHOUT_RESERVED_MEMORY);
    }
}
