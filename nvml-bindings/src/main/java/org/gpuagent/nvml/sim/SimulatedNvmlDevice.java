package org.gpuagent.nvml.sim;

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
import org.gpuagent.nvml.NvmlReturn;
import org.gpuagent.nvml.PcieCounter;
import org.gpuagent.nvml.PowerLimitConstraints;
import org.gpuagent.nvml.ProcessInfo;
import org.gpuagent.nvml.ProcessInfo.ProcessKind;
import org.gpuagent.nvml.ProcessUtilizationSample;
import org.gpuagent.nvml.TemperatureThreshold;
import org.gpuagent.nvml.Utilization;

/**
 * A {@link SimulatedDevice} as one session sees it. Every query goes through the same gate: the
 * session must be open (else UNINITIALIZED), the GPU present (else GPU_IS_LOST), then any injected
 * fault, then the profile's unsupported calls (absent value). Identity is read at open, like the
 * JNA binding does, through the same gate.
 */
final class SimulatedNvmlDevice implements NvmlDevice {
    private final SimulatedNvml session;
    private final SimulatedDevice hw;
    private final SimulatedGpuHost host;
    private final String uuid;
    private final String name;
    private final Brand brand;
    private final String pciBusId;
    private final Optional<String> serial;
    private final Optional<String> vbiosVersion;
    private final Optional<ComputeCapability> computeCapability;

    SimulatedNvmlDevice(SimulatedNvml session, SimulatedDevice hw) {
        this.session = session;
        this.hw = hw;
        this.host = session.host();
        GpuProfile p = hw.profile();
        requireIdentity(SimCall.HANDLE_BY_INDEX);
        requireIdentity(SimCall.UUID);
        this.uuid = p.uuid();
        requireIdentity(SimCall.NAME);
        this.name = p.name();
        this.brand = enter(SimCall.BRAND) ? p.brand() : Brand.UNKNOWN;
        requireIdentity(SimCall.PCI_INFO);
        this.pciBusId = p.pciBusId();
        this.serial = enter(SimCall.SERIAL) ? p.serial() : Optional.empty();
        this.vbiosVersion = enter(SimCall.VBIOS_VERSION) ? p.vbiosVersion() : Optional.empty();
        this.computeCapability = enter(SimCall.COMPUTE_CAPABILITY) ? p.computeCapability() : Optional.empty();
    }

    SimulatedNvml session() {
        return session;
    }

    SimulatedDevice hardware() {
        return hw;
    }

    private void requireIdentity(SimCall call) {
        if (!enter(call)) {
            throw new NvmlException(call.cName(), NvmlReturn.NOT_SUPPORTED, "identity is required");
        }
    }

    /** The gate every call passes; false means NOT_SUPPORTED (an absent value). */
    private boolean enter(SimCall call) {
        session.checkOpen(call);
        checkPresent(call);
        boolean supported = host.enterDevice(call, hw);
        // A blocked call may have been released after the session closed or the GPU fell off.
        session.checkOpen(call);
        checkPresent(call);
        return supported;
    }

    private void checkPresent(SimCall call) {
        if (hw.isLost()) {
            throw new NvmlException(call.cName(), NvmlReturn.GPU_IS_LOST, "GPU " + hw.index() + " has fallen off the bus");
        }
    }

    // ---- identity ----

    @Override
    public int index() {
        return hw.index();
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
        boolean v2 = hw.profile().reportsReservedMemory() && enter(SimCall.MEMORY_INFO_V2);
        if (!v2 && !enter(SimCall.MEMORY_INFO)) {
            throw new NvmlException(SimCall.MEMORY_INFO.cName(), NvmlReturn.NOT_SUPPORTED, "no memory query answered");
        }
        long now = host.nowMicros();
        synchronized (host.lock()) {
            hw.advance(now);
            return hw.memoryLocked(v2);
        }
    }

    @Override
    public Optional<Bar1Memory> bar1Memory() {
        if (!enter(SimCall.BAR1_MEMORY)) {
            return Optional.empty();
        }
        synchronized (host.lock()) {
            return Optional.of(hw.bar1Locked());
        }
    }

    // ---- utilization ----

    @Override
    public Optional<Utilization> utilization() {
        if (!enter(SimCall.UTILIZATION)) {
            return Optional.empty();
        }
        long now = host.nowMicros();
        synchronized (host.lock()) {
            hw.advance(now);
            return Optional.of(hw.utilizationLocked(now));
        }
    }

    @Override
    public Optional<EngineUtilization> encoderUtilization() {
        if (!enter(SimCall.ENCODER_UTILIZATION)) {
            return Optional.empty();
        }
        long now = host.nowMicros();
        synchronized (host.lock()) {
            hw.advance(now);
            return Optional.of(new EngineUtilization(hw.encoderPercentLocked(now), hw.profile().samplePeriodMicros()));
        }
    }

    @Override
    public Optional<EngineUtilization> decoderUtilization() {
        if (!enter(SimCall.DECODER_UTILIZATION)) {
            return Optional.empty();
        }
        long now = host.nowMicros();
        synchronized (host.lock()) {
            hw.advance(now);
            return Optional.of(new EngineUtilization(hw.decoderPercentLocked(now), hw.profile().samplePeriodMicros()));
        }
    }

    @Override
    public Optional<EncoderStats> encoderStats() {
        if (!enter(SimCall.ENCODER_STATS)) {
            return Optional.empty();
        }
        long now = host.nowMicros();
        synchronized (host.lock()) {
            hw.advance(now);
            return Optional.of(hw.encoderStatsLocked(now));
        }
    }

    // ---- thermals and power ----

    @Override
    public OptionalInt temperatureCelsius() {
        if (!enter(SimCall.TEMPERATURE)) {
            return OptionalInt.empty();
        }
        long now = host.nowMicros();
        synchronized (host.lock()) {
            hw.advance(now);
            return OptionalInt.of(hw.temperatureLocked());
        }
    }

    @Override
    public OptionalInt temperatureThresholdCelsius(TemperatureThreshold threshold) {
        if (!enter(SimCall.TEMPERATURE_THRESHOLD)) {
            return OptionalInt.empty();
        }
        GpuProfile p = hw.profile();
        return switch (threshold) {
            case SLOWDOWN -> OptionalInt.of(p.slowdownCelsius());
            case SHUTDOWN -> OptionalInt.of(p.shutdownCelsius());
            case MEM_MAX -> p.memMaxCelsius();
            case GPU_MAX -> p.gpuMaxCelsius();
        };
    }

    @Override
    public OptionalInt fanSpeedPercent() {
        if (!enter(SimCall.FAN_SPEED)) {
            return OptionalInt.empty();
        }
        long now = host.nowMicros();
        synchronized (host.lock()) {
            hw.advance(now);
            return OptionalInt.of(hw.fanPercentLocked());
        }
    }

    @Override
    public OptionalLong powerUsageMilliwatts() {
        if (!enter(SimCall.POWER_USAGE)) {
            return OptionalLong.empty();
        }
        long now = host.nowMicros();
        synchronized (host.lock()) {
            hw.advance(now);
            return OptionalLong.of(hw.powerLocked(now));
        }
    }

    @Override
    public OptionalLong enforcedPowerLimitMilliwatts() {
        if (!enter(SimCall.ENFORCED_POWER_LIMIT)) {
            return OptionalLong.empty();
        }
        return OptionalLong.of(hw.profile().powerLimitMilliwatts());
    }

    @Override
    public Optional<PowerLimitConstraints> powerLimitConstraints() {
        if (!enter(SimCall.POWER_LIMIT_CONSTRAINTS)) {
            return Optional.empty();
        }
        return Optional.of(new PowerLimitConstraints(hw.profile().minPowerLimitMilliwatts(),
                hw.profile().maxPowerLimitMilliwatts()));
    }

    @Override
    public OptionalLong defaultPowerLimitMilliwatts() {
        if (!enter(SimCall.DEFAULT_POWER_LIMIT)) {
            return OptionalLong.empty();
        }
        return OptionalLong.of(hw.profile().defaultPowerLimitMilliwatts());
    }

    @Override
    public OptionalLong totalEnergyMillijoules() {
        if (!enter(SimCall.TOTAL_ENERGY)) {
            return OptionalLong.empty();
        }
        long now = host.nowMicros();
        synchronized (host.lock()) {
            hw.advance(now);
            return OptionalLong.of(hw.energyLocked());
        }
    }

    // ---- clocks and performance ----

    @Override
    public OptionalInt clockMhz(ClockType type) {
        if (!enter(SimCall.CLOCK)) {
            return OptionalInt.empty();
        }
        long now = host.nowMicros();
        synchronized (host.lock()) {
            hw.advance(now);
            return OptionalInt.of(hw.clockLocked(type));
        }
    }

    @Override
    public OptionalInt maxClockMhz(ClockType type) {
        if (!enter(SimCall.MAX_CLOCK)) {
            return OptionalInt.empty();
        }
        return OptionalInt.of(hw.profile().maxClockMhz(type));
    }

    @Override
    public OptionalInt performanceState() {
        if (!enter(SimCall.PERFORMANCE_STATE)) {
            return OptionalInt.empty();
        }
        synchronized (host.lock()) {
            return OptionalInt.of(hw.performanceStateLocked());
        }
    }

    @Override
    public OptionalLong clockEventReasons() {
        if (!enter(SimCall.CLOCK_EVENT_REASONS)) {
            return OptionalLong.empty();
        }
        long now = host.nowMicros();
        synchronized (host.lock()) {
            hw.advance(now);
            return OptionalLong.of(hw.clockEventReasonsLocked());
        }
    }

    // ---- PCIe ----

    @Override
    public OptionalInt pcieThroughputKiBps(PcieCounter counter) {
        if (!enter(SimCall.PCIE_THROUGHPUT)) {
            return OptionalInt.empty();
        }
        long now = host.nowMicros();
        synchronized (host.lock()) {
            return OptionalInt.of(hw.pcieThroughputLocked(counter, now));
        }
    }

    @Override
    public OptionalInt pcieLinkGeneration() {
        if (!enter(SimCall.PCIE_LINK_GENERATION)) {
            return OptionalInt.empty();
        }
        synchronized (host.lock()) {
            return OptionalInt.of(hw.pcieLinkGenerationLocked());
        }
    }

    @Override
    public OptionalInt pcieLinkWidth() {
        if (!enter(SimCall.PCIE_LINK_WIDTH)) {
            return OptionalInt.empty();
        }
        return OptionalInt.of(hw.profile().maxPcieLinkWidth());
    }

    @Override
    public OptionalInt maxPcieLinkGeneration() {
        if (!enter(SimCall.MAX_PCIE_LINK_GENERATION)) {
            return OptionalInt.empty();
        }
        return OptionalInt.of(hw.profile().maxPcieLinkGeneration());
    }

    @Override
    public OptionalInt maxPcieLinkWidth() {
        if (!enter(SimCall.MAX_PCIE_LINK_WIDTH)) {
            return OptionalInt.empty();
        }
        return OptionalInt.of(hw.profile().maxPcieLinkWidth());
    }

    // ---- processes ----

    @Override
    public List<ProcessInfo> computeProcesses() {
        if (!enter(SimCall.COMPUTE_PROCESSES)) {
            return List.of();
        }
        synchronized (host.lock()) {
            return hw.processInfosLocked(ProcessKind.COMPUTE);
        }
    }

    @Override
    public List<ProcessInfo> graphicsProcesses() {
        if (!enter(SimCall.GRAPHICS_PROCESSES)) {
            return List.of();
        }
        synchronized (host.lock()) {
            return hw.processInfosLocked(ProcessKind.GRAPHICS);
        }
    }

    @Override
    public List<ProcessUtilizationSample> processUtilization(long sinceTimestampMicros) {
        if (!enter(SimCall.PROCESS_UTILIZATION)) {
            return List.of();
        }
        long now = host.nowMicros();
        synchronized (host.lock()) {
            return hw.processUtilizationLocked(sinceTimestampMicros, now);
        }
    }

    @Override
    public String toString() {
        return "NvmlDevice[sim " + hw.index() + ": " + name + " " + uuid + "]";
    }
}
