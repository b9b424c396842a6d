package org.gpuagent.nvml.sim;

import java.time.Duration;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import org.gpuagent.nvml.Brand;
import org.gpuagent.nvml.ClockType;
import org.gpuagent.nvml.ComputeCapability;

/**
 * What one simulated GPU is: its identity, its fixed limits, and the constants of the simple
 * physical model that turns load into utilization, power, temperature and clocks. Immutable;
 * {@link #toBuilder()} makes variants (another UUID for a second card, a hot closet).
 */
public final class GpuProfile {

    private static final long MIB = 1024L * 1024L;

    /**
     * The owner's card: Quadro P1000 (GP107GL, 5 SMs, 4 GiB GDDR5, 47 W, blower fan) on driver
     * 580. It reads back {@code ExpectedGpu.QUADRO_P1000} exactly. Values the contract does not fix
     * (serial, VBIOS, reserved memory, idle draw, thermal constants) are plausible, not measured.
     *
     * <p>Which of the exporter's optional fields a P1000 answers. Source: the NVML API reference's
     * note on each function (the "For ... fully supported devices" line); NVML counts every Quadro
     * from Fermi on as fully supported (GeForce boards only partly), so a Pascal Quadro answers
     * what Kepler or Maxwell and newer answer:
     * <ul>
     *   <li>BAR1 memory ({@code nvmlDeviceGetBAR1MemoryInfo}): yes, Kepler or newer. 256 MiB is
     *       the usual BAR1 window of a 4 GiB board without resizable BAR (not measured).</li>
     *   <li>PCIe throughput ({@code nvmlDeviceGetPcieThroughput}): yes, Maxwell or newer. Link
     *       generation and width, current and maximum: yes, Fermi or newer; the P1000 is a PCIe 3.0
     *       x16 board (NVIDIA's product brief), and Pascal drops the link to gen 1 when idle.</li>
     *   <li>Encoder statistics ({@code nvmlDeviceGetEncoderStats}: sessions, average FPS and
     *       latency): yes, Maxwell or newer; GP107 has one NVENC (NVIDIA's video encode and decode
     *       support matrix).</li>
     *   <li>Power limit range and default ({@code nvmlDeviceGetPowerManagementLimitConstraints},
     *       {@code nvmlDeviceGetPowerManagementDefaultLimit}): yes, Kepler or newer. The values are
     *       the board's published 47 W; that the range is fixed at 47 W is an assumption, not a
     *       measurement.</li>
     *   <li>Clock event (throttle) reasons ({@code nvmlDeviceGetCurrentClocksEventReasons}, or the
     *       throttle-reasons call before R535): yes, all fully supported products; the agent turns
     *       them into durations itself.</li>
     *   <li>Xid events ({@code nvmlDeviceRegisterEvents} with {@code nvmlEventTypeXidCriticalError}):
     *       yes, Fermi or newer; the time of the last one is the agent's clock when it drained it.</li>
     *   <li>Energy counter ({@code nvmlDeviceGetTotalEnergyConsumption}): no, Volta or newer.</li>
     * </ul>
     */
    public static final GpuProfile QUADRO_P1000 = builder()
            .name("Quadro P1000")
            .uuid("GPU-5e7c1a2b-93d4-4f60-8b1e-2c9d7a4f6e31")
            .brand(Brand.QUADRO)
            .pciBusId("00000000:01:00.0")
            .serial("0324418052231")
            .vbiosVersion("86.07.3E.00.1D")
            .computeCapability(new ComputeCapability(6, 1))
            .memoryTotalBytes(4096 * MIB)
            .memoryReservedBytes(62 * MIB)
            .reportsReservedMemory(true)
            .bar1(256 * MIB, 2 * MIB, 2 * MIB)
            // The reference notes (shared/reference/README.md) measured a CUDA context at 526 MiB
            // on the H200's 132 SMs and expect 100-300 MiB on a P1000, growing with the SM count;
            // ARCHITECTURE.md puts Pascal at 150-300 MiB. Taking 150 MiB as the fixed part (the
            // low end of the Pascal range) leaves (526-150)/132 = 2.85 MiB per SM, so the P1000's
            // 5 SMs give about 150 + 14 = 164 MiB.
            .contextCostBytes(164 * MIB)
            .power(6_000, 47_000, 1.06)
            .powerLimitRange(47_000, 47_000, 47_000)
            .energyCounter(false, 0)
            .thermals(30.0, 1.0, Duration.ofSeconds(45))
            .temperatureThresholds(99, 102, OptionalInt.empty(), OptionalInt.empty())
            .fan(true, 35, 50, 1.5)
            .clocks(Map.of(ClockType.GRAPHICS, 139, ClockType.SM, 139, ClockType.MEMORY, 405, ClockType.VIDEO, 544),
                    Map.of(ClockType.GRAPHICS, 1480, ClockType.SM, 1480, ClockType.MEMORY, 2505, ClockType.VIDEO, 1366))
            .idlePerformanceState(8)
            // Pascal drops the link to gen 1 when idle and trains back to gen 3 under load.
            .pcie(3, 16, 1, 120, 60, 150_000, 400_000)
            .videoEngines(true, true)
            .samplePeriodMicros(167_000)
            .memoryUtilizationRatio(0.45)
            .driver("580.105.08", "13.580.105.08", 13000)
            .build();

    /**
     * NVIDIA H200 as read on a real one ({@code shared/reference/nvml-h200/}: nvml-dump.json and
     * nvidia-smi-q.xml): 143771 MiB with 616 MiB reserved, energy counter, no fan (NOT_SUPPORTED),
     * 700 W, stays in P0 when idle, PCIe gen 5 x16, compute 9.0, a 526 MiB CUDA context (measured).
     * Hopper has NVDEC but no NVENC: the encoder queries answer, always 0.
     */
    public static final GpuProfile H200 = builder()
            .name("NVIDIA H200")
            .uuid("GPU-18cb343f-5c18-c7cf-5ca0-1d49553d8855")
            .brand(Brand.NVIDIA)
            .pciBusId("00000000:00:06.0")
            .serial("1654124044076")
            .vbiosVersion("96.00.A5.00.1A")
            .computeCapability(new ComputeCapability(9, 0))
            .memoryTotalBytes(143_771 * MIB)
            .memoryReservedBytes(616 * MIB)
            .reportsReservedMemory(true)
            .bar1(262_144 * MIB, 1_703_936, 2 * MIB)
            .contextCostBytes(526 * MIB)
            .power(78_319, 700_000, 1.05)
            // nvidia-smi-q.xml: min_power_limit 200 W, max_power_limit 700 W, default_power_limit 700 W.
            .powerLimitRange(200_000, 700_000, 700_000)
            .energyCounter(true, 2_371_174)
            .thermals(31.0, 0.064, Duration.ofSeconds(90))
            .temperatureThresholds(89, 95, OptionalInt.empty(), OptionalInt.empty())
            .fan(false, 0, 0, 0)
            .clocks(Map.of(ClockType.GRAPHICS, 345, ClockType.SM, 345, ClockType.MEMORY, 3201, ClockType.VIDEO, 765),
                    Map.of(ClockType.GRAPHICS, 1980, ClockType.SM, 1980, ClockType.MEMORY, 3201, ClockType.VIDEO, 1545))
            .idlePerformanceState(0)
            .pcie(5, 16, 5, 2070, 600, 2_000_000, 6_000_000)
            .videoEngines(false, true)
            .samplePeriodMicros(100_000)
            .memoryUtilizationRatio(0.30)
            .driver("580.159.04", "13.580.159.04", 13000)
            .build();

    private final String name;
    private final String uuid;
    private final Brand brand;
    private final String pciBusId;
    private final Optional<String> serial;
    private final Optional<String> vbiosVersion;
    private final Optional<ComputeCapability> computeCapability;
    private final long memoryTotalBytes;
    private final long memoryReservedBytes;
    private final boolean reportsReservedMemory;
    private final long bar1TotalBytes;
    private final long bar1BaseUsedBytes;
    private final long bar1PerProcessBytes;
    private final long contextCostBytes;
    private final long idlePowerMilliwatts;
    private final long powerLimitMilliwatts;
    private final long minPowerLimitMilliwatts;
    private final long maxPowerLimitMilliwatts;
    private final long defaultPowerLimitMilliwatts;
    private final double peakDemandRatio;
    private final boolean energyCounter;
    private final long initialEnergyMillijoules;
    private final double ambientCelsius;
    private final double celsiusPerWatt;
    private final Duration thermalTimeConstant;
    private final int slowdownCelsius;
    private final int shutdownCelsius;
    private final OptionalInt memMaxCelsius;
    private final OptionalInt gpuMaxCelsius;
    private final boolean fan;
    private final int fanMinPercent;
    private final int fanRampStartCelsius;
    private final double fanPercentPerCelsius;
    private final EnumMap<ClockType, Integer> idleClocksMhz;
    private final EnumMap<ClockType, Integer> maxClocksMhz;
    private final int idlePerformanceState;
    private final int maxPcieLinkGeneration;
    private final int maxPcieLinkWidth;
    private final int idlePcieLinkGeneration;
    private final int idlePcieTxKiBps;
    private final int idlePcieRxKiBps;
    private final int busyPcieTxKiBps;
    private final int busyPcieRxKiBps;
    private final boolean nvenc;
    private final boolean nvdec;
    private final long samplePeriodMicros;
    private final double memoryUtilizationRatio;
    private final String driverVersion;
    private final String nvmlVersion;
    private final int cudaDriverVersion;
    private final EnumSet<SimCall> unsupported;

    private GpuProfile(Builder b) {
        this.name = require(b.name, "name");
        this.uuid = require(b.uuid, "uuid");
        this.brand = require(b.brand, "brand");
        this.pciBusId = require(b.pciBusId, "pciBusId");
        this.serial = Optional.ofNullable(b.serial);
        this.vbiosVersion = Optional.ofNullable(b.vbiosVersion);
        this.computeCapability = Optional.ofNullable(b.computeCapability);
        this.memoryTotalBytes = positive(b.memoryTotalBytes, "memoryTotalBytes");
        this.memoryReservedBytes = b.memoryReservedBytes;
        if (memoryReservedBytes < 0 || memoryReservedBytes >= memoryTotalBytes) {
            throw new IllegalArgumentException("memoryReservedBytes must be in [0, total): " + memoryReservedBytes);
        }
        this.reportsReservedMemory = b.reportsReservedMemory;
        this.bar1TotalBytes = positive(b.bar1TotalBytes, "bar1TotalBytes");
        this.bar1BaseUsedBytes = b.bar1BaseUsedBytes;
        this.bar1PerProcessBytes = b.bar1PerProcessBytes;
        this.contextCostBytes = b.contextCostBytes;
        if (contextCostBytes < 0 || contextCostBytes >= memoryTotalBytes - memoryReservedBytes) {
            throw new IllegalArgumentException("contextCostBytes must fit the usable memory: " + contextCostBytes);
        }
        this.idlePowerMilliwatts = positive(b.idlePowerMilliwatts, "idlePowerMilliwatts");
        this.powerLimitMilliwatts = positive(b.powerLimitMilliwatts, "powerLimitMilliwatts");
        // Unset (0): a board whose limit cannot be changed, the range collapses to the limit.
        this.minPowerLimitMilliwatts = b.minPowerLimitMilliwatts == 0 ? powerLimitMilliwatts : b.minPowerLimitMilliwatts;
        this.maxPowerLimitMilliwatts = b.maxPowerLimitMilliwatts == 0 ? powerLimitMilliwatts : b.maxPowerLimitMilliwatts;
        this.defaultPowerLimitMilliwatts = b.defaultPowerLimitMilliwatts == 0 ? powerLimitMilliwatts
                : b.defaultPowerLimitMilliwatts;
        if (minPowerLimitMilliwatts > maxPowerLimitMilliwatts || defaultPowerLimitMilliwatts < minPowerLimitMilliwatts
                || defaultPowerLimitMilliwatts > maxPowerLimitMilliwatts) {
            throw new IllegalArgumentException("implausible power limit range " + minPowerLimitMilliwatts + "-"
                    + maxPowerLimitMilliwatts + " mW with default " + defaultPowerLimitMilliwatts + " mW");
        }
        if (idlePowerMilliwatts >= powerLimitMilliwatts) {
            throw new IllegalArgumentException("idle power " + idlePowerMilliwatts + " mW must be below the limit "
                    + powerLimitMilliwatts + " mW");
        }
        if (!(b.peakDemandRatio >= 1.0)) {
            throw new IllegalArgumentException("peakDemandRatio must be >= 1: " + b.peakDemandRatio);
        }
        this.peakDemandRatio = b.peakDemandRatio;
        this.energyCounter = b.energyCounter;
        this.initialEnergyMillijoules = b.initialEnergyMillijoules;
        this.ambientCelsius = b.ambientCelsius;
        this.celsiusPerWatt = b.celsiusPerWatt;
        this.thermalTimeConstant = require(b.thermalTimeConstant, "thermalTimeConstant");
        if (thermalTimeConstant.isNegative() || thermalTimeConstant.isZero()) {
            throw new IllegalArgumentException("thermalTimeConstant must be positive: " + thermalTimeConstant);
        }
        this.slowdownCelsius = b.slowdownCelsius;
        this.shutdownCelsius = b.shutdownCelsius;
        if (slowdownCelsius <= 0 || slowdownCelsius > shutdownCelsius) {
            throw new IllegalArgumentException("need 0 < slowdown <= shutdown: " + slowdownCelsius + ", " + shutdownCelsius);
        }
        this.memMaxCelsius = require(b.memMaxCelsius, "memMaxCelsius");
        this.gpuMaxCelsius = require(b.gpuMaxCelsius, "gpuMaxCelsius");
        this.fan = b.fan;
        this.fanMinPercent = b.fanMinPercent;
        this.fanRampStartCelsius = b.fanRampStartCelsius;
        this.fanPercentPerCelsius = b.fanPercentPerCelsius;
        this.idleClocksMhz = clocks(b.idleClocksMhz, "idle");
        this.maxClocksMhz = clocks(b.maxClocksMhz, "max");
        for (ClockType t : ClockType.values()) {
            if (idleClocksMhz.get(t) > maxClocksMhz.get(t)) {
                throw new IllegalArgumentException(t + " idle clock above its maximum");
            }
        }
        if (b.idlePerformanceState < 0 || b.idlePerformanceState > 15) {
            throw new IllegalArgumentException("idlePerformanceState must be 0..15: " + b.idlePerformanceState);
        }
        this.idlePerformanceState = b.idlePerformanceState;
        this.maxPcieLinkGeneration = b.maxPcieLinkGeneration;
        this.maxPcieLinkWidth = b.maxPcieLinkWidth;
        this.idlePcieLinkGeneration = b.idlePcieLinkGeneration;
        if (maxPcieLinkGeneration < 1 || idlePcieLinkGeneration < 1 || idlePcieLinkGeneration > maxPcieLinkGeneration
                || maxPcieLinkWidth < 1) {
            throw new IllegalArgumentException("implausible PCIe link: gen " + idlePcieLinkGeneration + "/"
                    + maxPcieLinkGeneration + " x" + maxPcieLinkWidth);
        }
        this.idlePcieTxKiBps = b.idlePcieTxKiBps;
        this.idlePcieRxKiBps = b.idlePcieRxKiBps;
        this.busyPcieTxKiBps = b.busyPcieTxKiBps;
        this.busyPcieRxKiBps = b.busyPcieRxKiBps;
        this.nvenc = b.nvenc;
        this.nvdec = b.nvdec;
        this.samplePeriodMicros = positive(b.samplePeriodMicros, "samplePeriodMicros");
        this.memoryUtilizationRatio = b.memoryUtilizationRatio;
        this.driverVersion = require(b.driverVersion, "driverVersion");
        this.nvmlVersion = require(b.nvmlVersion, "nvmlVersion");
        this.cudaDriverVersion = b.cudaDriverVersion;
        this.unsupported = b.unsupported.isEmpty() ? EnumSet.noneOf(SimCall.class) : EnumSet.copyOf(b.unsupported);
        if (!energyCounter) {
            unsupported.add(SimCall.TOTAL_ENERGY);
        }
        if (!fan) {
            unsupported.add(SimCall.FAN_SPEED);
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding every value of this profile. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.name = name;
        b.uuid = uuid;
        b.brand = brand;
        b.pciBusId = pciBusId;
        b.serial = serial.orElse(null);
        b.vbiosVersion = vbiosVersion.orElse(null);
        b.computeCapability = computeCapability.orElse(null);
        b.memoryTotalBytes = memoryTotalBytes;
        b.memoryReservedBytes = memoryReservedBytes;
        b.reportsReservedMemory = reportsReservedMemory;
        b.bar1TotalBytes = bar1TotalBytes;
        b.bar1BaseUsedBytes = bar1BaseUsedBytes;
        b.bar1PerProcessBytes = bar1PerProcessBytes;
        b.contextCostBytes = contextCostBytes;
        b.idlePowerMilliwatts = idlePowerMilliwatts;
        b.powerLimitMilliwatts = powerLimitMilliwatts;
        b.minPowerLimitMilliwatts = minPowerLimitMilliwatts;
        b.maxPowerLimitMilliwatts = maxPowerLimitMilliwatts;
        b.defaultPowerLimitMilliwatts = defaultPowerLimitMilliwatts;
        b.peakDemandRatio = peakDemandRatio;
        b.energyCounter = energyCounter;
        b.initialEnergyMillijoules = initialEnergyMillijoules;
        b.ambientCelsius = ambientCelsius;
        b.celsiusPerWatt = celsiusPerWatt;
        b.thermalTimeConstant = thermalTimeConstant;
        b.slowdownCelsius = slowdownCelsius;
        b.shutdownCelsius = shutdownCelsius;
        b.memMaxCelsius = memMaxCelsius;
        b.gpuMaxCelsius = gpuMaxCelsius;
        b.fan = fan;
        b.fanMinPercent = fanMinPercent;
        b.fanRampStartCelsius = fanRampStartCelsius;
        b.fanPercentPerCelsius = fanPercentPerCelsius;
        b.idleClocksMhz = new EnumMap<>(idleClocksMhz);
        b.maxClocksMhz = new EnumMap<>(maxClocksMhz);
        b.idlePerformanceState = idlePerformanceState;
        b.maxPcieLinkGeneration = maxPcieLinkGeneration;
        b.maxPcieLinkWidth = maxPcieLinkWidth;
        b.idlePcieLinkGeneration = idlePcieLinkGeneration;
        b.idlePcieTxKiBps = idlePcieTxKiBps;
        b.idlePcieRxKiBps = idlePcieRxKiBps;
        b.busyPcieTxKiBps = busyPcieTxKiBps;
        b.busyPcieRxKiBps = busyPcieRxKiBps;
        b.nvenc = nvenc;
        b.nvdec = nvdec;
        b.samplePeriodMicros = samplePeriodMicros;
        b.memoryUtilizationRatio = memoryUtilizationRatio;
        b.driverVersion = driverVersion;
        b.nvmlVersion = nvmlVersion;
        b.cudaDriverVersion = cudaDriverVersion;
        b.unsupported = EnumSet.noneOf(SimCall.class);
        b.unsupported.addAll(unsupported);
        b.unsupported.remove(SimCall.TOTAL_ENERGY);
        b.unsupported.remove(SimCall.FAN_SPEED);
        return b;
    }

    /** The same card at another UUID and PCI address, e.g. the second of two identical cards. */
    public GpuProfile withIdentity(String uuid, String pciBusId) {
        return toBuilder().uuid(uuid).pciBusId(pciBusId).build();
    }

    public String name() {
        return name;
    }

    public String uuid() {
        return uuid;
    }

    public Brand brand() {
        return brand;
    }

    public String pciBusId() {
        return pciBusId;
    }

    public Optional<String> serial() {
        return serial;
    }

    public Optional<String> vbiosVersion() {
        return vbiosVersion;
    }

    public Optional<ComputeCapability> computeCapability() {
        return computeCapability;
    }

    public long memoryTotalBytes() {
        return memoryTotalBytes;
    }

    /** Memory the driver keeps for itself; reported apart from "used" by the {@code _v2} call. */
    public long memoryReservedBytes() {
        return memoryReservedBytes;
    }

    /** True when the driver answers {@code nvmlDeviceGetMemoryInfo_v2} (R510+); else v1 counts reserved as used. */
    public boolean reportsReservedMemory() {
        return reportsReservedMemory;
    }

    public long bar1TotalBytes() {
        return bar1TotalBytes;
    }

    public long bar1BaseUsedBytes() {
        return bar1BaseUsedBytes;
    }

    public long bar1PerProcessBytes() {
        return bar1PerProcessBytes;
    }

    /** What a process's CUDA context costs in frame-buffer memory before it allocates anything. */
    public long contextCostBytes() {
        return contextCostBytes;
    }

    /** Usable memory: total less reserved. */
    public long usableMemoryBytes() {
        return memoryTotalBytes - memoryReservedBytes;
    }

    public long idlePowerMilliwatts() {
        return idlePowerMilliwatts;
    }

    public long powerLimitMilliwatts() {
        return powerLimitMilliwatts;
    }

    public long minPowerLimitMilliwatts() {
        return minPowerLimitMilliwatts;
    }

    public long maxPowerLimitMilliwatts() {
        return maxPowerLimitMilliwatts;
    }

    public long defaultPowerLimitMilliwatts() {
        return defaultPowerLimitMilliwatts;
    }

    /** What full load would draw without the limit, as a multiple of the limit (> 1: full load hits the cap). */
    public double peakDemandRatio() {
        return peakDemandRatio;
    }

    public boolean hasEnergyCounter() {
        return energyCounter;
    }

    public long initialEnergyMillijoules() {
        return initialEnergyMillijoules;
    }

    public double ambientCelsius() {
        return ambientCelsius;
    }

    /** Steady-state temperature rise per watt drawn. */
    public double celsiusPerWatt() {
        return celsiusPerWatt;
    }

    /** Time constant of the first-order lag from draw to temperature. */
    public Duration thermalTimeConstant() {
        return thermalTimeConstant;
    }

    public int slowdownCelsius() {
        return slowdownCelsius;
    }

    public int shutdownCelsius() {
        return shutdownCelsius;
    }

    public OptionalInt memMaxCelsius() {
        return memMaxCelsius;
    }

    public OptionalInt gpuMaxCelsius() {
        return gpuMaxCelsius;
    }

    public boolean hasFan() {
        return fan;
    }

    public int fanMinPercent() {
        return fanMinPercent;
    }

    public int fanRampStartCelsius() {
        return fanRampStartCelsius;
    }

    public double fanPercentPerCelsius() {
        return fanPercentPerCelsius;
    }

    public int idleClockMhz(ClockType type) {
        return idleClocksMhz.get(type);
    }

    public int maxClockMhz(ClockType type) {
        return maxClocksMhz.get(type);
    }

    public int idlePerformanceState() {
        return idlePerformanceState;
    }

    public int maxPcieLinkGeneration() {
        return maxPcieLinkGeneration;
    }

    public int maxPcieLinkWidth() {
        return maxPcieLinkWidth;
    }

    public int idlePcieLinkGeneration() {
        return idlePcieLinkGeneration;
    }

    public int idlePcieTxKiBps() {
        return idlePcieTxKiBps;
    }

    public int idlePcieRxKiBps() {
        return idlePcieRxKiBps;
    }

    public int busyPcieTxKiBps() {
        return busyPcieTxKiBps;
    }

    public int busyPcieRxKiBps() {
        return busyPcieRxKiBps;
    }

    public boolean hasNvenc() {
        return nvenc;
    }

    public boolean hasNvdec() {
        return nvdec;
    }

    /** The driver's utilization sampling period; also the granularity of the simulated noise and samples. */
    public long samplePeriodMicros() {
        return samplePeriodMicros;
    }

    /** Memory-controller busy time per unit of SM busy time. */
    public double memoryUtilizationRatio() {
        return memoryUtilizationRatio;
    }

    public String driverVersion() {
        return driverVersion;
    }

    public String nvmlVersion() {
        return nvmlVersion;
    }

    public int cudaDriverVersion() {
        return cudaDriverVersion;
    }

    /** C names of the calls this card answers with NOT_SUPPORTED (e.g. the energy counter before Volta). */
    public Set<String> unsupportedCalls() {
        Set<String> names = new java.util.TreeSet<>();
        for (SimCall c : unsupported) {
            names.add(c.cName());
        }
        return names;
    }

    boolean supports(SimCall call) {
        return !unsupported.contains(call);
    }

    @Override
    public String toString() {
        return name + " (" + uuid + ")";
    }

    private static <T> T require(T value, String what) {
        return Objects.requireNonNull(value, () -> "GpuProfile needs " + what);
    }

    private static long positive(long value, String what) {
        if (value <= 0) {
            throw new IllegalArgumentException("GpuProfile " + what + " must be positive: " + value);
        }
        return value;
    }

    private static EnumMap<ClockType, Integer> clocks(Map<ClockType, Integer> given, String what) {
        require(given, what + " clocks");
        EnumMap<ClockType, Integer> m = new EnumMap<>(ClockType.class);
        for (ClockType t : ClockType.values()) {
            Integer mhz = given.get(t);
            if (mhz == null || mhz <= 0) {
                throw new IllegalArgumentException("GpuProfile needs a positive " + what + " " + t + " clock, got " + mhz);
            }
            m.put(t, mhz);
        }
        return m;
    }

    /** Fluent builder; {@link #build()} validates and names the first missing or implausible value. */
    public static final class Builder {
        private String name;
        private String uuid;
        private Brand brand;
        private String pciBusId;
        private String serial;
        private String vbiosVersion;
        private ComputeCapability computeCapability;
        private long memoryTotalBytes;
        private long memoryReservedBytes;
        private boolean reportsReservedMemory = true;
        private long bar1TotalBytes = 256 * MIB;
        private long bar1BaseUsedBytes;
        private long bar1PerProcessBytes;
        private long contextCostBytes;
        private long idlePowerMilliwatts;
        private long powerLimitMilliwatts;
        private long minPowerLimitMilliwatts;
        private long maxPowerLimitMilliwatts;
        private long defaultPowerLimitMilliwatts;
        private double peakDemandRatio = 1.05;
        private boolean energyCounter;
        private long initialEnergyMillijoules;
        private double ambientCelsius = 30;
        private double celsiusPerWatt = 0.5;
        private Duration thermalTimeConstant = Duration.ofSeconds(60);
        private int slowdownCelsius;
        private int shutdownCelsius;
        private OptionalInt memMaxCelsius = OptionalInt.empty();
        private OptionalInt gpuMaxCelsius = OptionalInt.empty();
        private boolean fan;
        private int fanMinPercent;
        private int fanRampStartCelsius;
        private double fanPercentPerCelsius;
        private Map<ClockType, Integer> idleClocksMhz;
        private Map<ClockType, Integer> maxClocksMhz;
        private int idlePerformanceState = 8;
        private int maxPcieLinkGeneration = 3;
        private int maxPcieLinkWidth = 16;
        private int idlePcieLinkGeneration = 1;
        private int idlePcieTxKiBps;
        private int idlePcieRxKiBps;
        private int busyPcieTxKiBps;
        private int busyPcieRxKiBps;
        private boolean nvenc;
        private boolean nvdec;
        private long samplePeriodMicros = 100_000;
        private double memoryUtilizationRatio = 0.4;
        private String driverVersion;
        private String nvmlVersion;
        private int cudaDriverVersion;
        private EnumSet<SimCall> unsupported = EnumSet.noneOf(SimCall.class);

        private Builder() {
        }

        public Builder name(String name) {
            this.name = name;
            return this;
        }

        public Builder uuid(String uuid) {
            this.uuid = uuid;
            return this;
        }

        public Builder brand(Brand brand) {
            this.brand = brand;
            return this;
        }

        public Builder pciBusId(String pciBusId) {
            this.pciBusId = pciBusId;
            return this;
        }

        /** {@code null}: the card answers NOT_SUPPORTED (GeForce cards have no serial). */
        public Builder serial(String serial) {
            this.serial = serial;
            return this;
        }

        public Builder vbiosVersion(String vbiosVersion) {
            this.vbiosVersion = vbiosVersion;
            return this;
        }

        public Builder computeCapability(ComputeCapability computeCapability) {
            this.computeCapability = computeCapability;
            return this;
        }

        public Builder memoryTotalBytes(long bytes) {
            this.memoryTotalBytes = bytes;
            return this;
        }

        public Builder memoryReservedBytes(long bytes) {
            this.memoryReservedBytes = bytes;
            return this;
        }

        /** False: a driver without {@code nvmlDeviceGetMemoryInfo_v2} (before R510), reserved counted as used. */
        public Builder reportsReservedMemory(boolean reported) {
            this.reportsReservedMemory = reported;
            return this;
        }

        public Builder bar1(long totalBytes, long baseUsedBytes, long perProcessBytes) {
            this.bar1TotalBytes = totalBytes;
            this.bar1BaseUsedBytes = baseUsedBytes;
            this.bar1PerProcessBytes = perProcessBytes;
            return this;
        }

        public Builder contextCostBytes(long bytes) {
            this.contextCostBytes = bytes;
            return this;
        }

        /** Idle draw, enforced limit, and full-load demand as a multiple of the limit. */
        public Builder power(long idleMilliwatts, long limitMilliwatts, double peakDemandRatio) {
            this.idlePowerMilliwatts = idleMilliwatts;
            this.powerLimitMilliwatts = limitMilliwatts;
            this.peakDemandRatio = peakDemandRatio;
            return this;
        }

        /** The range an administrator may set the limit to, and the limit the board boots with. */
        public Builder powerLimitRange(long minMilliwatts, long maxMilliwatts, long defaultMilliwatts) {
            this.minPowerLimitMilliwatts = minMilliwatts;
            this.maxPowerLimitMilliwatts = maxMilliwatts;
            this.defaultPowerLimitMilliwatts = defaultMilliwatts;
            return this;
        }

        public Builder energyCounter(boolean present, long initialMillijoules) {
            this.energyCounter = present;
            this.initialEnergyMillijoules = initialMillijoules;
            return this;
        }

        public Builder thermals(double ambientCelsius, double celsiusPerWatt, Duration timeConstant) {
            this.ambientCelsius = ambientCelsius;
            this.celsiusPerWatt = celsiusPerWatt;
            this.thermalTimeConstant = timeConstant;
            return this;
        }

        public Builder ambientCelsius(double ambientCelsius) {
            this.ambientCelsius = ambientCelsius;
            return this;
        }

        public Builder temperatureThresholds(int slowdown, int shutdown, OptionalInt memMax, OptionalInt gpuMax) {
            this.slowdownCelsius = slowdown;
            this.shutdownCelsius = shutdown;
            this.memMaxCelsius = memMax;
            this.gpuMaxCelsius = gpuMax;
            return this;
        }

        public Builder fan(boolean present, int minPercent, int rampStartCelsius, double percentPerCelsius) {
            this.fan = present;
            this.fanMinPercent = minPercent;
            this.fanRampStartCelsius = rampStartCelsius;
            this.fanPercentPerCelsius = percentPerCelsius;
            return this;
        }

        public Builder clocks(Map<ClockType, Integer> idleMhz, Map<ClockType, Integer> maxMhz) {
            this.idleClocksMhz = idleMhz;
            this.maxClocksMhz = maxMhz;
            return this;
        }

        public Builder idlePerformanceState(int pstate) {
            this.idlePerformanceState = pstate;
            return this;
        }

        /** Link limits, the generation when idle, and throughput idle and at full load (KiB/s). */
        public Builder pcie(int maxGeneration, int maxWidth, int idleGeneration, int idleTxKiBps, int idleRxKiBps,
                            int busyTxKiBps, int busyRxKiBps) {
            this.maxPcieLinkGeneration = maxGeneration;
            this.maxPcieLinkWidth = maxWidth;
            this.idlePcieLinkGeneration = idleGeneration;
            this.idlePcieTxKiBps = idleTxKiBps;
            this.idlePcieRxKiBps = idleRxKiBps;
            this.busyPcieTxKiBps = busyTxKiBps;
            this.busyPcieRxKiBps = busyRxKiBps;
            return this;
        }

        public Builder videoEngines(boolean nvenc, boolean nvdec) {
            this.nvenc = nvenc;
            this.nvdec = nvdec;
            return this;
        }

        public Builder samplePeriodMicros(long micros) {
            this.samplePeriodMicros = micros;
            return this;
        }

        public Builder memoryUtilizationRatio(double ratio) {
            this.memoryUtilizationRatio = ratio;
            return this;
        }

        public Builder driver(String driverVersion, String nvmlVersion, int cudaDriverVersion) {
            this.driverVersion = driverVersion;
            this.nvmlVersion = nvmlVersion;
            this.cudaDriverVersion = cudaDriverVersion;
            return this;
        }

        /** The card answers NOT_SUPPORTED for this C call (e.g. {@code nvmlDeviceGetPcieThroughput}). */
        public Builder unsupportedCall(String cName) {
            this.unsupported.add(SimCall.byName(cName));
            return this;
        }

        public GpuProfile build() {
            return new GpuProfile(this);
        }
    }
}
