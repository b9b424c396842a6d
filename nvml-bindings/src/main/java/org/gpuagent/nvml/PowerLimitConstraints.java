package org.gpuagent.nvml;

/**
 * {@code nvmlDeviceGetPowerManagementLimitConstraints}: the range an administrator may set the
 * power limit to ({@code nvidia-smi -pl}), in milliwatts.
 */
public record PowerLimitConstraints(long minMilliwatts, long maxMilliwatts) {
    public PowerLimitConstraints {
        if (minMilliwatts < 0 || maxMilliwatts < minMilliwatts) {
            throw new IllegalArgumentException("implausible power limit range " + minMilliwatts + "-" + maxMilliwatts
                    + " mW");
        }
    }
}
