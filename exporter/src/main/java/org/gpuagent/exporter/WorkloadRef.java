package org.gpuagent.exporter;

import java.util.Objects;

/** Which workload a process belongs to: the {@code workload} and {@code kind} labels. */
public record WorkloadRef(String name, WorkloadKind kind) {
    public WorkloadRef {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(kind, "kind");
        if (name.isBlank()) {
            throw new IllegalArgumentException("a workload needs a name");
        }
    }
}
