package org.gpuagent.nvml.jna;

import java.util.Map;
import org.gpuagent.nvml.Brand;
import org.gpuagent.nvml.ClockType;
import org.gpuagent.nvml.ComputeCapability;
import org.gpuagent.nvml.ExpectedGpu;
import org.gpuagent.nvml.PowerLimitConstraints;

/** Expectations for the fake library's scenarios beyond {@link ExpectedGpu#QUADRO_P1000}. */
final class FakeScenarios {
    static final long MIB = 1024L * 1024L;

    /** {@code h200.scenario}: the H200 of docs/reference-data/nvml-h200/, idle. */
    static final ExpectedGpu H200 = new ExpectedGpu(
            "NVIDIA H200",
            "GPU-18cb343f-5c18-c7cf-5ca0-1d49553d8855",
            Brand.NVIDIA,
            "00000000:00:06.0",
            143_771 * MIB,
            true,
            new ComputeCapability(9, 0),
            true,
            false,
            700_000,
            new PowerLimitConstraints(200_000, 700_000),
            700_000,
            89,
            95,
            Map.of(ClockType.GRAPHICS, 1980, ClockType.SM, 1980, ClockType.MEMORY, 3201, ClockType.VIDEO, 1545),
            5,
            16,
            Map.of(),
            "580.159.04",
            13000);

    /** The P1000 scenario read through a driver without {@code nvmlDeviceGetMemoryInfo_v2}. */
    static final ExpectedGpu P1000_WITHOUT_RESERVED_MEMORY = withoutReservedMemory(ExpectedGpu.QUADRO_P1000);

    private static ExpectedGpu withoutReservedMemory(ExpectedGpu e) {
        return new ExpectedGpu(e.name(), e.uuid(), e.brand(), e.pciBusId(), e.memoryTotalBytes(), false,
                e.computeCapability(), e.hasEnergyCounter(), e.hasFan(), e.powerLimitMilliwatts(), e.powerLimitRange(),
                e.defaultPowerLimitMilliwatts(), e.slowdownCelsius(),
                e.shutdownCelsius(), e.maxClocksMhz(), e.maxPcieLinkGeneration(), e.maxPcieLinkWidth(),
                e.computeProcesses(), e.driverVersion(), e.cudaDriverVersion());
    }

    private FakeScenarios() {
    }
}
