package org.gpuagent.nvml;

/** BAR1 (the PCIe-mapped window) memory in bytes. */
public record Bar1Memory(long totalBytes, long usedBytes, long freeBytes) {
}
