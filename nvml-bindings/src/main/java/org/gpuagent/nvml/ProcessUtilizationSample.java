package org.gpuagent.nvml;

/**
 * {@code nvmlProcessUtilizationSample_t}: per-process engine use in percent, at a driver
 * timestamp in microseconds (CPU clock of the driver, not ours).
 */
public record ProcessUtilizationSample(int pid, long timestampMicros, int smPercent, int memoryPercent,
                                       int encoderPercent, int decoderPercent) {
}
