package org.gpuagent.nvml;

import java.util.OptionalLong;

/**
 * Frame-buffer memory in bytes. {@code reservedBytes} is present when the driver answered
 * {@code nvmlDeviceGetMemoryInfo_v2} (R510+), which reports driver-reserved memory apart from
 * {@code usedBytes}; the v1 call counts it inside {@code usedBytes}.
 */
public record MemoryInfo(long totalBytes, long usedBytes, long freeBytes, OptionalLong reservedBytes) {
    public MemoryInfo {
        if (totalBytes < 0 || usedBytes < 0 || freeBytes < 0) {
            throw new IllegalArgumentException("negative memory figure: total=" + totalBytes
                    + " used=" + usedBytes + " free=" + freeBytes);
        }
        if (reservedBytes == null) {
            throw new NullPointerException("reservedBytes");
        }
    }
}
