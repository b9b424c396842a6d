package org.gpuagent.nvml.jna;

import org.junit.jupiter.api.Tag;

/**
 * The contract over a driver with only the oldest form of every versioned call (16-byte process
 * entries, v1 event data, PCI info v2).
 */
@Tag("fake-nvml-v1")
class V1FakeLibraryNvmlContractTest extends FakeLibraryContractTest {
    V1FakeLibraryNvmlContractTest() {
        super(FakeNvmlControl.Variant.V1, "p1000", FakeScenarios.P1000_WITHOUT_RESERVED_MEMORY);
    }
}
