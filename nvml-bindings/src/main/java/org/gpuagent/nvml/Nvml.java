package org.gpuagent.nvml;

import java.util.List;
import java.util.OptionalInt;

/**
 * An initialised NVML session: the JNA binding over libnvidia-ml
 * ({@code org.gpuagent.nvml.jna.NativeNvml#open}) or the simulator
 * ({@code org.gpuagent.nvml.sim.SimulatedGpuHost#open}). Closing it shuts NVML down and
 * invalidates its devices and event sets.
 */
public interface Nvml extends AutoCloseable {

    /** {@code "nvml"} for the real library (or the fake built for tests), {@code "sim"} for the simulator. */
    String backend();

    int deviceCount();

    /** The device at NVML index {@code index}; the same object on every call. */
    NvmlDevice device(int index);

    /** All devices in index order. */
    List<NvmlDevice> devices();

    /** The device with this UUID, or {@link NvmlException} with {@link NvmlReturn#NOT_FOUND}. */
    NvmlDevice deviceByUuid(String uuid);

    /** e.g. {@code 580.159.04}. */
    String driverVersion();

    /** e.g. {@code 13.580.159.04}. */
    String nvmlVersion();

    /** The CUDA version the driver supports, as {@code 1000*major + 10*minor} (e.g. 13000). */
    OptionalInt cudaDriverVersion();

    /** A new event set; the caller owns and closes it. */
    NvmlEventSet createEventSet();

    /** Shuts the session down; idempotent. */
    @Override
    void close();
}
