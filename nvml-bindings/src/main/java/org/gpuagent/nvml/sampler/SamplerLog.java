package org.gpuagent.nvml.sampler;

/**
 * The one logger of the sampler and its parts, named after the public class
 * ({@code org.gpuagent.nvml.sampler.Sampler}) so that one logging setting covers them all. Kept
 * here, not in the public class, so that the parts do not depend on the class that wires them.
 */
final class SamplerLog {
    static final System.Logger LOG = System.getLogger("org.gpuagent.nvml.sampler.Sampler");

    private SamplerLog() {
    }
}
