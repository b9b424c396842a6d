package org.gpuagent.bench.capacity;

/**
 * One CUDA context on one device, holding plain device allocations: what a service's process
 * holds on the GPU. Single-threaded: the context is current on the thread that created it.
 */
interface CudaContext extends AutoCloseable {

    /**
     * Allocates {@code bytes} of device memory and writes every byte once, so that the memory is
     * backed when NVML is asked.
     *
     * @return a handle for {@link #free(long)}
     * @throws CudaCallException when the driver refuses (e.g. out of memory); nothing is held then
     */
    long allocate(long bytes);

    /** Frees what {@link #allocate(long)} returned. */
    void free(long handle);

    /** Destroys the context, and with it whatever it still holds. */
    @Override
    void close();
}
