package org.gpuagent.nvml.sim;

import java.util.ArrayList;
import java.util.List;

/**
 * The C functions the simulator answers for, by the name libnvidia-ml exports (the same names the
 * JNA binding reports in {@link org.gpuagent.nvml.NvmlException#call()} and the fake library
 * injects faults by). Faults are keyed by these names so that one test script reads the same
 * against either backend.
 */
enum SimCall {
    INIT("nvmlInit_v2"),
    SHUTDOWN("nvmlShutdown"),
    DEVICE_COUNT("nvmlDeviceGetCount_v2"),
    HANDLE_BY_INDEX("nvmlDeviceGetHandleByIndex_v2"),
    HANDLE_BY_UUID("nvmlDeviceGetHandleByUUID"),
    DRIVER_VERSION("nvmlSystemGetDriverVersion"),
    NVML_VERSION("nvmlSystemGetNVMLVersion"),
    CUDA_DRIVER_VERSION("nvmlSystemGetCudaDriverVersion_v2"),

    UUID("nvmlDeviceGetUUID"),
    NAME("nvmlDeviceGetName"),
    BRAND("nvmlDeviceGetBrand"),
    PCI_INFO("nvmlDeviceGetPciInfo_v3"),
    SERIAL("nvmlDeviceGetSerial"),
    VBIOS_VERSION("nvmlDeviceGetVbiosVersion"),
    COMPUTE_CAPABILITY("nvmlDeviceGetCudaComputeCapability"),

    MEMORY_INFO_V2("nvmlDeviceGetMemoryInfo_v2"),
    MEMORY_INFO("nvmlDeviceGetMemoryInfo"),
    BAR1_MEMORY("nvmlDeviceGetBAR1MemoryInfo"),
    UTILIZATION("nvmlDeviceGetUtilizationRates"),
    ENCODER_UTILIZATION("nvmlDeviceGetEncoderUtilization"),
    DECODER_UTILIZATION("nvmlDeviceGetDecoderUtilization"),
    ENCODER_STATS("nvmlDeviceGetEncoderStats"),

    TEMPERATURE("nvmlDeviceGetTemperature"),
    TEMPERATURE_THRESHOLD("nvmlDeviceGetTemperatureThreshold"),
    FAN_SPEED("nvmlDeviceGetFanSpeed"),
    POWER_USAGE("nvmlDeviceGetPowerUsage"),
    ENFORCED_POWER_LIMIT("nvmlDeviceGetEnforcedPowerLimit"),
    POWER_LIMIT_CONSTRAINTS("nvmlDeviceGetPowerManagementLimitConstraints"),
    DEFAULT_POWER_LIMIT("nvmlDeviceGetPowerManagementDefaultLimit"),
    TOTAL_ENERGY("nvmlDeviceGetTotalEnergyConsumption"),

    CLOCK("nvmlDeviceGetClockInfo"),
    MAX_CLOCK("nvmlDeviceGetMaxClockInfo"),
    PERFORMANCE_STATE("nvmlDeviceGetPerformanceState"),
    CLOCK_EVENT_REASONS("nvmlDeviceGetCurrentClocksEventReasons"),

    PCIE_THROUGHPUT("nvmlDeviceGetPcieThroughput"),
    PCIE_LINK_GENERATION("nvmlDeviceGetCurrPcieLinkGeneration"),
    PCIE_LINK_WIDTH("nvmlDeviceGetCurrPcieLinkWidth"),
    MAX_PCIE_LINK_GENERATION("nvmlDeviceGetMaxPcieLinkGeneration"),
    MAX_PCIE_LINK_WIDTH("nvmlDeviceGetMaxPcieLinkWidth"),

    COMPUTE_PROCESSES("nvmlDeviceGetComputeRunningProcesses_v3"),
    GRAPHICS_PROCESSES("nvmlDeviceGetGraphicsRunningProcesses_v3"),
    PROCESS_UTILIZATION("nvmlDeviceGetProcessUtilization"),

    EVENT_SET_CREATE("nvmlEventSetCreate"),
    REGISTER_EVENTS("nvmlDeviceRegisterEvents"),
    EVENT_SET_WAIT("nvmlEventSetWait_v2"),
    EVENT_SET_FREE("nvmlEventSetFree");

    private final String cName;

    SimCall(String cName) {
        this.cName = cName;
    }

    String cName() {
        return cName;
    }

    /**
     * The call named {@code name}: its exact C name, or its name without the version suffix
     * ({@code nvmlDeviceGetComputeRunningProcesses} for {@code _v3}) where that is unambiguous.
     */
    static SimCall byName(String name) {
        for (SimCall c : values()) {
            if (c.cName.equals(name)) {
                return c;
            }
        }
        SimCall match = null;
        for (SimCall c : values()) {
            if (baseName(c.cName).equals(name)) {
                if (match != null) {
                    match = null;
                    break;
                }
                match = c;
            }
        }
        if (match != null) {
            return match;
        }
        throw new IllegalArgumentException("the simulator has no NVML call named '" + name + "'; known calls: "
                + String.join(", ", names()));
    }

    static List<String> names() {
        List<String> names = new ArrayList<>();
        for (SimCall c : values()) {
            names.add(c.cName);
        }
        return names;
    }

    private static String baseName(String cName) {
        int v = cName.lastIndexOf("_v");
        if (v > 0 && v + 2 < cName.length() && cName.substring(v + 2).chars().allMatch(Character::isDigit)) {
            return cName.substring(0, v);
        }
        return cName;
    }
}
