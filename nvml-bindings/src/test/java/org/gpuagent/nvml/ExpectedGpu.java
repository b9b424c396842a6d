package org.gpuagent.nvml;

import java.util.List;
import java.util.Map;

/**
 * What a known scenario must read back (the simulator's profile and the fake library's scenario
 * file describe the same card). Real NVML has no expectation: the contract test then checks only
 * the invariants.
 */
public record ExpectedGpu(
        String name,
        String uuid,
        Brand brand,
        String pciBusId,
        long memoryTotalBytes,
        boolean reservedMemoryReported,
        ComputeCapability computeCapability,
        boolean hasEnergyCounter,
        boolean hasFan,
        long powerLimitMilliwatts,
        /** {@code nvmlDeviceGetPowerManagementLimitConstraints} and the default limit. */
        PowerLimitConstraints powerLimitRange,
        long defaultPowerLimitMilliwatts,
        int slowdownCelsius,
        int shutdownCelsius,
        Map<ClockType, Integer> maxClocksMhz,
        int maxPcieLinkGeneration,
        int maxPcieLinkWidth,
        /** pid -> used bytes of the compute processes the scenario starts with. */
        Map<Integer, Long> computeProcesses,
        String driverVersion,
        int cudaDriverVersion) {

    static final long MIB = 1024L * 1024L;

    /**
     * The owner's card: a Quadro P1000 (GP107, 4 GiB GDDR5, 47 W, active cooler, no energy
     * counter before Volta) on driver 580, with two compute processes (a Frigate detector and a
     * Jellyfin ffmpeg). The simulator's {@code GpuProfile.QUADRO_P1000} and the fake library's
     * {@code src/test/resources/fake-nvml/p1000.scenario} must both match this.
     */
    public static final ExpectedGpu QUADRO_P1000 = new ExpectedGpu(
            "Quadro P1000",
            "GPU-5e7c1a2b-93d4-4f60-8b1e-2c9d7a4f6e31",
            Brand.QUADRO,
            "00000000:01:00.0",
            4096 * MIB,
            true,
            new ComputeCapability(6, 1),
            false,
            true,
            47_000,
            new PowerLimitConstraints(47_000, 47_000),
            47_000,
            99,
            102,
            Map.of(ClockType.GRAPHICS, 1480, ClockType.SM, 1480, ClockType.MEMORY, 2505, ClockType.VIDEO, 1366),
            3,
            16,
            Map.of(4242, 512 * MIB, 4343, 300 * MIB),
            "580.105.08",
            13000);

    List<Integer> computePids() {
        return computeProcesses.keySet().stream().sorted().toList();
    }
}
