package org.gpuagent.nvml;

import java.util.OptionalLong;

/**
 * One process holding a context on the GPU. {@code usedBytes} is absent when the driver cannot
 * tell ({@code NVML_VALUE_NOT_AVAILABLE}, e.g. without permission to see the process).
 */
public record ProcessInfo(int pid, OptionalLong usedBytes, ProcessKind kind) {
    public enum ProcessKind { COMPUTE, GRAPHICS }
}
