package org.gpuagent.nvml.sampler;

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
import org.gpuagent.nvml.Nvml;
import org.gpuagent.nvml.NvmlDevice;
import org.gpuagent.nvml.NvmlEvent;
import org.gpuagent.nvml.NvmlEventSet;
import org.gpuagent.nvml.PcieCounter;
import org.gpuagent.nvml.ProcessInfo;
import org.gpuagent.nvml.ProcessUtilizationSample;
import org.gpuagent.nvml.TemperatureThreshold;
import org.gpuagent.nvml.Utilization;

/**
 * An NVML session whose one device answers every query with the same preallocated value, so that
 * what a collect allocates is the sampler's own doing.
 */
final class ConstantNvml implements Nvml, NvmlDevice, NvmlEventSet {
    private static final Optional<Bar1Memory> BAR1 = Optional.of(new Bar1Memory(256, 2, 254));
    private static final Optional<Utilization> UTIL = Optional.of(new Utilization(40, 20));
    private static final Optional<EngineUtilization> ENGINE = Optional.of(new EngineUtilization(10, 167_000));
    private static final Optional<EncoderStats> ENCODER = Optional.of(new EncoderStats(1, 30, 1200));
    private static final MemoryInfo MEMORY = new MemoryInfo(4096, 1024, 3010, OptionalLong.of(62));
    private static final OptionalInt INT = OptionalInt.of(55);
    private static final OptionalLong LONG = OptionalLong.of(30_000);
    private static final List<ProcessInfo> PROCESSES = List.of(new ProcessInfo(42, OptionalLong.of(512), ProcessInfo.ProcessKind.COMPUTE));
    private static final List<ProcessUtilizationSample> SAMPLES = List.of(new ProcessUtilizationSample(42, 1, 40, 20, 0, 0));

    @Override
    public String backend() {
        return "constant";
    }

    @Override
    public int deviceCount() {
        return 1;
    }

    @Override
    public NvmlDevice device(int index) {
        return this;
    }

    @Override
    public List<NvmlDevice> devices() {
        return List.of(this);
    }

    @Override
    public NvmlDevice deviceByUuid(String uuid) {
        return this;
    }

    @Override
    public String driverVersion() {
        return "580.105.08";
    }

    @Override
    public String nvmlVersion() {
        return "13.580.105.08";
    }

    @Override
    public OptionalInt cudaDriverVersion() {
        return OptionalInt.of(13000);
    }

    @Override
    public NvmlEventSet createEventSet() {
        return this;
    }

    @Override
    public long register(NvmlDevice device, long eventTypes) {
        return eventTypes;
    }

    @Override
    public Optional<NvmlEvent> poll(int timeoutMillis) {
        return Optional.empty();
    }

    @Override
    public void close() {
    }

    @Override
    public int index() {
        return 0;
    }

    @Override
    public String uuid() {
        return "GPU-00000000-0000-4000-8000-000000000001";
    }

    @Override
    public String name() {
        return "Constant";
    }

    @Override
    public Brand brand() {
        return Brand.QUADRO;
    }

    @Override
    public String pciBusId() {
        return "00000000:01:00.0";
    }

    @Override
    public Optional<String> serial() {
        return Optional.empty();
    }

    @Override
    public Optional<String> vbiosVersion() {
        return Optional.empty();
    }

    @Override
    public Optional<ComputeCapability> computeCapability() {
        return Optional.empty();
    }

    @Override
    public MemoryInfo memory() {
        return MEMORY;
    }

    @Override
    public Optional<Bar1Memory> bar1Memory() {
        return BAR1;
    }

    @Override
    public Optional<Utilization> utilization() {
        return UTIL;
    }

    @Override
    public Optional<EngineUtilization> encoderUtilization() {
        return ENGINE;
    }

    @Override
    public Optional<EngineUtilization> decoderUtilization() {
        return ENGINE;
    }

    @Override
    public Optional<EncoderStats> encoderStats() {
        return ENCODER;
    }

    @Override
    public OptionalInt temperatureCelsius() {
        return INT;
    }

    @Override
    public OptionalInt temperatureThresholdCelsius(TemperatureThreshold threshold) {
        return INT;
    }

    @Override
    public OptionalInt fanSpeedPercent() {
        return INT;
    }

    @Override
    public OptionalLong powerUsageMilliwatts() {
        return LONG;
    }

    @Override
    public OptionalLong enforcedPowerLimitMilliwatts() {
        return LONG;
    }

    @Override
    public OptionalLong totalEnergyMillijoules() {
        return OptionalLong.empty();
    }

    @Override
    public OptionalInt clockMhz(ClockType type) {
        return INT;
    }

    @Override
    public OptionalInt maxClockMhz(ClockType type) {
        return INT;
    }

    @Override
    public OptionalInt performanceState() {
        return INT;
    }

    @Override
    public OptionalLong clockEventReasons() {
        return LONG;
    }

    @Override
    public OptionalInt pcieThroughputKiBps(PcieCounter counter) {
        return INT;
    }

    @Override
    public OptionalInt pcieLinkGeneration() {
        return INT;
    }

    @Override
    public OptionalInt pcieLinkWidth() {
        return INT;
    }

    @Override
    public OptionalInt maxPcieLinkGeneration() {
        return INT;
    }

    @Override
    public OptionalInt maxPcieLinkWidth() {
        return INT;
    }

    @Override
    public List<ProcessInfo> computeProcesses() {
        return PROCESSES;
    }

    @Override
    public List<ProcessInfo> graphicsProcesses() {
        return List.of();
    }

    @Override
    public List<ProcessUtilizationSample> processUtilization(long sinceTimestampMicros) {
        return SAMPLES;
    }
}
