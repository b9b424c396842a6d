package org.gpuagent.bench.capacity;

import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;
import org.gpuagent.nvml.sim.CudaOutOfMemoryException;
import org.gpuagent.nvml.sim.SimProcess;
import org.gpuagent.nvml.sim.SimulatedDevice;

/** A CUDA context as a process on a simulated GPU: the simulator charges the profile's context cost. */
final class SimulatedCudaContext implements CudaContext {
    private final SimProcess process;
    private final Map<Long, Long> held = new HashMap<>();
    private long next = 1;

    private SimulatedCudaContext(SimProcess process) {
        this.process = process;
    }

    /** Contexts on {@code device} under {@code pid} (the pid NVML will list). */
    static Supplier<CudaContext> on(SimulatedDevice device, int pid) {
        return () -> {
            try {
                return new SimulatedCudaContext(device.startProcess(pid, "java"));
            } catch (CudaOutOfMemoryException e) {
                throw new CudaCallException("cuCtxCreate", CudaCallException.CUDA_ERROR_OUT_OF_MEMORY,
                        "CUDA_ERROR_OUT_OF_MEMORY");
            }
        };
    }

    SimProcess process() {
        return process;
    }

    @Override
    public long allocate(long bytes) {
        try {
            process.allocate(bytes);
        } catch (CudaOutOfMemoryException e) {
            throw new CudaCallException("cuMemAlloc", CudaCallException.CUDA_ERROR_OUT_OF_MEMORY,
                    "CUDA_ERROR_OUT_OF_MEMORY");
        }
        held.put(next, bytes);
        return next++;
    }

    @Override
    public void free(long handle) {
        process.free(held.remove(handle));
    }

    @Override
    public void close() {
        process.exit();
    }
}
