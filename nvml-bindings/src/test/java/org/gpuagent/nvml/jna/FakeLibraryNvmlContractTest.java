package org.gpuagent.nvml.jna;

import org.gpuagent.nvml.ExpectedGpu;

/** The JNA binding over the fake library's P1000 scenario: real dlopen, real marshalling. */
class FakeLibraryNvmlContractTest extends FakeLibraryContractTest {
    FakeLibraryNvmlContractTest() {
        super(FakeNvmlControl.Variant.R580, "p1000", ExpectedGpu.QUADRO_P1000);
    }
}
