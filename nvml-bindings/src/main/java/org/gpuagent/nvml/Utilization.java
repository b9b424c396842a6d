package org.gpuagent.nvml;

/** {@code nvmlUtilization_t}: percent of the last sample period the GPU / memory controller was busy. */
public record Utilization(int gpuPercent, int memoryPercent) {
}
