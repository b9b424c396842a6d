package org.gpuagent.nvml.jna;

import static org.gpuagent.nvml.jna.ReturnCodes.answered;
import static org.gpuagent.nvml.jna.ReturnCodes.check;
import static org.gpuagent.nvml.jna.ReturnCodes.refusesVersionedStruct;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import org.gpuagent.nvml.Bar1Memory;
import org.gpuagent.nvml.ClockType;
import org.gpuagent.nvml.DeviceIdentity;
import org.gpuagent.nvml.EncoderStats;
import org.gpuagent.nvml.EngineUtilization;
import org.gpuagent.nvml.MemoryInfo;
import org.gpuagent.nvml.NvmlDevice;
import org.gpuagent.nvml.NvmlException;
import org.gpuagent.nvml.PcieCounter;
import org.gpuagent.nvml.PowerLimitConstraints;
import org.gpuagent.nvml.ProcessInfo;
import org.gpuagent.nvml.ProcessInfo.ProcessKind;
import org.gpuagent.nvml.ProcessUtilizationSample;
import org.gpuagent.nvml.TemperatureThreshold;
import org.gpuagent.nvml.Utilization;
import org.gpuagent.nvml.jna.NvmlSymbolTable.Feature;
import org.gpuagent.nvml.jna.NvmlSymbolTable.Symbol;

/**
 * One device of a {@link NativeNvml} session: one method per {@link NvmlDevice} query, each a
 * direct call into libnvidia-ml through {@link NvmlNative}. The identity is read once by
 * {@link NativeIdentity} in {@link #open}; the list queries are {@link NativeProcessLists}'.
 * Longer than 400 lines on purpose: what is left is the two dozen scalar queries, each its own C
 * function, struct offsets and absent-value rule; they share only the {@link #callable} gate, and
 * folding them into a lambda-taking helper would allocate a capturing lambda per call on the
 * sampler's hot path.
 *
 * <p>Every call reuses this device's native buffers, so calls on one device are serialised on the
 * device's own monitor. Holding it also keeps the device, and so the {@code Memory} behind the
 * addresses passed to the library, reachable until the call returns: the GC does not see an
 * address passed as a {@code long}. Nothing is allocated beyond the value returned (an absent
 * value allocates nothing: {@code NOT_SUPPORTED} is a return code here, never an exception
 * object).
 */
final class NativeDevice implements NvmlDevice {

    private final NativeNvml session;
    private final NvmlSymbolTable symbols;
    private final int index;
    /** The {@code nvmlDevice_t}. */
    private final long handle;
    private final DeviceIdentity identity;

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
    /** Guarded by this; counts through {@link #buf}. */
    private final NativeProcessLists lists;
    /** Cleared for good if the driver refuses the v2 memory struct at run time. Guarded by this. */
    private boolean memoryV2;

    private NativeDevice(NativeNvml session, int index, long handle) {
        this.session = session;
        this.symbols = session.symbols();
        this.index = index;
        this.handle = handle;
        this.memoryV2 = symbols.chosen(Feature.MEMORY) == Symbol.DEVICE_GET_MEMORY_INFO_V2;
        this.identity = NativeIdentity.read(symbols, handle);
        this.lists = new NativeProcessLists(handle, view, buf);
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
        return new NativeDevice(session, index, out.getLong(0));
    }

    /**
     * The gate of every query: the session must be open (else {@code UNINITIALIZED}), then whether
     * the driver has the function at all (else the value is absent). Caller holds this monitor.
     */
    private boolean callable(Symbol s, Feature feature) {
        session.ensureOpen(s.cName());
        return symbols.has(feature);
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
    public DeviceIdentity identity() {
        return identity;
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

    @Override
    public Optional<Bar1Memory> bar1Memory() {
        Symbol s = Symbol.DEVICE_GET_BAR1_MEMORY_INFO;
        synchronized (this) {
            if (!callable(s, Feature.BAR1_MEMORY)
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
            if (!callable(s, Feature.UTILIZATION)
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
            if (!callable(s, Feature.ENCODER_UTILIZATION)
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
            if (!callable(s, Feature.DECODER_UTILIZATION)
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
            if (!callable(s, Feature.ENCODER_STATS)
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
            return callable(s, Feature.TEMPERATURE)
                    && answered(NvmlNative.DeviceGetTemperature.nvmlDeviceGetTemperature(
                            handle, NvmlNative.NVML_TEMPERATURE_GPU, buf), s)
                    ? OptionalInt.of(view.getInt(0)) : OptionalInt.empty();
        }
    }

    @Override
    public OptionalInt temperatureThresholdCelsius(TemperatureThreshold threshold) {
        Symbol s = Symbol.DEVICE_GET_TEMPERATURE_THRESHOLD;
        synchronized (this) {
            return callable(s, Feature.TEMPERATURE_THRESHOLD)
                    && answered(NvmlNative.DeviceGetTemperatureThreshold.nvmlDeviceGetTemperatureThreshold(
                            handle, threshold.code(), buf), s)
                    ? OptionalInt.of(view.getInt(0)) : OptionalInt.empty();
        }
    }

    @Override
    public OptionalInt fanSpeedPercent() {
        Symbol s = Symbol.DEVICE_GET_FAN_SPEED;
        synchronized (this) {
            return callable(s, Feature.FAN_SPEED)
                    && answered(NvmlNative.DeviceGetFanSpeed.nvmlDeviceGetFanSpeed(handle, buf), s)
                    ? OptionalInt.of(view.getInt(0)) : OptionalInt.empty();
        }
    }

    @Override
    public OptionalLong powerUsageMilliwatts() {
        Symbol s = Symbol.DEVICE_GET_POWER_USAGE;
        synchronized (this) {
            return callable(s, Feature.POWER_USAGE)
                    && answered(NvmlNative.DeviceGetPowerUsage.nvmlDeviceGetPowerUsage(handle, buf), s)
                    ? OptionalLong.of(Integer.toUnsignedLong(view.getInt(0))) : OptionalLong.empty();
        }
    }

    @Override
    public OptionalLong enforcedPowerLimitMilliwatts() {
        Symbol s = Symbol.DEVICE_GET_ENFORCED_POWER_LIMIT;
        synchronized (this) {
            return callable(s, Feature.POWER_LIMIT)
                    && answered(NvmlNative.DeviceGetEnforcedPowerLimit.nvmlDeviceGetEnforcedPowerLimit(handle, buf), s)
                    ? OptionalLong.of(Integer.toUnsignedLong(view.getInt(0))) : OptionalLong.empty();
        }
    }

    @Override
    public Optional<PowerLimitConstraints> powerLimitConstraints() {
        Symbol s = Symbol.DEVICE_GET_POWER_MANAGEMENT_LIMIT_CONSTRAINTS;
        synchronized (this) {
            if (!callable(s, Feature.POWER_LIMIT_CONSTRAINTS)
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
            return callable(s, Feature.DEFAULT_POWER_LIMIT)
                    && answered(NvmlNative.DeviceGetPowerManagementDefaultLimit
                            .nvmlDeviceGetPowerManagementDefaultLimit(handle, buf), s)
                    ? OptionalLong.of(Integer.toUnsignedLong(view.getInt(0))) : OptionalLong.empty();
        }
    }

    @Override
    public OptionalLong totalEnergyMillijoules() {
        Symbol s = Symbol.DEVICE_GET_TOTAL_ENERGY_CONSUMPTION;
        synchronized (this) {
            return callable(s, Feature.TOTAL_ENERGY)
                    && answered(NvmlNative.DeviceGetTotalEnergyConsumption.nvmlDeviceGetTotalEnergyConsumption(handle, buf), s)
                    ? OptionalLong.of(view.getLong(0)) : OptionalLong.empty();
        }
    }

    // ---- clocks and performance ----

    @Override
    public OptionalInt clockMhz(ClockType type) {
        Symbol s = Symbol.DEVICE_GET_CLOCK_INFO;
        synchronized (this) {
            return callable(s, Feature.CLOCK)
                    && answered(NvmlNative.DeviceGetClockInfo.nvmlDeviceGetClockInfo(handle, type.code(), buf), s)
                    ? OptionalInt.of(view.getInt(0)) : OptionalInt.empty();
        }
    }

    @Override
    public OptionalInt maxClockMhz(ClockType type) {
        Symbol s = Symbol.DEVICE_GET_MAX_CLOCK_INFO;
        synchronized (this) {
            return callable(s, Feature.MAX_CLOCK)
                    && answered(NvmlNative.DeviceGetMaxClockInfo.nvmlDeviceGetMaxClockInfo(handle, type.code(), buf), s)
                    ? OptionalInt.of(view.getInt(0)) : OptionalInt.empty();
        }
    }

    @Override
    public OptionalInt performanceState() {
        Symbol s = Symbol.DEVICE_GET_PERFORMANCE_STATE;
        synchronized (this) {
            if (!callable(s, Feature.PERFORMANCE_STATE)
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
            return callable(s, Feature.PCIE_THROUGHPUT)
                    && answered(NvmlNative.DeviceGetPcieThroughput.nvmlDeviceGetPcieThroughput(handle, counter.code(), buf), s)
                    ? OptionalInt.of(view.getInt(0)) : OptionalInt.empty();
        }
    }

    @Override
    public OptionalInt pcieLinkGeneration() {
        Symbol s = Symbol.DEVICE_GET_CURR_PCIE_LINK_GENERATION;
        synchronized (this) {
            return callable(s, Feature.PCIE_LINK_GENERATION)
                    && answered(NvmlNative.DeviceGetCurrPcieLinkGeneration.nvmlDeviceGetCurrPcieLinkGeneration(handle, buf), s)
                    ? OptionalInt.of(view.getInt(0)) : OptionalInt.empty();
        }
    }

    @Override
    public OptionalInt pcieLinkWidth() {
        Symbol s = Symbol.DEVICE_GET_CURR_PCIE_LINK_WIDTH;
        synchronized (this) {
            return callable(s, Feature.PCIE_LINK_WIDTH)
                    && answered(NvmlNative.DeviceGetCurrPcieLinkWidth.nvmlDeviceGetCurrPcieLinkWidth(handle, buf), s)
                    ? OptionalInt.of(view.getInt(0)) : OptionalInt.empty();
        }
    }

    @Override
    public OptionalInt maxPcieLinkGeneration() {
        Symbol s = Symbol.DEVICE_GET_MAX_PCIE_LINK_GENERATION;
        synchronized (this) {
            return callable(s, Feature.MAX_PCIE_LINK_GENERATION)
                    && answered(NvmlNative.DeviceGetMaxPcieLinkGeneration.nvmlDeviceGetMaxPcieLinkGeneration(handle, buf), s)
                    ? OptionalInt.of(view.getInt(0)) : OptionalInt.empty();
        }
    }

    @Override
    public OptionalInt maxPcieLinkWidth() {
        Symbol s = Symbol.DEVICE_GET_MAX_PCIE_LINK_WIDTH;
        synchronized (this) {
            return callable(s, Feature.MAX_PCIE_LINK_WIDTH)
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
            return s == null ? List.of() : lists.processes(s, kind);
        }
    }

    @Override
    public List<ProcessUtilizationSample> processUtilization(long sinceTimestampMicros) {
        synchronized (this) {
            return callable(Symbol.DEVICE_GET_PROCESS_UTILIZATION, Feature.PROCESS_UTILIZATION)
                    ? lists.processUtilization(sinceTimestampMicros) : List.of();
        }
    }

    @Override
    public String toString() {
        return "NativeDevice[" + index + ", " + identity.name() + ", " + identity.uuid() + "]";
    }
}
