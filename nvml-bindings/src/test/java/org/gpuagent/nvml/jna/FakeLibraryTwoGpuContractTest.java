package org.gpuagent.nvml.jna;

import org.gpuagent.nvml.ExpectedGpu;

/**
 * The JNA binding over two fake GPUs (the P1000 first, a GeForce without serial second): the
 * invariants hold for both.
 */
class FakeLibraryTwoGpuContractTest extends FakeLibraryContractTest {
    FakeLibraryTwoGpuContractTest() {
        super(FakeNvmlControl.Variant.R580, "two-gpus", ExpectedGpu.QUADRO_P1000);
    }
}
