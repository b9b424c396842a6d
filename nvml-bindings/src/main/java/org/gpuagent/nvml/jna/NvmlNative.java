package org.gpuagent.nvml.jna;

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
 * {@code long}. Every pointer (the handles {@code nvmlDevice_t} and {@code nvmlEventSet_t}, and
 * the out-parameters, which point into reused {@code Memory} buffers) is passed as its 64-bit
 * address in a {@code long}, 0 for NULL: JNA converts each {@code Pointer} argument with a JNI
 * field read, which measured about 10 ns per argument per call, while a {@code long} goes
 * through as is. The caller keeps the {@code Memory} behind an address reachable across the call
 * (a field, or a local used after it). {@link NvmlBinding} refuses a 32-bit JVM.
 *
 * <p>A raw binding that mirrors {@code nvml.h} one to one (each function a holder, each struct its
 * offsets), so it grows with the list of C functions and is not split: a reader finds a C name
 * here or nowhere.
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
        static native int nvmlSystemGetDriverVersion(long version, int length);
    }

    static final class SystemGetNvmlVersion {
        static native int nvmlSystemGetNVMLVersion(long version, int length);
    }

    static final class SystemGetCudaDriverVersionV2 {
        static native int nvmlSystemGetCudaDriverVersion_v2(long cudaDriverVersion);
    }

    static final class SystemGetCudaDriverVersion {
        static native int nvmlSystemGetCudaDriverVersion(long cudaDriverVersion);
    }

    // ---- enumeration and identity ----

    static final class DeviceGetCountV2 {
        static native int nvmlDeviceGetCount_v2(long deviceCount);
    }

    static final class DeviceGetCount {
        static native int nvmlDeviceGetCount(long deviceCount);
    }

    static final class DeviceGetHandleByIndexV2 {
        static native int nvmlDeviceGetHandleByIndex_v2(int index, long device);
    }

    static final class DeviceGetHandleByIndex {
        static native int nvmlDeviceGetHandleByIndex(int index, long device);
    }

    static final class DeviceGetUuid {
        static native int nvmlDeviceGetUUID(long device, long uuid, int length);
    }

    static final class DeviceGetName {
        static native int nvmlDeviceGetName(long device, long name, int length);
    }

    static final class DeviceGetBrand {
        static native int nvmlDeviceGetBrand(long device, long type);
    }

    static final class DeviceGetPciInfoV3 {
        static native int nvmlDeviceGetPciInfo_v3(long device, long pci);
    }

    static final class DeviceGetPciInfoV2 {
        static native int nvmlDeviceGetPciInfo_v2(long device, long pci);
    }

    static final class DeviceGetSerial {
        static native int nvmlDeviceGetSerial(long device, long serial, int length);
    }

    static final class DeviceGetVbiosVersion {
        static native int nvmlDeviceGetVbiosVersion(long device, long version, int length);
    }

    static final class DeviceGetCudaComputeCapability {
        static native int nvmlDeviceGetCudaComputeCapability(long device, long major, long minor);
    }

    // ---- memory and utilization ----

    static final class DeviceGetMemoryInfoV2 {
        static native int nvmlDeviceGetMemoryInfo_v2(long device, long memory);
    }

    static final class DeviceGetMemoryInfo {
        static native int nvmlDeviceGetMemoryInfo(long device, long memory);
    }

    static final class DeviceGetBar1MemoryInfo {
        static native int nvmlDeviceGetBAR1MemoryInfo(long device, long bar1Memory);
    }

    static final class DeviceGetUtilizationRates {
        static native int nvmlDeviceGetUtilizationRates(long device, long utilization);
    }

    static final class DeviceGetEncoderUtilization {
        static native int nvmlDeviceGetEncoderUtilization(long device, long utilization, long samplingPeriodUs);
    }

    static final class DeviceGetDecoderUtilization {
        static native int nvmlDeviceGetDecoderUtilization(long device, long utilization, long samplingPeriodUs);
    }

    static final class DeviceGetEncoderStats {
        static native int nvmlDeviceGetEncoderStats(long device, long sessionCount, long averageFps,
                                                    long averageLatency);
    }

    // ---- thermals and power ----

    static final class DeviceGetTemperature {
        static native int nvmlDeviceGetTemperature(long device, int sensorType, long temp);
    }

    static final class DeviceGetTemperatureThreshold {
        static native int nvmlDeviceGetTemperatureThreshold(long device, int thresholdType, long temp);
    }

    static final class DeviceGetFanSpeed {
        static native int nvmlDeviceGetFanSpeed(long device, long speed);
    }

    static final class DeviceGetPowerUsage {
        static native int nvmlDeviceGetPowerUsage(long device, long power);
    }

    static final class DeviceGetEnforcedPowerLimit {
        static native int nvmlDeviceGetEnforcedPowerLimit(long device, long limit);
    }

    static final class DeviceGetPowerManagementLimitConstraints {
        static native int nvmlDeviceGetPowerManagementLimitConstraints(long device, long minLimit, long maxLimit);
    }

    static final class DeviceGetPowerManagementDefaultLimit {
        static native int nvmlDeviceGetPowerManagementDefaultLimit(long device, long defaultLimit);
    }

    static final class DeviceGetTotalEnergyConsumption {
        static native int nvmlDeviceGetTotalEnergyConsumption(long device, long energy);
    }

    // ---- clocks and performance ----

    static final class DeviceGetClockInfo {
        static native int nvmlDeviceGetClockInfo(long device, int type, long clock);
    }

    static final class DeviceGetMaxClockInfo {
        static native int nvmlDeviceGetMaxClockInfo(long device, int type, long clock);
    }

    static final class DeviceGetPerformanceState {
        static native int nvmlDeviceGetPerformanceState(long device, long pState);
    }

    static final class DeviceGetCurrentClocksEventReasons {
        static native int nvmlDeviceGetCurrentClocksEventReasons(long device, long clocksEventReasons);
    }

    static final class DeviceGetCurrentClocksThrottleReasons {
        static native int nvmlDeviceGetCurrentClocksThrottleReasons(long device, long clocksThrottleReasons);
    }

    // ---- PCIe ----

    static final class DeviceGetPcieThroughput {
        static native int nvmlDeviceGetPcieThroughput(long device, int counter, long value);
    }

    static final class DeviceGetCurrPcieLinkGeneration {
        static native int nvmlDeviceGetCurrPcieLinkGeneration(long device, long currLinkGen);
    }

    static final class DeviceGetCurrPcieLinkWidth {
        static native int nvmlDeviceGetCurrPcieLinkWidth(long device, long currLinkWidth);
    }

    static final class DeviceGetMaxPcieLinkGeneration {
        static native int nvmlDeviceGetMaxPcieLinkGeneration(long device, long maxLinkGen);
    }

    static final class DeviceGetMaxPcieLinkWidth {
        static native int nvmlDeviceGetMaxPcieLinkWidth(long device, long maxLinkWidth);
    }

    // ---- processes ----

    static final class DeviceGetComputeRunningProcessesV3 {
        static native int nvmlDeviceGetComputeRunningProcesses_v3(long device, long infoCount, long infos);
    }

    static final class DeviceGetComputeRunningProcessesV2 {
        static native int nvmlDeviceGetComputeRunningProcesses_v2(long device, long infoCount, long infos);
    }

    static final class DeviceGetComputeRunningProcesses {
        static native int nvmlDeviceGetComputeRunningProcesses(long device, long infoCount, long infos);
    }

    static final class DeviceGetGraphicsRunningProcessesV3 {
        static native int nvmlDeviceGetGraphicsRunningProcesses_v3(long device, long infoCount, long infos);
    }

    static final class DeviceGetGraphicsRunningProcessesV2 {
        static native int nvmlDeviceGetGraphicsRunningProcesses_v2(long device, long infoCount, long infos);
    }

    static final class DeviceGetGraphicsRunningProcesses {
        static native int nvmlDeviceGetGraphicsRunningProcesses(long device, long infoCount, long infos);
    }

    static final class DeviceGetProcessUtilization {
        static native int nvmlDeviceGetProcessUtilization(long device, long utilization,
                                                          long processSamplesCount, long lastSeenTimeStamp);
    }

    // ---- events ----

    static final class EventSetCreate {
        static native int nvmlEventSetCreate(long set);
    }

    static final class DeviceGetSupportedEventTypes {
        static native int nvmlDeviceGetSupportedEventTypes(long device, long eventTypes);
    }

    static final class DeviceRegisterEvents {
        static native int nvmlDeviceRegisterEvents(long device, long eventTypes, long set);
    }

    static final class EventSetWaitV2 {
        static native int nvmlEventSetWait_v2(long set, long data, int timeoutms);
    }

    static final class EventSetWait {
        static native int nvmlEventSetWait(long set, long data, int timeoutms);
    }

    static final class EventSetFree {
        static native int nvmlEventSetFree(long set);
    }
}
