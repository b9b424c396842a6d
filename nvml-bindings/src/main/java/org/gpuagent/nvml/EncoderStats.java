package org.gpuagent.nvml;

/** {@code nvmlDeviceGetEncoderStats}: active NVENC sessions and their averages (0 with no session). */
public record EncoderStats(int sessionCount, int averageFps, int averageLatencyMicros) {
}
