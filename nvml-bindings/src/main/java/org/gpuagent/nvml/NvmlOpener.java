package org.gpuagent.nvml;

/**
 * Opens (initialises) an {@link Nvml} session. The sampler holds one of these rather than a
 * session so that it can re-initialise after {@link NvmlReturn#GPU_IS_LOST} or a driver error.
 */
@FunctionalInterface
public interface NvmlOpener {
    /** @throws NvmlException when NVML cannot be initialised (no library, no driver, GPU lost) */
    Nvml open();
}
