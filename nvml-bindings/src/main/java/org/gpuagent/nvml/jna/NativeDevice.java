package org.gpuagent.nvml.jna;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import org.gpuagent.nvml.Bar1Memory;
import org.gpuagent.nvml.Brand;
import org.gpuagent.nvml.ClockType;
import org.gpuagent.nvml.ComputeCapability;
import org.gpuagent.nvml.EncoderStats;
import org.gpuagent.nvml.EngineUtilization;
import org.gpuagent.nvml.MemoryInfo;
import org.gpuagent.nvml.NvmlDevice;
import org.gpuagent.nvml.NvmlException;
import org.gpuagent.nvml.PcieCounter;
import org.gpuagent.nvml.PowerLimitConstraints;
import org.gpuagent.nvml.ExactListBuilder;
import org.gpuagent.nvml.ProcessInfo;
import org.gpuagent.nvml.ProcessInfo.ProcessKind;
import org.gpuagent.nvml.ProcessUtilizationSample;
import org.gpuagent.nvml.TemperatureThreshold;
import org.gpuagent.nvml.Utilization;
import org.gpuagent.nvml.jna.NvmlSymbolTable.Feature;
import org.gpuagent.nvml.jna.NvmlSymbolTable.Symbol;

/**
 * One device of a {@link NativeNvml} session.
 *
 * <p>Every call reuses this device's native buffers, so calls on one device are serialised on the
 * device's own monitor. Holding it also keeps the device, and so the {@code Memory} behind the
 * addresses passed to the library, reachable until the call returns: the GC does not see an
 * address passed as a {@code long}. Nothing is allocated beyond the value returned (an absent
 * value allocates nothing: {@code NOT_SUPPORTED} is a return code here, never an exception
 * object). Identity is read once in {@link #open}.
 */
final class NativeDevice implements NvmlDevice {

    /** Bounded retries when a list grows between the size query and the fill. */
    private static final int LIST_ATTEMPTS = 4;
    /** More entries than any driver lists for one GPU; a larger count is treated as corrupt. */
    private static final int MAX_LIST_ENTRIES = 65_536;

    private final NativeNvml session;
    private final NvmlSymbolTable symbols;
    private final int index;
    /** The {@code nvmlDevice_t}. */
    private final long handle;

    private final String uuid;
    private final String name;
    private final Brand brand;
    private final String pciBusId;
    private final Optional<String> serial;
    private final Optional<String> vbiosVersion;
    private final Optional<ComputeCapability> computeCapability;

    /**
     * Struct results and out-parameters: the first at {@link #buf}, more at {@link #out1} and
     * {@link #out2}. Read and written through {@link #view}, a direct buffer over the same memory:
     * plain Java, where each of {@code Memory}'s own accessors is a JNI call.
     */
    private final Memory scratch = new Memory(128);
    private final ByteBuffer view = scratch.getByteBuffer(0, scratch.size()).order(ByteOrder.nativeOrder());
    private final long buf = Pointer.nativeValue(scratch);
    private final long out1 = buf + 8;
    private final long out2 = buf + 16;
    /** Process and sample lists; replaced by a larger one when a list outgrows it. */
    private Memory listBuffer = new Memory(32L * NvmlNative.PROCESS_SAMPLE_SIZE);
    private ByteBuffer listView = listBuffer.getByteBuffer(0, listBuffer.size()).order(ByteOrder.nativeOrder());
    private long listAddress = Pointer.nativeValue(listBuffer);
    /** Decoded lists are built here so that a sample leaves no garbage behind. Guarded by this. */
    private final ExactListBuilder<ProcessInfo> processList = new ExactListBuilder<>();
    private final ExactListBuilder<ProcessUtilizationSample> sampleList = new ExactListBuilder<>();
    /** Cleared for good if the driver refuses the v2 memory struct at run time. Guarded by this. */
    private boolean memoryV2;

    private NativeDevice(NativeNvml session, int index, long handle, Memory textBuffer) {
        this.session = session;
        this.symbols = session.symbols();
        this.index = index;
        this.handle = handle;
        long text = Pointer.nativeValue(textBuffer);
        this.memoryV2 = symbols.chosen(Feature.MEMORY) == Symbol.DEVICE_GET_MEMORY_INFO_V2;

        int len = NvmlNative.STRING_BUFFER_SIZE;
        check(Symbol.DEVICE_GET_UUID, NvmlNative.DeviceGetUuid.nvmlDeviceGetUUID(handle, text, len));
        this.uuid = string(textBuffer);
        check(Symbol.DEVICE_GET_NAME, NvmlNative.DeviceGetName.nvmlDeviceGetName(handle, text, len));
        this.name = string(textBuffer);

        Symbol pci = symbols.chosen(Feature.PCI_INFO);
        Memory pciInfo = new Memory(NvmlNative.PCI_INFO_SIZE + 4L);
        long pciAddress = Pointer.nativeValue(pciInfo);
        check(pci, pci == Symbol.DEVICE_GET_PCI_INFO_V3
                ? NvmlNative.DeviceGetPciInfoV3.nvmlDeviceGetPciInfo_v3(handle, pciAddress)
                : NvmlNative.DeviceGetPciInfoV2.nvmlDeviceGetPciInfo_v2(handle, pciAddress));
        this.pciBusId = pciInfo.getString(NvmlNative.PCI_INFO_BUS_ID, StandardCharsets.US_ASCII.name());

        Brand b = Brand.UNKNOWN;
        if (symbols.has(Feature.BRAND)
                && answered(NvmlNative.DeviceGetBrand.nvmlDeviceGetBrand(handle, buf), Symbol.DEVICE_GET_BRAND)) {
            b = Brand.fromCode(view.getInt(0));
        }
        this.brand = b;
        this.serial = symbols.has(Feature.SERIAL)
                && answered(NvmlNative.DeviceGetSerial.nvmlDeviceGetSerial(handle, text, len), Symbol.DEVICE_GET_SERIAL)
                ? Optional.of(string(textBuffer)).filter(s -> !s.isBlank()) : Optional.empty();
        this.vbiosVersion = symbols.has(Feature.VBIOS_VERSION)
                && answered(NvmlNative.DeviceGetVbiosVersion.nvmlDeviceGetVbiosVersion(handle, text, len),
                        Symbol.DEVICE_GET_VBIOS_VERSION)
                ? Optional.of(string(textBuffer)).filter(s -> !s.isBlank()) : Optional.empty();
        this.computeCapability = symbols.has(Feature.COMPUTE_CAPABILITY)
                && answered(NvmlNative.DeviceGetCudaComputeCapability.nvmlDeviceGetCudaComputeCapability(handle, buf, out1),
                        Symbol.DEVICE_GET_CUDA_COMPUTE_CAPABILITY)
                ? Optional.of(new ComputeCapability(view.getInt(0), view.getInt(8))) : Optional.empty();
    }

    /** Gets the handle for {@code index} and reads the device's identity. */
    static NativeDevice open(NativeNvml session, int index) {
        NvmlSymbolTable symbols = session.symbols();
        Memory out = new Memory(8);
        long address = Pointer.nativeValue(out);
        Symbol s = symbols.chosen(Feature.HANDLE_BY_INDEX);
        check(s, s == Symbol.DEVICE_GET_HANDLE_BY_INDEX_V2
                ? NvmlNative.DeviceGetHandleByIndexV2.nvmlDeviceGetHandleByIndex_v2(index, address)
                : NvmlNative.DeviceGetHandleByIndex.nvmlDeviceGetHandleByIndex(index, address));
        return new NativeDevice(session, index, out.getLong(0), new Memory(NvmlNative.STRING_BUFFER_SIZE));
    }

    /** The {@code nvmlDevice_t}'s address. */
    long handle() {
        return handle;
    }

    NativeNvml session() {
        return session;
    }

    // ---- identity ----

    @Override
    public int index() {
        return index;
    }

    @Override
    public String uuid() {
        return uuid;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public Brand brand() {
        return brand;
    }

    @Override
    public String pciBusId() {
        return pciBusId;
    }

    @Override
    public Optional<String> serial() {
        return serial;
    }

    @Override
    public Optional<String> vbiosVersion() {
        return vbiosVersion;
    }

    @Override
    public Optional<ComputeCapability> computeCapability() {
        return computeCapability;
    }

    // ---- memory ----

    @Override
    public MemoryInfo memory() {
        synchronized (this) {
            if (memoryV2) {
                session.ensureOpen(Symbol.DEVICE_GET_MEMORY_INFO_V2.cName());
                view.putInt(NvmlNative.MEMORY_V2_VERSION_FIELD, NvmlNative.MEMORY_V2_VERSION);
                int rc = NvmlNative.DeviceGetMemoryInfoV2.nvmlDeviceGetMemoryInfo_v2(handle, buf);
                if (rc == NvmlNative.NVML_SUCCESS) {
                    return new MemoryInfo(view.getLong(NvmlNative.MEMORY_V2_TOTAL),
                            view.getLong(NvmlNative.MEMORY_V2_USED),
                            view.getLong(NvmlNative.MEMORY_V2_FREE),
                            OptionalLong.of(view.getLong(NvmlNative.MEMORY_V2_RESERVED)));
                }
                if (!refusesVersionedStruct(rc) || !symbols.has(Feature.MEMORY_V1)) {
                    throw new NvmlException(Symbol.DEVICE_GET_MEMORY_INFO_V2.cName(), rc);
                }
                memoryV2 = false; // e.g. a driver whose header predates the v2 struct: v1 from now on
            }
            session.ensureOpen(Symbol.DEVICE_GET_MEMORY_INFO.cName());
            check(Symbol.DEVICE_GET_MEMORY_INFO, NvmlNative.DeviceGetMemoryInfo.nvmlDeviceGetMemoryInfo(handle, buf));
            return new MemoryInfo(view.getLong(NvmlNative.MEMORY_V1_TOTAL),
                    view.getLong(NvmlNative.MEMORY_V1_USED),
                    view.getLong(NvmlNative.MEMORY_V1_FREE),
                    OptionalLong.empty());
        }
    }

    private static boolean refusesVersionedStruct(int rc) {
        return rc == NvmlNative.NVML_ERROR_ARGUMENT_VERSION_MISMATCH || rc == NvmlNative.NVML_ERROR_NOT_SUPPORTED
                || rc == NvmlNative.NVML_ERROR_FUNCTION_NOT_FOUND;
    }

    @Override
    public Optional<Bar1Memory> bar1Memory() {
        Symbol s = Symbol.DEVICE_GET_BAR1_MEMORY_INFO;
        synchronized (this) {
            session.ensureOpen(s.cName());
            if (!symbols.has(Feature.BAR1_MEMORY)
                    || !answered(NvmlNative.DeviceGetBar1MemoryInfo.nvmlDeviceGetBAR1MemoryInfo(handle, buf), s)) {
                return Optional.empty();
            }
            return Optional.of(new Bar1Memory(view.getLong(NvmlNative.BAR1_TOTAL),
                    view.getLong(NvmlNative.BAR1_USED), view.getLong(NvmlNative.BAR1_FREE)));
        }
    }

    // ---- utilization ----

    @Override
    public Optional<Utilization> utilization() {
        Symbol s = Symbol.DEVICE_GET_UTILIZATION_RATES;
        synchronized (this) {
            session.ensureOpen(s.cName());
            if (!symbols.has(Feature.UTILIZATION)
                    || !answered(NvmlNative.DeviceGetUtilizationRates.nvmlDeviceGetUtilizationRates(handle, buf), s)) {
                return Optional.empty();
            }
            return Optional.of(new Utilization(view.getInt(NvmlNative.UTILIZATION_GPU),
                    view.getInt(NvmlNative.UTILIZATION_MEMORY)));
        }
    }

    @Override
    public Optional<EngineUtilization> encoderUtilization() {
        Symbol s = Symbol.DEVICE_GET_ENCODER_UTILIZATION;
        synchronized (this) {
            session.ensureOpen(s.cName());
            if (!symbols.has(Feature.ENCODER_UTILIZATION)
                    || !answered(NvmlNative.DeviceGetEncoderUtilization.nvmlDeviceGetEncoderUtilization(handle, buf, out1), s)) {
                return Optional.empty();
            }
            return Optional.of(new EngineUtilization(view.getInt(0), Integer.toUnsignedLong(view.getInt(8))));
        }
    }

    @Override
    public Optional<EngineUtilization> decoderUtilization() {
        Symbol s = Symbol.DEVICE_GET_DECODER_UTILIZATION;
        synchronized (this) {
            session.ensureOpen(s.cName());
            if (!symbols.has(Feature.DECODER_UTILIZATION)
                    || !answered(NvmlNative.DeviceGetDecoderUtilization.nvmlDeviceGetDecoderUtilization(handle, buf, out1), s)) {
                return Optional.empty();
            }
            return Optional.of(new EngineUtilization(view.getInt(0), Integer.toUnsignedLong(view.getInt(8))));
        }
    }

    @Override
    public Optional<EncoderStats> encoderStats() {
        Symbol s = Symbol.DEVICE_GET_ENCODER_STATS;
        synchronized (this) {
            session.ensureOpen(s.cName());
            if (!symbols.has(Feature.ENCODER_STATS)
                    || !answered(NvmlNative.DeviceGetEncoderStats.nvmlDeviceGetEncoderStats(handle, buf, out1, out2), s)) {
                return Optional.empty();
            }
            return Optional.of(new EncoderStats(view.getInt(0), view.getInt(8), view.getInt(16)));
        }
    }

    // ---- thermals and power ----

    @Override
    public OptionalInt temperatureCelsius() {
        Symbol s = Symbol.DEVICE_GET_TEMPERATURE;
        synchronized (this) {
            session.ensureOpen(s.cName());
            return symbols.has(Feature.TEMPERATURE)
                    && answered(NvmlNative.DeviceGetTemperature.nvmlDeviceGetTemperature(
                            handle, NvmlNative.NVML_TEMPERATURE_GPU, buf), s)
                    ? OptionalInt.of(view.getInt(0)) : OptionalInt.empty();
        }
    }

    @Override
    public OptionalInt temperatureThresholdCelsius(TemperatureThreshold threshold) {
        Symbol s = Symbol.DEVICE_GET_TEMPERATURE_THRESHOLD;
        synchronized (this) {
            session.ensureOpen(s.cName());
            return symbols.has(Feature.TEMPERATURE_THRESHOLD)
                    && answered(NvmlNative.DeviceGetTemperatureThreshold.nvmlDeviceGetTemperatureThreshold(
                            handle, threshold.code(), buf), s)
                    ? OptionalInt.of(view.getInt(0)) : OptionalInt.empty();
        }
    }

    @Override
    public OptionalInt fanSpeedPercent() {
        Symbol s = Symbol.DEVICE_GET_FAN_SPEED;
        synchronized (this) {
            session.ensureOpen(s.cName());
            return symbols.has(Feature.FAN_SPEED)
                    && answered(NvmlNative.DeviceGetFanSpeed.nvmlDeviceGetFanSpeed(handle, buf), s)
                    ? OptionalInt.of(view.getInt(0)) : OptionalInt.empty();
        }
    }

    @Override
    public OptionalLong powerUsageMilliwatts() {
        Symbol s = Symbol.DEVICE_GET_POWER_USAGE;
        synchronized (this) {
            session.ensureOpen(s.cName());
            return symbols.has(Feature.POWER_USAGE)
                    && answered(NvmlNative.DeviceGetPowerUsage.nvmlDeviceGetPowerUsage(handle, buf), s)
                    ? OptionalLong.of(Integer.toUnsignedLong(view.getInt(0))) : OptionalLong.empty();
        }
    }

    @Override
    public OptionalLong enforcedPowerLimitMilliwatts() {
        Symbol s = Symbol.DEVICE_GET_ENFORCED_POWER_LIMIT;
        synchronized (this) {
            session.ensureOpen(s.cName());
            return symbols.has(Feature.POWER_LIMIT)
                    && answered(NvmlNative.DeviceGetEnforcedPowerLimit.nvmlDeviceGetEnforcedPowerLimit(handle, buf), s)
                    ? OptionalLong.of(Integer.toUnsignedLong(view.getInt(0))) : OptionalLong.empty();
        }
    }

    @Override
    public Optional<PowerLimitConstraints> powerLimitConstraints() {
        Symbol s = Symbol.DEVICE_GET_POWER_MANAGEMENT_LIMIT_CONSTRAINTS;
        synchronized (this) {
            session.ensureOpen(s.cName());
            if (!symbols.has(Feature.POWER_LIMIT_CONSTRAINTS)
                    || !answered(NvmlNative.DeviceGetPowerManagementLimitConstraints
                            .nvmlDeviceGetPowerManagementLimitConstraints(handle, buf, out1), s)) {
                return Optional.empty();
            }
            long min = Integer.toUnsignedLong(view.getInt(0));
            long max = Integer.toUnsignedLong(view.getInt(8));
            // A driver that answers with an inverted range has no usable range: absent, not a guess.
            return max < min ? Optional.empty() : Optional.of(new PowerLimitConstraints(min, max));
        }
    }

    @Override
    public OptionalLong defaultPowerLimitMilliwatts() {
        Symbol s = Symbol.DEVICE_GET_POWER_MANAGEMENT_DEFAULT_LIMIT;
        synchronized (this) {
            session.ensureOpen(s.cName());
            return symbols.has(Feature.DEFAULT_POWER_LIMIT)
                    && answered(NvmlNative.DeviceGetPowerManagementDefaultLimit
                            .nvmlDeviceGetPowerManagementDefaultLimit(handle, buf), s)
                    ? OptionalLong.of(Integer.toUnsignedLong(view.getInt(0))) : OptionalLong.empty();
        }
    }

    @Override
    public OptionalLong totalEnergyMillijoules() {
        Symbol s = Symbol.DEVICE_GET_TOTAL_ENERGY_CONSUMPTION;
        synchronized (this) {
            session.ensureOpen(s.cName());
            return symbols.has(Feature.TOTAL_ENERGY)
                    && answered(NvmlNative.DeviceGetTotalEnergyConsumption.nvmlDeviceGetTotalEnergyConsumption(handle, buf), s)
                    ? OptionalLong.of(view.getLong(0)) : OptionalLong.empty();
        }
    }

    // ---- clocks and performance ----

    @Override
    public OptionalInt clockMhz(ClockType type) {
        Symbol s = Symbol.DEVICE_GET_CLOCK_INFO;
        synchronized (this) {
            session.ensureOpen(s.cName());
            return symbols.has(Feature.CLOCK)
                    && answered(NvmlNative.DeviceGetClockInfo.nvmlDeviceGetClockInfo(handle, type.code(), buf), s)
                    ? OptionalInt.of(view.getInt(0)) : OptionalInt.empty();
        }
    }

    @Override
    public OptionalInt maxClockMhz(ClockType type) {
        Symbol s = Symbol.DEVICE_GET_MAX_CLOCK_INFO;
        synchronized (this) {
            session.ensureOpen(s.cName());
            return symbols.has(Feature.MAX_CLOCK)
                    && answered(NvmlNative.DeviceGetMaxClockInfo.nvmlDeviceGetMaxClockInfo(handle, type.code(), buf), s)
                    ? OptionalInt.of(view.getInt(0)) : OptionalInt.empty();
        }
    }

    @Override
    public OptionalInt performanceState() {
        Symbol s = Symbol.DEVICE_GET_PERFORMANCE_STATE;
        synchronized (this) {
            session.ensureOpen(s.cName());
            if (!symbols.has(Feature.PERFORMANCE_STATE)
                    || !answered(NvmlNative.DeviceGetPerformanceState.nvmlDeviceGetPerformanceState(handle, buf), s)) {
                return OptionalInt.empty();
            }
            int p = view.getInt(0);
            return p < 0 || p >= NvmlNative.NVML_PSTATE_UNKNOWN ? OptionalInt.empty() : OptionalInt.of(p);
        }
    }

    @Override
    public OptionalLong clockEventReasons() {
        Symbol s = symbols.chosen(Feature.CLOCK_EVENT_REASONS);
        synchronized (this) {
            session.ensureOpen(s == null ? Symbol.DEVICE_GET_CURRENT_CLOCKS_EVENT_REASONS.cName() : s.cName());
            if (s == null) {
                return OptionalLong.empty();
            }
            int rc = s == Symbol.DEVICE_GET_CURRENT_CLOCKS_EVENT_REASONS
                    ? NvmlNative.DeviceGetCurrentClocksEventReasons.nvmlDeviceGetCurrentClocksEventReasons(handle, buf)
                    : NvmlNative.DeviceGetCurrentClocksThrottleReasons.nvmlDeviceGetCurrentClocksThrottleReasons(handle, buf);
            return answered(rc, s) ? OptionalLong.of(view.getLong(0)) : OptionalLong.empty();
        }
    }

    // ---- PCIe ----

    @Override
    public OptionalInt pcieThroughputKiBps(PcieCounter counter) {
        Symbol s = Symbol.DEVICE_GET_PCIE_THROUGHPUT;
        synchronized (this) {
            session.ensureOpen(s.cName());
            return symbols.has(Feature.PCIE_THROUGHPUT)
                    && answered(NvmlNative.DeviceGetPcieThroughput.nvmlDeviceGetPcieThroughput(handle, counter.code(), buf), s)
                    ? OptionalInt.of(view.getInt(0)) : OptionalInt.empty();
        }
    }

    @Override
    public OptionalInt pcieLinkGeneration() {
        Symbol s = Symbol.DEVICE_GET_CURR_PCIE_LINK_GENERATION;
        synchronized (this) {
            session.ensureOpen(s.cName());
            return symbols.has(Feature.PCIE_LINK_GENERATION)
                    && answered(NvmlNative.DeviceGetCurrPcieLinkGeneration.nvmlDeviceGetCurrPcieLinkGeneration(handle, buf), s)
                    ? OptionalInt.of(view.getInt(0)) : OptionalInt.empty();
        }
    }

    @Override
    public OptionalInt pcieLinkWidth() {
        Symbol s = Symbol.DEVICE_GET_CURR_PCIE_LINK_WIDTH;
        synchronized (this) {
            session.ensureOpen(s.cName());
            return symbols.has(Feature.PCIE_LINK_WIDTH)
                    && answered(NvmlNative.DeviceGetCurrPcieLinkWidth.nvmlDeviceGetCurrPcieLinkWidth(handle, buf), s)
                    ? OptionalInt.of(view.getInt(0)) : OptionalInt.empty();
        }
    }

    @Override
    public OptionalInt maxPcieLinkGeneration() {
        Symbol s = Symbol.DEVICE_GET_MAX_PCIE_LINK_GENERATION;
        synchronized (this) {
            session.ensureOpen(s.cName());
            return symbols.has(Feature.MAX_PCIE_LINK_GENERATION)
                    && answered(NvmlNative.DeviceGetMaxPcieLinkGeneration.nvmlDeviceGetMaxPcieLinkGeneration(handle, buf), s)
                    ? OptionalInt.of(view.getInt(0)) : OptionalInt.empty();
        }
    }

    @Override
    public OptionalInt maxPcieLinkWidth() {
        Symbol s = Symbol.DEVICE_GET_MAX_PCIE_LINK_WIDTH;
        synchronized (this) {
            session.ensureOpen(s.cName());
            return symbols.has(Feature.MAX_PCIE_LINK_WIDTH)
                    && answered(NvmlNative.DeviceGetMaxPcieLinkWidth.nvmlDeviceGetMaxPcieLinkWidth(handle, buf), s)
                    ? OptionalInt.of(view.getInt(0)) : OptionalInt.empty();
        }
    }

    // ---- processes ----

    @Override
    public List<ProcessInfo> computeProcesses() {
        return processes(symbols.chosen(Feature.COMPUTE_PROCESSES), ProcessKind.COMPUTE);
    }

    @Override
    public List<ProcessInfo> graphicsProcesses() {
        return processes(symbols.chosen(Feature.GRAPHICS_PROCESSES), ProcessKind.GRAPHICS);
    }

    private List<ProcessInfo> processes(Symbol s, ProcessKind kind) {
        synchronized (this) {
            session.ensureOpen(s == null ? "nvmlDevice" + (kind == ProcessKind.COMPUTE ? "Compute" : "Graphics")
                    + "RunningProcesses" : s.cName());
            if (s == null) {
                return List.of();
            }
            int entry = entrySize(s);
            // Size query: a null buffer and a count of 0.
            view.putInt(0, 0);
            int rc = runningProcesses(s, 0L);
            if (rc == NvmlNative.NVML_SUCCESS || !answered(rc, s, NvmlNative.NVML_ERROR_INSUFFICIENT_SIZE)) {
                return List.of(); // no process (or the driver lists none for this device)
            }
            for (int attempt = 0; attempt < LIST_ATTEMPTS; attempt++) {
                int capacity = ensureListCapacity(view.getInt(0), entry, s);
                view.putInt(0, capacity);
                rc = runningProcesses(s, listAddress);
                if (rc == NvmlNative.NVML_SUCCESS) {
                    return decodeProcesses(Math.min(view.getInt(0), capacity), entry, kind);
                }
                if (!answered(rc, s, NvmlNative.NVML_ERROR_INSUFFICIENT_SIZE)) {
                    return List.of();
                }
                // The list grew between the size query and the fill: the driver set the new count.
            }
            throw new NvmlException(s.cName(), NvmlNative.NVML_ERROR_INSUFFICIENT_SIZE,
                    "the process list kept growing over " + LIST_ATTEMPTS + " attempts");
        }
    }

    private int runningProcesses(Symbol s, long infos) {
        return switch (s) {
            case DEVICE_GET_COMPUTE_RUNNING_PROCESSES_V3 ->
                    NvmlNative.DeviceGetComputeRunningProcessesV3.nvmlDeviceGetComputeRunningProcesses_v3(handle, buf, infos);
            case DEVICE_GET_COMPUTE_RUNNING_PROCESSES_V2 ->
                    NvmlNative.DeviceGetComputeRunningProcessesV2.nvmlDeviceGetComputeRunningProcesses_v2(handle, buf, infos);
            case DEVICE_GET_COMPUTE_RUNNING_PROCESSES ->
                    NvmlNative.DeviceGetComputeRunningProcesses.nvmlDeviceGetComputeRunningProcesses(handle, buf, infos);
            case DEVICE_GET_GRAPHICS_RUNNING_PROCESSES_V3 ->
                    NvmlNative.DeviceGetGraphicsRunningProcessesV3.nvmlDeviceGetGraphicsRunningProcesses_v3(handle, buf, infos);
            case DEVICE_GET_GRAPHICS_RUNNING_PROCESSES_V2 ->
                    NvmlNative.DeviceGetGraphicsRunningProcessesV2.nvmlDeviceGetGraphicsRunningProcesses_v2(handle, buf, infos);
            case DEVICE_GET_GRAPHICS_RUNNING_PROCESSES ->
                    NvmlNative.DeviceGetGraphicsRunningProcesses.nvmlDeviceGetGraphicsRunningProcesses(handle, buf, infos);
            default -> throw new IllegalArgumentException(s.cName());
        };
    }

    /** 16-byte entries for the v1 calls, 24 for _v2 and _v3. */
    static int entrySize(Symbol s) {
        return s == Symbol.DEVICE_GET_COMPUTE_RUNNING_PROCESSES || s == Symbol.DEVICE_GET_GRAPHICS_RUNNING_PROCESSES
                ? NvmlNative.PROCESS_INFO_V1_SIZE : NvmlNative.PROCESS_INFO_V2_SIZE;
    }

    private List<ProcessInfo> decodeProcesses(int count, int entry, ProcessKind kind) {
        if (count <= 0) {
            return List.of();
        }
        ExactListBuilder<ProcessInfo> out = processList.clear();
        for (int i = 0; i < count; i++) {
            int base = i * entry;
            long used = listView.getLong(base + NvmlNative.PROCESS_INFO_USED_GPU_MEMORY);
            out.add(new ProcessInfo(listView.getInt(base + NvmlNative.PROCESS_INFO_PID),
                    used == NvmlNative.NVML_VALUE_NOT_AVAILABLE ? OptionalLong.empty() : OptionalLong.of(used), kind));
        }
        return out.build();
    }

    @Override
    public List<ProcessUtilizationSample> processUtilization(long sinceTimestampMicros) {
        Symbol s = Symbol.DEVICE_GET_PROCESS_UTILIZATION;
        synchronized (this) {
            session.ensureOpen(s.cName());
            if (!symbols.has(Feature.PROCESS_UTILIZATION)) {
                return List.of();
            }
            // Size query: a null buffer. NOT_FOUND means no sample newer than the timestamp (an idle GPU).
            view.putInt(0, 0);
            int rc = NvmlNative.DeviceGetProcessUtilization.nvmlDeviceGetProcessUtilization(
                    handle, 0L, buf, sinceTimestampMicros);
            if (rc == NvmlNative.NVML_ERROR_NOT_FOUND || (rc == NvmlNative.NVML_SUCCESS && view.getInt(0) == 0)
                    || !answered(rc, s, NvmlNative.NVML_ERROR_INSUFFICIENT_SIZE)) {
                return List.of();
            }
            for (int attempt = 0; attempt < LIST_ATTEMPTS; attempt++) {
                int capacity = ensureListCapacity(view.getInt(0), NvmlNative.PROCESS_SAMPLE_SIZE, s);
                view.putInt(0, capacity);
                rc = NvmlNative.DeviceGetProcessUtilization.nvmlDeviceGetProcessUtilization(
                        handle, listAddress, buf, sinceTimestampMicros);
                if (rc == NvmlNative.NVML_SUCCESS) {
                    return decodeSamples(Math.min(view.getInt(0), capacity));
                }
                if (rc == NvmlNative.NVML_ERROR_NOT_FOUND || !answered(rc, s, NvmlNative.NVML_ERROR_INSUFFICIENT_SIZE)) {
                    return List.of();
                }
            }
            throw new NvmlException(s.cName(), NvmlNative.NVML_ERROR_INSUFFICIENT_SIZE,
                    "the sample list kept growing over " + LIST_ATTEMPTS + " attempts");
        }
    }

    private List<ProcessUtilizationSample> decodeSamples(int count) {
        if (count <= 0) {
            return List.of();
        }
        ExactListBuilder<ProcessUtilizationSample> out = sampleList.clear();
        for (int i = 0; i < count; i++) {
            int base = i * NvmlNative.PROCESS_SAMPLE_SIZE;
            out.add(new ProcessUtilizationSample(
                    listView.getInt(base + NvmlNative.PROCESS_SAMPLE_PID),
                    listView.getLong(base + NvmlNative.PROCESS_SAMPLE_TIMESTAMP),
                    listView.getInt(base + NvmlNative.PROCESS_SAMPLE_SM),
                    listView.getInt(base + NvmlNative.PROCESS_SAMPLE_MEM),
                    listView.getInt(base + NvmlNative.PROCESS_SAMPLE_ENC),
                    listView.getInt(base + NvmlNative.PROCESS_SAMPLE_DEC)));
        }
        return out.build();
    }

    /** Grows {@link #listBuffer} to hold {@code needed} entries (with room to spare) and answers its capacity in entries. */
    private int ensureListCapacity(int needed, int entry, Symbol s) {
        if (needed < 0 || needed > MAX_LIST_ENTRIES) {
            throw new NvmlException(s.cName(), NvmlNative.NVML_ERROR_INSUFFICIENT_SIZE,
                    "the driver asked for room for " + Integer.toUnsignedString(needed) + " entries");
        }
        long capacity = listBuffer.size() / entry;
        if (capacity < needed) {
            long bytes = Math.max(listBuffer.size() * 2, (needed + needed / 2 + 8L) * entry);
            listBuffer = new Memory(bytes);
            listView = listBuffer.getByteBuffer(0, bytes).order(ByteOrder.nativeOrder());
            listAddress = Pointer.nativeValue(listBuffer);
            capacity = bytes / entry;
        }
        return (int) Math.min(capacity, MAX_LIST_ENTRIES);
    }

    // ---- return codes ----

    /**
     * True on success, false where the value is absent ({@code NOT_SUPPORTED}, or
     * {@code FUNCTION_NOT_FOUND} from a library stub); throws {@link NvmlException} otherwise.
     */
    static boolean answered(int rc, Symbol call) {
        if (rc == NvmlNative.NVML_SUCCESS) {
            return true;
        }
        if (rc == NvmlNative.NVML_ERROR_NOT_SUPPORTED || rc == NvmlNative.NVML_ERROR_FUNCTION_NOT_FOUND) {
            return false;
        }
        throw new NvmlException(call.cName(), rc);
    }

    /** Like {@link #answered(int, Symbol)}, with one more code that is an expected answer (true). */
    private static boolean answered(int rc, Symbol call, int expected) {
        return rc == expected || answered(rc, call);
    }

    static void check(Symbol call, int rc) {
        if (rc != NvmlNative.NVML_SUCCESS) {
            throw new NvmlException(call.cName(), rc);
        }
    }

    private static String string(Memory text) {
        return text.getString(0, StandardCharsets.UTF_8.name());
    }

    @Override
    public String toString() {
        return "NativeDevice[" + index + ", " + name + ", " + uuid + "]";
    }
}
