package org.gpuagent.nvml;

/** Encoder or decoder utilization in percent over a sampling period the driver chose. */
public record EngineUtilization(int percent, long samplingPeriodMicros) {
}
