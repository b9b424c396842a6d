package org.gpuagent.nvml.jna;

import com.sun.jna.Pointer;

/**
 * The C functions of libnvidia-ml the binding calls, direct-mapped, with the C names and the
 * struct layouts they fill. Nothing outside this package sees them.
 *
 * <p>Every function sits in its own holder class because {@code Native.register} binds a whole
 * class and fails when any one of its symbols is missing: an older driver that lacks, say,
 * {@code nvmlDeviceGetMemoryInfo_v2} must lose that one function and nothing else.
 * {@link NvmlSymbolTable} decides which holders to register; calling a holder that was not
 * registered throws {@link UnsatisfiedLinkError}, so callers consult the table first.
 *
 * <p>Type mapping: {@code nvmlReturn_t} and C enums are {@code int}; {@code unsigned int} is
 * {@code int} (read back with {@link Integer#toUnsignedLong}); {@code unsigned long long} is
 * {@code long}; handles ({@code nvmlDevice_t}, {@code nvmlEventSet_t}) and out-parameters are
 * {@link Pointer}s into reused native buffers.
 */
final class NvmlNative {
    private NvmlNative() {
    }

    // ---- return codes and constants (nvml.h) ----

    static final int NVML_SUCCESS = 0;
    static final int NVML_ERROR_NOT_SUPPORTED = 3;
    static final int NVML_ERROR_NOT_FOUND = 6;
    static final int NVML_ERROR_INSUFFICIENT_SIZE = 7;
    static final int NVML_ERROR_TIMEOUT = 10;
    static final int NVML_ERROR_FUNCTION_NOT_FOUND = 13;
    static final int NVML_ERROR_ARGUMENT_VERSION_MISMATCH = 25;

    /** {@code NVML_VALUE_NOT_AVAILABLE}: an unsigned long long field the driver could not fill. */
    static final long NVML_VALUE_NOT_AVAILABLE = -1L;
    /** {@code NVML_TEMPERATURE_GPU}, the only sensor NVML defines. */
    static final int NVML_TEMPERATURE_GPU = 0;
    /** {@code NVML_PSTATE_UNKNOWN}. */
    static final int NVML_PSTATE_UNKNOWN = 32;

    /** Buffer for every string NVML returns (the largest, name and UUID v2, are 96 bytes). */
    static final int STRING_BUFFER_SIZE = 96;

    // ---- struct layouts (byte offsets, x86-64) ----

    /** {@code nvmlMemory_t}: total, free, used (u64). */
    static final int MEMORY_V1_TOTAL = 0;
    static final int MEMORY_V1_FREE = 8;
    static final int MEMORY_V1_USED = 16;

    /** {@code nvmlMemory_v2_t}: version u32, pad, total, reserved, free, used (u64); 40 bytes. */
    static final int MEMORY_V2_SIZE = 40;
    static final int MEMORY_V2_VERSION = MEMORY_V2_SIZE | 2 << 24;
    static final int MEMORY_V2_VERSION_FIELD = 0;
    static final int MEMORY_V2_TOTAL = 8;
    static final int MEMORY_V2_RESERVED = 16;
    static final int MEMORY_V2_FREE = 24;
    static final int MEMORY_V2_USED = 32;

    /** {@code nvmlBAR1Memory_t}: bar1Total, bar1Free, bar1Used (u64). */
    static final int BAR1_TOTAL = 0;
    static final int BAR1_FREE = 8;
    static final int BAR1_USED = 16;

    /** {@code nvmlUtilization_t}: gpu, memory (u32). */
    static final int UTILIZATION_GPU = 0;
    static final int UTILIZATION_MEMORY = 4;

    /**
     * {@code nvmlPciInfo_t}: busIdLegacy char[16], domain, bus, device, pciDeviceId,
     * pciSubSystemId (u32), busId char[32]; 68 bytes.
     */
    static final int PCI_INFO_SIZE = 68;
    static final int PCI_INFO_BUS_ID = 36;

    /** {@code nvmlProcessInfo_v1_t}: pid u32, pad, usedGpuMemory u64; 16 bytes. */
    static final int PROCESS_INFO_V1_SIZE = 16;
    /** {@code nvmlProcessInfo_v2_t} (also what _v3 fills): v1 + gpuInstanceId, computeInstanceId u32; 24 bytes. */
    static final int PROCESS_INFO_V2_SIZE = 24;
    static final int PROCESS_INFO_PID = 0;
    static final int PROCESS_INFO_USED_GPU_MEMORY = 8;

    /**
     * {@code nvmlProcessUtilizationSample_t}: pid u32, pad, timeStamp u64, smUtil, memUtil,
     * encUtil, decUtil (u32); 32 bytes.
     */
    static final int PROCESS_SAMPLE_SIZE = 32;
    static final int PROCESS_SAMPLE_PID = 0;
    static final int PROCESS_SAMPLE_TIMESTAMP = 8;
    static final int PROCESS_SAMPLE_SM = 16;
    static final int PROCESS_SAMPLE_MEM = 20;
    static final int PROCESS_SAMPLE_ENC = 24;
    static final int PROCESS_SAMPLE_DEC = 28;

    /**
     * {@code nvmlEventData_t}: device pointer, eventType u64, eventData u64, gpuInstanceId,
     * computeInstanceId u32; 32 bytes (the v1 wait fills only the first 24).
     */
    static final int EVENT_DATA_SIZE = 32;
    static final int EVENT_DATA_DEVICE = 0;
    static final int EVENT_DATA_TYPE = 8;
    static final int EVENT_DATA_DATA = 16;

    // ---- initialisation and system ----

    static final class InitV2 {
        static native int nvmlInit_v2();
    }

    static final class Shutdown {
        static native int nvmlShutdown();
    }

    /** {@code const char *nvmlErrorString(nvmlReturn_t)}; the pointer comes back as an address, never dereferenced. */
    static final class ErrorString {
        static native long nvmlErrorString(int result);
    }

    static final class SystemGetDriverVersion {
        static native int nvmlSystemGetDriverVersion(Pointer version, int length);
    }

    static final class SystemGetNvmlVersion {
        static native int nvmlSystemGetNVMLVersion(Pointer version, int length);
    }

    static final class SystemGetCudaDriverVersionV2 {
        static native int nvmlSystemGetCudaDriverVersion_v2(Pointer cudaDriverVersion);
    }

    static final class SystemGetCudaDriverVersion {
        static native int nvmlSystemGetCudaDriverVersion(Pointer cudaDriverVersion);
    }

    // ---- enumeration and identity ----

    static final class DeviceGetCountV2 {
        static native int nvmlDeviceGetCount_v2(Pointer deviceCount);
    }

    static final class DeviceGetCount {
        static native int nvmlDeviceGetCount(Pointer deviceCount);
    }

    static final class DeviceGetHandleByIndexV2 {
        static native int nvmlDeviceGetHandleByIndex_v2(int index, Pointer device);
    }

    static final class DeviceGetHandleByIndex {
        static native int nvmlDeviceGetHandleByIndex(int index, Pointer device);
    }

    static final class DeviceGetUuid {
        static native int nvmlDeviceGetUUID(Pointer device, Pointer uuid, int length);
    }

    static final class DeviceGetName {
        static native int nvmlDeviceGetName(Pointer device, Pointer name, int length);
    }

    static final class DeviceGetBrand {
        static native int nvmlDeviceGetBrand(Pointer device, Pointer type);
    }

    static final class DeviceGetPciInfoV3 {
        static native int nvmlDeviceGetPciInfo_v3(Pointer device, Pointer pci);
    }

    static final class DeviceGetPciInfoV2 {
        static native int nvmlDeviceGetPciInfo_v2(Pointer device, Pointer pci);
    }

    static final class DeviceGetSerial {
        static native int nvmlDeviceGetSerial(Pointer device, Pointer serial, int length);
    }

    static final class DeviceGetVbiosVersion {
        static native int nvmlDeviceGetVbiosVersion(Pointer device, Pointer version, int length);
    }

    static final class DeviceGetCudaComputeCapability {
        static native int nvmlDeviceGetCudaComputeCapability(Pointer device, Pointer major, Pointer minor);
    }

    // ---- memory and utilization ----

    static final class DeviceGetMemoryInfoV2 {
        static native int nvmlDeviceGetMemoryInfo_v2(Pointer device, Pointer memory);
    }

    static final class DeviceGetMemoryInfo {
        static native int nvmlDeviceGetMemoryInfo(Pointer device, Pointer memory);
    }

    static final class DeviceGetBar1MemoryInfo {
        static native int nvmlDeviceGetBAR1MemoryInfo(Pointer device, Pointer bar1Memory);
    }

    static final class DeviceGetUtilizationRates {
        static native int nvmlDeviceGetUtilizationRates(Pointer device, Pointer utilization);
    }

    static final class DeviceGetEncoderUtilization {
        static native int nvmlDeviceGetEncoderUtilization(Pointer device, Pointer utilization, Pointer samplingPeriodUs);
    }

    static final class DeviceGetDecoderUtilization {
        static native int nvmlDeviceGetDecoderUtilization(Pointer device, Pointer utilization, Pointer samplingPeriodUs);
    }

    static final class DeviceGetEncoderStats {
        static native int nvmlDeviceGetEncoderStats(Pointer device, Pointer sessionCount, Pointer averageFps,
                                                    Pointer averageLatency);
    }

    // ---- thermals and power ----

    static final class DeviceGetTemperature {
        static native int nvmlDeviceGetTemperature(Pointer device, int sensorType, Pointer temp);
    }

    static final class DeviceGetTemperatureThreshold {
        static native int nvmlDeviceGetTemperatureThreshold(Pointer device, int thresholdType, Pointer temp);
    }

    static final class DeviceGetFanSpeed {
        static native int nvmlDeviceGetFanSpeed(Pointer device, Pointer speed);
    }

    static final class DeviceGetPowerUsage {
        static native int nvmlDeviceGetPowerUsage(Pointer device, Pointer power);
    }

    static final class DeviceGetEnforcedPowerLimit {
        static native int nvmlDeviceGetEnforcedPowerLimit(Pointer device, Pointer limit);
    }

    static final class DeviceGetTotalEnergyConsumption {
        static native int nvmlDeviceGetTotalEnergyConsumption(Pointer device, Pointer energy);
    }

    // ---- clocks and performance ----

    static final class DeviceGetClockInfo {
        static native int nvmlDeviceGetClockInfo(Pointer device, int type, Pointer clock);
    }

    static final class DeviceGetMaxClockInfo {
        static native int nvmlDeviceGetMaxClockInfo(Pointer device, int type, Pointer clock);
    }

    static final class DeviceGetPerformanceState {
        static native int nvmlDeviceGetPerformanceState(Pointer device, Pointer pState);
    }

    static final class DeviceGetCurrentClocksEventReasons {
        static native int nvmlDeviceGetCurrentClocksEventReasons(Pointer device, Pointer clocksEventReasons);
    }

    static final class DeviceGetCurrentClocksThrottleReasons {
        static native int nvmlDeviceGetCurrentClocksThrottleReasons(Pointer device, Pointer clocksThrottleReasons);
    }

    // ---- PCIe ----

    static final class DeviceGetPcieThroughput {
        static native int nvmlDeviceGetPcieThroughput(Pointer device, int counter, Pointer value);
    }

    static final class DeviceGetCurrPcieLinkGeneration {
        static native int nvmlDeviceGetCurrPcieLinkGeneration(Pointer device, Pointer currLinkGen);
    }

    static final class DeviceGetCurrPcieLinkWidth {
        static native int nvmlDeviceGetCurrPcieLinkWidth(Pointer device, Pointer currLinkWidth);
    }

    static final class DeviceGetMaxPcieLinkGeneration {
        static native int nvmlDeviceGetMaxPcieLinkGeneration(Pointer device, Pointer maxLinkGen);
    }

    static final class DeviceGetMaxPcieLinkWidth {
        static native int nvmlDeviceGetMaxPcieLinkWidth(Pointer device, Pointer maxLinkWidth);
    }

    // ---- processes ----

    static final class DeviceGetComputeRunningProcessesV3 {
        static native int nvmlDeviceGetComputeRunningProcesses_v3(Pointer device, Pointer infoCount, Pointer infos);
    }

    static final class DeviceGetComputeRunningProcessesV2 {
        static native int nvmlDeviceGetComputeRunningProcesses_v2(Pointer device, Pointer infoCount, Pointer infos);
    }

    static final class DeviceGetComputeRunningProcesses {
        static native int nvmlDeviceGetComputeRunningProcesses(Pointer device, Pointer infoCount, Pointer infos);
    }

    static final class DeviceGetGraphicsRunningProcessesV3 {
        static native int nvmlDeviceGetGraphicsRunningProcesses_v3(Pointer device, Pointer infoCount, Pointer infos);
    }

    static final class DeviceGetGraphicsRunningProcessesV2 {
        static native int nvmlDeviceGetGraphicsRunningProcesses_v2(Pointer device, Pointer infoCount, Pointer infos);
    }

    static final class DeviceGetGraphicsRunningProcesses {
        static native int nvmlDeviceGetGraphicsRunningProcesses(Pointer device, Pointer infoCount, Pointer infos);
    }

    static final class DeviceGetProcessUtilization {
        static native int nvmlDeviceGetProcessUtilization(Pointer device, Pointer utilization,
                                                          Pointer processSamplesCount, long lastSeenTimeStamp);
    }

    // ---- events ----

    static final class EventSetCreate {
        static native int nvmlEventSetCreate(Pointer set);
    }

    static final class DeviceGetSupportedEventTypes {
        static native int nvmlDeviceGetSupportedEventTypes(Pointer device, Pointer eventTypes);
    }

    static final class DeviceRegisterEvents {
        static native int nvmlDeviceRegisterEvents(Pointer device, long eventTypes, Pointer set);
    }

    static final class EventSetWaitV2 {
        static native int nvmlEventSetWait_v2(Pointer set, Pointer data, int timeoutms);
    }

    static final class EventSetWait {
        static native int nvmlEventSetWait(Pointer set, Pointer data, int timeoutms);
    }

    static final class EventSetFree {
        static native int nvmlEventSetFree(Pointer set);
    }
}
