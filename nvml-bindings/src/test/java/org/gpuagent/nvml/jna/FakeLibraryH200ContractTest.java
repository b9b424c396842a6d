package org.gpuagent.nvml.jna;

/**
 * The JNA binding over the fake H200 (no fan, an energy counter, per-process utilization NOT_FOUND
 * when idle).
 */
class FakeLibraryH200ContractTest extends FakeLibraryContractTest {
    FakeLibraryH200ContractTest() {
        super(FakeNvmlControl.Variant.R580, "h200", FakeScenarios.H200);
    }
}
