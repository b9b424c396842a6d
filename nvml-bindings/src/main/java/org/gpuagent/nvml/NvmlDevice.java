package org.gpuagent.nvml;

import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * One GPU as NVML sees it, typed.
 *
 * <p>Contract shared by every implementation (the JNA binding, the simulator) and checked by the
 * contract test:
 * <ul>
 *   <li>A query the device or driver does not support ({@code NVML_ERROR_NOT_SUPPORTED}, or a
 *       symbol missing from an older driver) returns an empty {@code Optional*}: never -1, 0 or
 *       {@code 2^64-1} as a stand-in.</li>
 *   <li>Any other failure throws {@link NvmlException} with the library's code; after
 *       {@link NvmlReturn#GPU_IS_LOST} the owning {@link Nvml} must be re-opened.</li>
 *   <li>The index and the {@link DeviceIdentity} (UUID, name, brand, PCI bus id, serial, VBIOS,
 *       compute capability) are read once when the device is opened and never change.</li>
 *   <li>Calls are safe from any thread, but the sampler is the only caller on the hot path;
 *       implementations may reuse per-device native buffers under a lock.</li>
 * </ul>
 */
public interface NvmlDevice {

    // ---- identity, read once ----

    /** NVML's index (the order NVML enumerates, which is PCI bus order by default). */
    int index();

    /** What the GPU is: read when the device is opened, the same object on every call. */
    DeviceIdentity identity();

    /** Shortcut for {@code identity().uuid()}, the key devices are looked up by. */
    default String uuid() {
        return identity().uuid();
    }

    /** Shortcut for {@code identity().name()}. */
    default String name() {
        return identity().name();
    }

    // ---- memory ----

    /** Frame-buffer memory ({@code _v2} with reserved memory where the driver has it, else v1). */
    MemoryInfo memory();

    Optional<Bar1Memory> bar1Memory();

    // ---- utilization ----

    Optional<Utilization> utilization();

    Optional<EngineUtilization> encoderUtilization();

    Optional<EngineUtilization> decoderUtilization();

    Optional<EncoderStats> encoderStats();

    // ---- thermals and power ----

    /** GPU core temperature in degrees Celsius. */
    OptionalInt temperatureCelsius();

    OptionalInt temperatureThresholdCelsius(TemperatureThreshold threshold);

    /** Intended fan speed in percent of maximum; absent on passively cooled cards. */
    OptionalInt fanSpeedPercent();

    OptionalLong powerUsageMilliwatts();

    OptionalLong enforcedPowerLimitMilliwatts();

    /** The range the power limit may be set to ({@code nvmlDeviceGetPowerManagementLimitConstraints}). */
    Optional<PowerLimitConstraints> powerLimitConstraints();

    /** The power limit the board boots with ({@code nvmlDeviceGetPowerManagementDefaultLimit}). */
    OptionalLong defaultPowerLimitMilliwatts();

    /** Energy since the driver loaded, in millijoules; absent before Volta (e.g. on a P1000). */
    OptionalLong totalEnergyMillijoules();

    // ---- clocks and performance ----

    OptionalInt clockMhz(ClockType type);

    OptionalInt maxClockMhz(ClockType type);

    /** P-state 0 (maximum performance) .. 15; absent when unknown (NVML_PSTATE_UNKNOWN). */
    OptionalInt performanceState();

    /** {@link ClockEventReason} bits ({@code nvmlDeviceGetCurrentClocksEventReasons}, or the throttle-reasons call on older drivers). */
    OptionalLong clockEventReasons();

    // ---- PCIe ----

    /** PCIe throughput over the last 20 ms, in KiB/s. */
    OptionalInt pcieThroughputKiBps(PcieCounter counter);

    OptionalInt pcieLinkGeneration();

    OptionalInt pcieLinkWidth();

    OptionalInt maxPcieLinkGeneration();

    OptionalInt maxPcieLinkWidth();

    // ---- processes ----

    /** Processes with a compute context; empty when none. */
    List<ProcessInfo> computeProcesses();

    /** Processes with a graphics context (e.g. a display server, an NVENC-only ffmpeg on some drivers). */
    List<ProcessInfo> graphicsProcesses();

    /**
     * Per-process utilization samples newer than {@code sinceTimestampMicros} (0: everything the
     * driver buffered). Empty when there is none ({@code NVML_ERROR_NOT_FOUND} from the driver).
     */
    List<ProcessUtilizationSample> processUtilization(long sinceTimestampMicros);
}
