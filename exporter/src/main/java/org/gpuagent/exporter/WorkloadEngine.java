package org.gpuagent.exporter;

/** The engines NVML's per-process samples report; {@link #label()} is the {@code engine} label value. */
public enum WorkloadEngine {
    SM("sm"), MEMORY("memory"), ENCODER("encoder"), DECODER("decoder");

    private final String label;

    WorkloadEngine(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }
}
