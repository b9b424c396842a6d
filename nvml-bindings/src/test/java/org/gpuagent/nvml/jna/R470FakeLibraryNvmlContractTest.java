package org.gpuagent.nvml.jna;

import org.junit.jupiter.api.Tag;

/**
 * The contract over a 470-like driver (no _v2 memory, no _v3 process lists, throttle reasons
 * instead of clock event reasons): the P1000 reads the same except that reserved memory is absent.
 */
@Tag("fake-nvml-r470")
class R470FakeLibraryNvmlContractTest extends FakeLibraryContractTest {
    R470FakeLibraryNvmlContractTest() {
        super(FakeNvmlControl.Variant.R470, "p1000", FakeScenarios.P1000_WITHOUT_RESERVED_MEMORY);
    }
}
