package org.gpuagent.nvml.sampler;

import java.util.Objects;
import org.gpuagent.nvml.NvmlReturn;

/**
 * One NVML call that failed during a collect. {@code deviceIndex} is -1 for calls not about one
 * device (opening the session, versions, the event set); {@code call} is the C function name when
 * the backend reported one.
 */
public record CallError(int deviceIndex, String call, NvmlReturn code, String message) {
    public CallError {
        Objects.requireNonNull(call, "call");
        Objects.requireNonNull(code, "code");
        Objects.requireNonNull(message, "message");
    }
}
