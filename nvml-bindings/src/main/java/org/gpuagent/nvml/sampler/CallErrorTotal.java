package org.gpuagent.nvml.sampler;

import java.util.Objects;
import org.gpuagent.nvml.NvmlReturn;

/** How often {@code call} failed with {@code code} since the sampler started (the {@code nvgpu_nvml_errors_total} counter). */
public record CallErrorTotal(String call, NvmlReturn code, long count) {
    public CallErrorTotal {
        Objects.requireNonNull(call, "call");
        Objects.requireNonNull(code, "code");
    }
}
