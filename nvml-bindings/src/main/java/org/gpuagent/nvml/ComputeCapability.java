package org.gpuagent.nvml;

/** CUDA compute capability, e.g. 6.1 for Pascal GP107 (Quadro P1000). */
public record ComputeCapability(int major, int minor) {
    @Override
    public String toString() {
        return major + "." + minor;
    }
}
