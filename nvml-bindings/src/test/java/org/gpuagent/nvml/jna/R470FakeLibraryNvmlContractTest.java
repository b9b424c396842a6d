package org.gpuagent.nvml.jna;

import java.util.Optional;
import org.gpuagent.nvml.ExpectedGpu;
import org.gpuagent.nvml.Nvml;
import org.gpuagent.nvml.NvmlContractTest;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;

/**
 * The contract over a 470-like driver (no _v2 memory, no _v3 process lists, throttle reasons
 * instead of clock event reasons): the P1000 reads the same except that reserved memory is absent.
 */
@Tag("fake-nvml-r470")
class R470FakeLibraryNvmlContractTest extends NvmlContractTest {
    private static FakeNvmlControl fake;

    @BeforeAll
    static void loadScenario() {
        fake = FakeNvmlControl.of(FakeNvmlControl.Variant.R470).loadScenario("p1000");
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
