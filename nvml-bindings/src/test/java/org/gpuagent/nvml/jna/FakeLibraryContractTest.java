package org.gpuagent.nvml.jna;

import java.util.Optional;
import org.gpuagent.nvml.ExpectedGpu;
import org.gpuagent.nvml.Nvml;
import org.gpuagent.nvml.NvmlContractTest;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;

/**
 * The contract over the JNA binding and one build of the fake library with one scenario: real
 * dlopen, real marshalling. A build other than R580 must run in its own surefire fork (tag).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class FakeLibraryContractTest extends NvmlContractTest {
    private final FakeNvmlControl.Variant variant;
    private final String scenario;
    private final ExpectedGpu expected;
    private FakeNvmlControl fake;

    FakeLibraryContractTest(FakeNvmlControl.Variant variant, String scenario, ExpectedGpu expected) {
        this.variant = variant;
        this.scenario = scenario;
        this.expected = expected;
    }

    @BeforeAll
    void loadScenario() {
        fake = FakeNvmlControl.of(variant).loadScenario(scenario);
    }

    @Override
    protected Nvml open() {
        return fake.open();
    }

    @Override
    protected Optional<ExpectedGpu> expected() {
        return Optional.of(expected);
    }
}
