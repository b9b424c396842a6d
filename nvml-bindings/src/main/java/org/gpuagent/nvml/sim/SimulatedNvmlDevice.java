package org.gpuagent.nvml.sim;

import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import org.gpuagent.nvml.Bar1Memory;
import org.gpuagent.nvml.Brand;
import org.gpuagent.nvml.ClockType;
import org.gpuagent.nvml.ComputeCapability;
import org.gpuagent.nvml.DeviceIdentity;
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
    private final DeviceIdentity identity;

    SimulatedNvmlDevice(SimulatedNvml session, SimulatedDevice hw) {
        this.session = session;
        this.hw = hw;
        this.host = session.host();
        DeviceIdentity card = hw.profile().identity();
        requireIdentity(SimCall.HANDLE_BY_INDEX);
        requireIdentity(SimCall.UUID);
        requireIdentity(SimCall.NAME);
        Brand brand = enter(SimCall.BRAND) ? card.brand() : Brand.UNKNOWN;
        requireIdentity(SimCall.PCI_INFO);
        Optional<String> serial = enter(SimCall.SERIAL) ? card.serial() : Optional.empty();
        Optional<String> vbiosVersion = enter(SimCall.VBIOS_VERSION) ? card.vbiosVersion() : Optional.empty();
        Optional<ComputeCapability> computeCapability = enter(SimCall.COMPUTE_CAPABILITY)
                ? card.computeCapability() : Optional.empty();
        this.identity = new DeviceIdentity(card.uuid(), card.name(), brand, card.pciBusId(), serial, vbiosVersion,
                computeCapability);
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
    public DeviceIdentity identity() {
        return identity;
    }

    // ---- memory ----

    @Override
    public MemoryInfo memory() {
        boolean v2 = hw.profile().memory().reservedReported() && enter(SimCall.MEMORY_INFO_V2);
        if (!v2 && !enter(SimCall.MEMORY_INFO)) {
            throw new NvmlException(SimCall.MEMORY_INFO.cName(), NvmlReturn.NOT_SUPPORTED, "no memory query answered");
        }
        long now = host.nowMicros();
        synchronized (host.lock()) {
            hw.physics().advance(now);
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
            hw.physics().advance(now);
            return Optional.of(hw.physics().utilization(now));
        }
    }

    @Override
    public Optional<EngineUtilization> encoderUtilization() {
        if (!enter(SimCall.ENCODER_UTILIZATION)) {
            return Optional.empty();
        }
        long now = host.nowMicros();
        synchronized (host.lock()) {
            hw.physics().advance(now);
            return Optional.of(new EngineUtilization(hw.physics().encoderPercent(now),
                    hw.profile().engines().samplePeriodMicros()));
        }
    }

    @Override
    public Optional<EngineUtilization> decoderUtilization() {
        if (!enter(SimCall.DECODER_UTILIZATION)) {
            return Optional.empty();
        }
        long now = host.nowMicros();
        synchronized (host.lock()) {
            hw.physics().advance(now);
            return Optional.of(new EngineUtilization(hw.physics().decoderPercent(now),
                    hw.profile().engines().samplePeriodMicros()));
        }
    }

    @Override
    public Optional<EncoderStats> encoderStats() {
        if (!enter(SimCall.ENCODER_STATS)) {
            return Optional.empty();
        }
        long now = host.nowMicros();
        synchronized (host.lock()) {
            hw.physics().advance(now);
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
            hw.physics().advance(now);
            return OptionalInt.of(hw.physics().temperature());
        }
    }

    @Override
    public OptionalInt temperatureThresholdCelsius(TemperatureThreshold threshold) {
        if (!enter(SimCall.TEMPERATURE_THRESHOLD)) {
            return OptionalInt.empty();
        }
        return hw.profile().thermal().thresholdCelsius(threshold);
    }

    @Override
    public OptionalInt fanSpeedPercent() {
        Optional<GpuProfile.Fan> fan = hw.profile().fan();
        if (!enter(SimCall.FAN_SPEED) || fan.isEmpty()) {
            return OptionalInt.empty();
        }
        long now = host.nowMicros();
        synchronized (host.lock()) {
            hw.physics().advance(now);
            return OptionalInt.of(hw.physics().fanPercent(fan.get()));
        }
    }

    @Override
    public OptionalLong powerUsageMilliwatts() {
        if (!enter(SimCall.POWER_USAGE)) {
            return OptionalLong.empty();
        }
        long now = host.nowMicros();
        synchronized (host.lock()) {
            hw.physics().advance(now);
            return OptionalLong.of(hw.physics().power(now));
        }
    }

    @Override
    public OptionalLong enforcedPowerLimitMilliwatts() {
        if (!enter(SimCall.ENFORCED_POWER_LIMIT)) {
            return OptionalLong.empty();
        }
        return OptionalLong.of(hw.profile().power().limitMilliwatts());
    }

    @Override
    public Optional<PowerLimitConstraints> powerLimitConstraints() {
        if (!enter(SimCall.POWER_LIMIT_CONSTRAINTS)) {
            return Optional.empty();
        }
        return Optional.of(hw.profile().power().limitRange());
    }

    @Override
    public OptionalLong defaultPowerLimitMilliwatts() {
        if (!enter(SimCall.DEFAULT_POWER_LIMIT)) {
            return OptionalLong.empty();
        }
        return OptionalLong.of(hw.profile().power().defaultLimitMilliwatts());
    }

    @Override
    public OptionalLong totalEnergyMillijoules() {
        if (!enter(SimCall.TOTAL_ENERGY)) {
            return OptionalLong.empty();
        }
        long now = host.nowMicros();
        synchronized (host.lock()) {
            hw.physics().advance(now);
            return OptionalLong.of(hw.physics().energy());
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
            hw.physics().advance(now);
            return OptionalInt.of(hw.physics().clock(type));
        }
    }

    @Override
    public OptionalInt maxClockMhz(ClockType type) {
        if (!enter(SimCall.MAX_CLOCK)) {
            return OptionalInt.empty();
        }
        return OptionalInt.of(hw.profile().clocks().max(type));
    }

    @Override
    public OptionalInt performanceState() {
        if (!enter(SimCall.PERFORMANCE_STATE)) {
            return OptionalInt.empty();
        }
        synchronized (host.lock()) {
            return OptionalInt.of(hw.physics().performanceState());
        }
    }

    @Override
    public OptionalLong clockEventReasons() {
        if (!enter(SimCall.CLOCK_EVENT_REASONS)) {
            return OptionalLong.empty();
        }
        long now = host.nowMicros();
        synchronized (host.lock()) {
            hw.physics().advance(now);
            return OptionalLong.of(hw.physics().clockEventReasons());
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
            return OptionalInt.of(hw.physics().pcieThroughput(counter, now));
        }
    }

    @Override
    public OptionalInt pcieLinkGeneration() {
        if (!enter(SimCall.PCIE_LINK_GENERATION)) {
            return OptionalInt.empty();
        }
        synchronized (host.lock()) {
            return OptionalInt.of(hw.physics().pcieLinkGeneration());
        }
    }

    @Override
    public OptionalInt pcieLinkWidth() {
        if (!enter(SimCall.PCIE_LINK_WIDTH)) {
            return OptionalInt.empty();
        }
        return OptionalInt.of(hw.profile().pcie().maxWidth());
    }

    @Override
    public OptionalInt maxPcieLinkGeneration() {
        if (!enter(SimCall.MAX_PCIE_LINK_GENERATION)) {
            return OptionalInt.empty();
        }
        return OptionalInt.of(hw.profile().pcie().maxGeneration());
    }

    @Override
    public OptionalInt maxPcieLinkWidth() {
        if (!enter(SimCall.MAX_PCIE_LINK_WIDTH)) {
            return OptionalInt.empty();
        }
        return OptionalInt.of(hw.profile().pcie().maxWidth());
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
        return "NvmlDevice[sim " + hw.index() + ": " + identity.name() + " " + identity.uuid() + "]";
    }
}
