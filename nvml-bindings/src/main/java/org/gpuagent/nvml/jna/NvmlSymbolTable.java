package org.gpuagent.nvml.jna;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.gpuagent.nvml.NvmlException;
import org.gpuagent.nvml.NvmlReturn;

/**
 * Which C function serves each feature of the binding, decided once when the library is bound.
 *
 * <p>NVML versions its functions by suffix ({@code _v2}, {@code _v3}) and keeps the old ones.
 * Each {@link Feature} lists its functions newest first; the first one the library exports wins.
 * A feature none of whose functions is exported is absent: its typed calls answer empty values
 * (or, for the few {@linkplain Feature#required required} ones, the library is refused with
 * {@link NvmlReturn#FUNCTION_NOT_FOUND}). This is the only place that knows the fallbacks.
 */
final class NvmlSymbolTable {

    /** One exported C function and the {@link NvmlNative} holder class that declares it. */
    enum Symbol {
        INIT_V2("nvmlInit_v2", NvmlNative.InitV2.class),
        SHUTDOWN("nvmlShutdown", NvmlNative.Shutdown.class),
        ERROR_STRING("nvmlErrorString", NvmlNative.ErrorString.class),
        SYSTEM_GET_DRIVER_VERSION("nvmlSystemGetDriverVersion", NvmlNative.SystemGetDriverVersion.class),
        SYSTEM_GET_NVML_VERSION("nvmlSystemGetNVMLVersion", NvmlNative.SystemGetNvmlVersion.class),
        SYSTEM_GET_CUDA_DRIVER_VERSION_V2("nvmlSystemGetCudaDriverVersion_v2", NvmlNative.SystemGetCudaDriverVersionV2.class),
        SYSTEM_GET_CUDA_DRIVER_VERSION("nvmlSystemGetCudaDriverVersion", NvmlNative.SystemGetCudaDriverVersion.class),
        DEVICE_GET_COUNT_V2("nvmlDeviceGetCount_v2", NvmlNative.DeviceGetCountV2.class),
        DEVICE_GET_COUNT("nvmlDeviceGetCount", NvmlNative.DeviceGetCount.class),
        DEVICE_GET_HANDLE_BY_INDEX_V2("nvmlDeviceGetHandleByIndex_v2", NvmlNative.DeviceGetHandleByIndexV2.class),
        DEVICE_GET_HANDLE_BY_INDEX("nvmlDeviceGetHandleByIndex", NvmlNative.DeviceGetHandleByIndex.class),
        DEVICE_GET_UUID("nvmlDeviceGetUUID", NvmlNative.DeviceGetUuid.class),
        DEVICE_GET_NAME("nvmlDeviceGetName", NvmlNative.DeviceGetName.class),
        DEVICE_GET_BRAND("nvmlDeviceGetBrand", NvmlNative.DeviceGetBrand.class),
        DEVICE_GET_PCI_INFO_V3("nvmlDeviceGetPciInfo_v3", NvmlNative.DeviceGetPciInfoV3.class),
        DEVICE_GET_PCI_INFO_V2("nvmlDeviceGetPciInfo_v2", NvmlNative.DeviceGetPciInfoV2.class),
        DEVICE_GET_SERIAL("nvmlDeviceGetSerial", NvmlNative.DeviceGetSerial.class),
        DEVICE_GET_VBIOS_VERSION("nvmlDeviceGetVbiosVersion", NvmlNative.DeviceGetVbiosVersion.class),
        DEVICE_GET_CUDA_COMPUTE_CAPABILITY("nvmlDeviceGetCudaComputeCapability", NvmlNative.DeviceGetCudaComputeCapability.class),
        DEVICE_GET_MEMORY_INFO_V2("nvmlDeviceGetMemoryInfo_v2", NvmlNative.DeviceGetMemoryInfoV2.class),
        DEVICE_GET_MEMORY_INFO("nvmlDeviceGetMemoryInfo", NvmlNative.DeviceGetMemoryInfo.class),
        DEVICE_GET_BAR1_MEMORY_INFO("nvmlDeviceGetBAR1MemoryInfo", NvmlNative.DeviceGetBar1MemoryInfo.class),
        DEVICE_GET_UTILIZATION_RATES("nvmlDeviceGetUtilizationRates", NvmlNative.DeviceGetUtilizationRates.class),
        DEVICE_GET_ENCODER_UTILIZATION("nvmlDeviceGetEncoderUtilization", NvmlNative.DeviceGetEncoderUtilization.class),
        DEVICE_GET_DECODER_UTILIZATION("nvmlDeviceGetDecoderUtilization", NvmlNative.DeviceGetDecoderUtilization.class),
        DEVICE_GET_ENCODER_STATS("nvmlDeviceGetEncoderStats", NvmlNative.DeviceGetEncoderStats.class),
        DEVICE_GET_TEMPERATURE("nvmlDeviceGetTemperature", NvmlNative.DeviceGetTemperature.class),
        DEVICE_GET_TEMPERATURE_THRESHOLD("nvmlDeviceGetTemperatureThreshold", NvmlNative.DeviceGetTemperatureThreshold.class),
        DEVICE_GET_FAN_SPEED("nvmlDeviceGetFanSpeed", NvmlNative.DeviceGetFanSpeed.class),
        DEVICE_GET_POWER_USAGE("nvmlDeviceGetPowerUsage", NvmlNative.DeviceGetPowerUsage.class),
        DEVICE_GET_ENFORCED_POWER_LIMIT("nvmlDeviceGetEnforcedPowerLimit", NvmlNative.DeviceGetEnforcedPowerLimit.class),
        DEVICE_GET_POWER_MANAGEMENT_LIMIT_CONSTRAINTS("nvmlDeviceGetPowerManagementLimitConstraints",
                NvmlNative.DeviceGetPowerManagementLimitConstraints.class),
        DEVICE_GET_POWER_MANAGEMENT_DEFAULT_LIMIT("nvmlDeviceGetPowerManagementDefaultLimit",
                NvmlNative.DeviceGetPowerManagementDefaultLimit.class),
        DEVICE_GET_TOTAL_ENERGY_CONSUMPTION("nvmlDeviceGetTotalEnergyConsumption", NvmlNative.DeviceGetTotalEnergyConsumption.class),
        DEVICE_GET_CLOCK_INFO("nvmlDeviceGetClockInfo", NvmlNative.DeviceGetClockInfo.class),
        DEVICE_GET_MAX_CLOCK_INFO("nvmlDeviceGetMaxClockInfo", NvmlNative.DeviceGetMaxClockInfo.class),
        DEVICE_GET_PERFORMANCE_STATE("nvmlDeviceGetPerformanceState", NvmlNative.DeviceGetPerformanceState.class),
        DEVICE_GET_CURRENT_CLOCKS_EVENT_REASONS("nvmlDeviceGetCurrentClocksEventReasons", NvmlNative.DeviceGetCurrentClocksEventReasons.class),
        DEVICE_GET_CURRENT_CLOCKS_THROTTLE_REASONS("nvmlDeviceGetCurrentClocksThrottleReasons", NvmlNative.DeviceGetCurrentClocksThrottleReasons.class),
        DEVICE_GET_PCIE_THROUGHPUT("nvmlDeviceGetPcieThroughput", NvmlNative.DeviceGetPcieThroughput.class),
        DEVICE_GET_CURR_PCIE_LINK_GENERATION("nvmlDeviceGetCurrPcieLinkGeneration", NvmlNative.DeviceGetCurrPcieLinkGeneration.class),
        DEVICE_GET_CURR_PCIE_LINK_WIDTH("nvmlDeviceGetCurrPcieLinkWidth", NvmlNative.DeviceGetCurrPcieLinkWidth.class),
        DEVICE_GET_MAX_PCIE_LINK_GENERATION("nvmlDeviceGetMaxPcieLinkGeneration", NvmlNative.DeviceGetMaxPcieLinkGeneration.class),
        DEVICE_GET_MAX_PCIE_LINK_WIDTH("nvmlDeviceGetMaxPcieLinkWidth", NvmlNative.DeviceGetMaxPcieLinkWidth.class),
        DEVICE_GET_COMPUTE_RUNNING_PROCESSES_V3("nvmlDeviceGetComputeRunningProcesses_v3", NvmlNative.DeviceGetComputeRunningProcessesV3.class),
        DEVICE_GET_COMPUTE_RUNNING_PROCESSES_V2("nvmlDeviceGetComputeRunningProcesses_v2", NvmlNative.DeviceGetComputeRunningProcessesV2.class),
        DEVICE_GET_COMPUTE_RUNNING_PROCESSES("nvmlDeviceGetComputeRunningProcesses", NvmlNative.DeviceGetComputeRunningProcesses.class),
        DEVICE_GET_GRAPHICS_RUNNING_PROCESSES_V3("nvmlDeviceGetGraphicsRunningProcesses_v3", NvmlNative.DeviceGetGraphicsRunningProcessesV3.class),
        DEVICE_GET_GRAPHICS_RUNNING_PROCESSES_V2("nvmlDeviceGetGraphicsRunningProcesses_v2", NvmlNative.DeviceGetGraphicsRunningProcessesV2.class),
        DEVICE_GET_GRAPHICS_RUNNING_PROCESSES("nvmlDeviceGetGraphicsRunningProcesses", NvmlNative.DeviceGetGraphicsRunningProcesses.class),
        DEVICE_GET_PROCESS_UTILIZATION("nvmlDeviceGetProcessUtilization", NvmlNative.DeviceGetProcessUtilization.class),
        EVENT_SET_CREATE("nvmlEventSetCreate", NvmlNative.EventSetCreate.class),
        DEVICE_GET_SUPPORTED_EVENT_TYPES("nvmlDeviceGetSupportedEventTypes", NvmlNative.DeviceGetSupportedEventTypes.class),
        DEVICE_REGISTER_EVENTS("nvmlDeviceRegisterEvents", NvmlNative.DeviceRegisterEvents.class),
        EVENT_SET_WAIT_V2("nvmlEventSetWait_v2", NvmlNative.EventSetWaitV2.class),
        EVENT_SET_WAIT("nvmlEventSetWait", NvmlNative.EventSetWait.class),
        EVENT_SET_FREE("nvmlEventSetFree", NvmlNative.EventSetFree.class);

        private final String cName;
        private final Class<?> holder;

        Symbol(String cName, Class<?> holder) {
            this.cName = cName;
            this.holder = holder;
        }

        /** The exported C name, e.g. {@code nvmlDeviceGetMemoryInfo_v2}; also the {@link NvmlException#call()}. */
        String cName() {
            return cName;
        }
    }

    /** What the binding can do, each served by the first exported of its functions (newest first). */
    enum Feature {
        INIT(true, Symbol.INIT_V2),
        SHUTDOWN(true, Symbol.SHUTDOWN),
        /** A table lookup in the library: its call cost is the cost of crossing into it. */
        ERROR_STRING(false, Symbol.ERROR_STRING),
        DRIVER_VERSION(true, Symbol.SYSTEM_GET_DRIVER_VERSION),
        NVML_VERSION(true, Symbol.SYSTEM_GET_NVML_VERSION),
        CUDA_DRIVER_VERSION(false, Symbol.SYSTEM_GET_CUDA_DRIVER_VERSION_V2, Symbol.SYSTEM_GET_CUDA_DRIVER_VERSION),
        DEVICE_COUNT(true, Symbol.DEVICE_GET_COUNT_V2, Symbol.DEVICE_GET_COUNT),
        HANDLE_BY_INDEX(true, Symbol.DEVICE_GET_HANDLE_BY_INDEX_V2, Symbol.DEVICE_GET_HANDLE_BY_INDEX),
        UUID(true, Symbol.DEVICE_GET_UUID),
        NAME(true, Symbol.DEVICE_GET_NAME),
        BRAND(false, Symbol.DEVICE_GET_BRAND),
        PCI_INFO(true, Symbol.DEVICE_GET_PCI_INFO_V3, Symbol.DEVICE_GET_PCI_INFO_V2),
        SERIAL(false, Symbol.DEVICE_GET_SERIAL),
        VBIOS_VERSION(false, Symbol.DEVICE_GET_VBIOS_VERSION),
        COMPUTE_CAPABILITY(false, Symbol.DEVICE_GET_CUDA_COMPUTE_CAPABILITY),
        MEMORY(true, Symbol.DEVICE_GET_MEMORY_INFO_V2, Symbol.DEVICE_GET_MEMORY_INFO),
        /** The v1 call, kept apart from {@link #MEMORY} for drivers that refuse the v2 struct at run time. */
        MEMORY_V1(false, Symbol.DEVICE_GET_MEMORY_INFO),
        BAR1_MEMORY(false, Symbol.DEVICE_GET_BAR1_MEMORY_INFO),
        UTILIZATION(false, Symbol.DEVICE_GET_UTILIZATION_RATES),
        ENCODER_UTILIZATION(false, Symbol.DEVICE_GET_ENCODER_UTILIZATION),
        DECODER_UTILIZATION(false, Symbol.DEVICE_GET_DECODER_UTILIZATION),
        ENCODER_STATS(false, Symbol.DEVICE_GET_ENCODER_STATS),
        TEMPERATURE(false, Symbol.DEVICE_GET_TEMPERATURE),
        TEMPERATURE_THRESHOLD(false, Symbol.DEVICE_GET_TEMPERATURE_THRESHOLD),
        FAN_SPEED(false, Symbol.DEVICE_GET_FAN_SPEED),
        POWER_USAGE(false, Symbol.DEVICE_GET_POWER_USAGE),
        POWER_LIMIT(false, Symbol.DEVICE_GET_ENFORCED_POWER_LIMIT),
        POWER_LIMIT_CONSTRAINTS(false, Symbol.DEVICE_GET_POWER_MANAGEMENT_LIMIT_CONSTRAINTS),
        DEFAULT_POWER_LIMIT(false, Symbol.DEVICE_GET_POWER_MANAGEMENT_DEFAULT_LIMIT),
        TOTAL_ENERGY(false, Symbol.DEVICE_GET_TOTAL_ENERGY_CONSUMPTION),
        CLOCK(false, Symbol.DEVICE_GET_CLOCK_INFO),
        MAX_CLOCK(false, Symbol.DEVICE_GET_MAX_CLOCK_INFO),
        PERFORMANCE_STATE(false, Symbol.DEVICE_GET_PERFORMANCE_STATE),
        CLOCK_EVENT_REASONS(false, Symbol.DEVICE_GET_CURRENT_CLOCKS_EVENT_REASONS,
                Symbol.DEVICE_GET_CURRENT_CLOCKS_THROTTLE_REASONS),
        PCIE_THROUGHPUT(false, Symbol.DEVICE_GET_PCIE_THROUGHPUT),
        PCIE_LINK_GENERATION(false, Symbol.DEVICE_GET_CURR_PCIE_LINK_GENERATION),
        PCIE_LINK_WIDTH(false, Symbol.DEVICE_GET_CURR_PCIE_LINK_WIDTH),
        MAX_PCIE_LINK_GENERATION(false, Symbol.DEVICE_GET_MAX_PCIE_LINK_GENERATION),
        MAX_PCIE_LINK_WIDTH(false, Symbol.DEVICE_GET_MAX_PCIE_LINK_WIDTH),
        COMPUTE_PROCESSES(false, Symbol.DEVICE_GET_COMPUTE_RUNNING_PROCESSES_V3,
                Symbol.DEVICE_GET_COMPUTE_RUNNING_PROCESSES_V2, Symbol.DEVICE_GET_COMPUTE_RUNNING_PROCESSES),
        GRAPHICS_PROCESSES(false, Symbol.DEVICE_GET_GRAPHICS_RUNNING_PROCESSES_V3,
                Symbol.DEVICE_GET_GRAPHICS_RUNNING_PROCESSES_V2, Symbol.DEVICE_GET_GRAPHICS_RUNNING_PROCESSES),
        PROCESS_UTILIZATION(false, Symbol.DEVICE_GET_PROCESS_UTILIZATION),
        EVENT_SET_CREATE(false, Symbol.EVENT_SET_CREATE),
        SUPPORTED_EVENT_TYPES(false, Symbol.DEVICE_GET_SUPPORTED_EVENT_TYPES),
        REGISTER_EVENTS(false, Symbol.DEVICE_REGISTER_EVENTS),
        EVENT_SET_WAIT(false, Symbol.EVENT_SET_WAIT_V2, Symbol.EVENT_SET_WAIT),
        EVENT_SET_FREE(false, Symbol.EVENT_SET_FREE);

        private final boolean required;
        private final Symbol[] newestFirst;

        Feature(boolean required, Symbol... newestFirst) {
            this.required = required;
            this.newestFirst = newestFirst;
        }

        /** Without it the library is refused: the typed API has no absent value for it. */
        boolean required() {
            return required;
        }
    }

    private final Symbol[] chosen = new Symbol[Feature.values().length];

    private NvmlSymbolTable() {
    }

    /**
     * Chooses a function for every feature among those {@code exported} names.
     *
     * @throws NvmlException {@link NvmlReturn#FUNCTION_NOT_FOUND} when a required feature has no
     *         function, naming what is missing
     */
    static NvmlSymbolTable resolve(Predicate<String> exported, String library) {
        NvmlSymbolTable table = new NvmlSymbolTable();
        List<String> missing = new ArrayList<>();
        for (Feature f : Feature.values()) {
            for (Symbol s : f.newestFirst) {
                if (exported.test(s.cName)) {
                    table.chosen[f.ordinal()] = s;
                    break;
                }
            }
            if (f.required && table.chosen[f.ordinal()] == null) {
                List<String> names = new ArrayList<>();
                for (Symbol s : f.newestFirst) {
                    names.add(s.cName);
                }
                missing.add(String.join(" or ", names));
            }
        }
        if (!missing.isEmpty()) {
            throw new NvmlException("dlsym", NvmlReturn.FUNCTION_NOT_FOUND,
                    library + " is not a usable libnvidia-ml: it lacks " + String.join(", ", missing));
        }
        return table;
    }

    /** Resolves against what {@code library} exports. */
    static NvmlSymbolTable resolve(NativeLibrary library, String description) {
        return resolve(name -> exports(library, name), description);
    }

    private static boolean exports(NativeLibrary library, String name) {
        try {
            library.getFunction(name);
            return true;
        } catch (UnsatisfiedLinkError e) {
            return false;
        }
    }

    /** Binds the holder class of every chosen function to {@code library}; once per JVM. */
    void register(NativeLibrary library) {
        boolean[] done = new boolean[Symbol.values().length];
        for (Symbol s : chosen) {
            if (s != null && !done[s.ordinal()]) {
                Native.register(s.holder, library);
                done[s.ordinal()] = true;
            }
        }
    }

    boolean has(Feature feature) {
        return chosen[feature.ordinal()] != null;
    }

    /** The function serving {@code feature}, or null when the library has none. */
    Symbol chosen(Feature feature) {
        return chosen[feature.ordinal()];
    }

    /** Feature name -> chosen C function ("absent" where none), in declaration order. */
    Map<String, String> describe() {
        Map<String, String> out = new LinkedHashMap<>();
        for (Feature f : Feature.values()) {
            Symbol s = chosen[f.ordinal()];
            out.put(f.name().toLowerCase(java.util.Locale.ROOT), s == null ? "absent" : s.cName);
        }
        return Collections.unmodifiableMap(out);
    }

    /** Chosen function per feature, for tests. */
    Map<Feature, Symbol> asMap() {
        Map<Feature, Symbol> out = new EnumMap<>(Feature.class);
        for (Feature f : Feature.values()) {
            if (chosen[f.ordinal()] != null) {
                out.put(f, chosen[f.ordinal()]);
            }
        }
        return out;
    }
}
