package org.gpuagent.nvml;

import java.util.Optional;

/**
 * An NVML event set ({@code nvmlEventSet_t}). Not thread-safe: one thread (the sampler) owns it.
 * Becomes invalid when its {@link Nvml} is closed.
 */
public interface NvmlEventSet extends AutoCloseable {

    /**
     * Registers {@code device} for the {@code eventTypes} it supports among those asked
     * ({@link NvmlEventType} bits) and returns the bits actually registered (0 when the device
     * supports none of them, e.g. Xid events on a GeForce card without permission).
     */
    long register(NvmlDevice device, long eventTypes);

    /**
     * Waits up to {@code timeoutMillis} (0: do not wait) for the next event. Empty on timeout.
     *
     * @throws NvmlException e.g. {@link NvmlReturn#GPU_IS_LOST}
     */
    Optional<NvmlEvent> poll(int timeoutMillis);

    /** Frees the set; idempotent. */
    @Override
    void close();
}
