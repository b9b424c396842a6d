package org.gpuagent.nvml.sim;

import java.time.Duration;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;
import org.gpuagent.nvml.Brand;
import org.gpuagent.nvml.ClockType;
import org.gpuagent.nvml.ComputeCapability;
import org.gpuagent.nvml.DeviceIdentity;
import org.gpuagent.nvml.PcieCounter;
import org.gpuagent.nvml.PowerLimitConstraints;
import org.gpuagent.nvml.TemperatureThreshold;

/**
 * What one simulated GPU is: its identity, its fixed limits, and the constants of the simple
 * physical model ({@link SimulatedPhysics}) that turns load into utilization, power, temperature
 * and clocks. A record of small records, each validating its own values and naming the first
 * implausible one; the {@code with...} methods make variants (another UUID for a second card, an
 * older driver).
 *
 * @param identity         what the identity queries answer (the simulator may still refuse one:
 *                         see {@link SimulatedGpuHost#failCall})
 * @param fan              absent on a passively cooled card (the fan query answers NOT_SUPPORTED)
 * @param unsupportedCalls C names of calls this card answers with NOT_SUPPORTED besides those its
 *                         records imply (no fan, no energy counter); stored by their exact names
 */
public record GpuProfile(DeviceIdentity identity, Memory memory, Power power, Thermal thermal, Optional<Fan> fan,
                         Clocks clocks, Pcie pcie, Engines engines, Driver driver, Set<String> unsupportedCalls) {

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
    public static final GpuProfile QUADRO_P1000 = new GpuProfile(
            new DeviceIdentity("GPU-5e7c1a2b-93d4-4f60-8b1e-2c9d7a4f6e31", "Quadro P1000", Brand.QUADRO,
                    "00000000:01:00.0", Optional.of("0324418052231"), Optional.of("86.07.3E.00.1D"),
                    Optional.of(new ComputeCapability(6, 1))),
            // The reference notes (docs/reference-data.md) measured a CUDA context at 526 MiB
            // on the H200's 132 SMs and expect 100-300 MiB on a P1000, growing with the SM count;
            // ARCHITECTURE.md puts Pascal at 150-300 MiB. Taking 150 MiB as the fixed part (the
            // low end of the Pascal range) leaves (526-150)/132 = 2.85 MiB per SM, so the P1000's
            // 5 SMs give about 150 + 14 = 164 MiB.
            new Memory(4096 * MIB, 62 * MIB, true, 164 * MIB, new Bar1(256 * MIB, 2 * MIB, 2 * MIB)),
            new Power(6_000, 47_000, 1.06, new PowerLimitConstraints(47_000, 47_000), 47_000, OptionalLong.empty()),
            new Thermal(30.0, 1.0, Duration.ofSeconds(45), 99, 102, OptionalInt.empty(), OptionalInt.empty()),
            Optional.of(new Fan(35, 50, 1.5)),
            new Clocks(Map.of(ClockType.GRAPHICS, 139, ClockType.SM, 139, ClockType.MEMORY, 405, ClockType.VIDEO, 544),
                    Map.of(ClockType.GRAPHICS, 1480, ClockType.SM, 1480, ClockType.MEMORY, 2505, ClockType.VIDEO, 1366),
                    8),
            // Pascal drops the link to gen 1 when idle and trains back to gen 3 under load.
            new Pcie(3, 16, 1, new Traffic(120, 60), new Traffic(150_000, 400_000)),
            new Engines(true, true, 167_000, 0.45),
            new Driver("580.105.08", "13.580.105.08", 13000),
            Set.of());

    /**
     * NVIDIA H200 as read on a real one ({@code docs/reference-data/nvml-h200/}: nvml-dump.json and
     * nvidia-smi-q.xml): 143771 MiB with 616 MiB reserved, energy counter, no fan (NOT_SUPPORTED),
     * 700 W, stays in P0 when idle, PCIe gen 5 x16, compute 9.0, a 526 MiB CUDA context (measured).
     * Hopper has NVDEC but no NVENC: the encoder queries answer, always 0.
     */
    public static final GpuProfile H200 = new GpuProfile(
            new DeviceIdentity("GPU-18cb343f-5c18-c7cf-5ca0-1d49553d8855", "NVIDIA H200", Brand.NVIDIA,
                    "00000000:00:06.0", Optional.of("1654124044076"), Optional.of("96.00.A5.00.1A"),
                    Optional.of(new ComputeCapability(9, 0))),
            new Memory(143_771 * MIB, 616 * MIB, true, 526 * MIB, new Bar1(262_144 * MIB, 1_703_936, 2 * MIB)),
            // nvidia-smi-q.xml: min_power_limit 200 W, max_power_limit 700 W, default_power_limit 700 W.
            new Power(78_319, 700_000, 1.05, new PowerLimitConstraints(200_000, 700_000), 700_000,
                    OptionalLong.of(2_371_174)),
            new Thermal(31.0, 0.064, Duration.ofSeconds(90), 89, 95, OptionalInt.empty(), OptionalInt.empty()),
            Optional.empty(),
            new Clocks(Map.of(ClockType.GRAPHICS, 345, ClockType.SM, 345, ClockType.MEMORY, 3201, ClockType.VIDEO, 765),
                    Map.of(ClockType.GRAPHICS, 1980, ClockType.SM, 1980, ClockType.MEMORY, 3201, ClockType.VIDEO, 1545),
                    0),
            new Pcie(5, 16, 5, new Traffic(2070, 600), new Traffic(2_000_000, 6_000_000)),
            new Engines(false, true, 100_000, 0.30),
            new Driver("580.159.04", "13.580.159.04", 13000),
            Set.of());

    public GpuProfile {
        Objects.requireNonNull(identity, "GpuProfile needs an identity");
        Objects.requireNonNull(memory, "GpuProfile needs memory");
        Objects.requireNonNull(power, "GpuProfile needs power");
        Objects.requireNonNull(thermal, "GpuProfile needs thermals");
        Objects.requireNonNull(fan, "GpuProfile needs a fan or Optional.empty()");
        Objects.requireNonNull(clocks, "GpuProfile needs clocks");
        Objects.requireNonNull(pcie, "GpuProfile needs PCIe");
        Objects.requireNonNull(engines, "GpuProfile needs engines");
        Objects.requireNonNull(driver, "GpuProfile needs a driver");
        Set<String> exact = new TreeSet<>();
        for (String name : Objects.requireNonNull(unsupportedCalls, "unsupportedCalls")) {
            exact.add(SimCall.byName(name).cName());
        }
        unsupportedCalls = Set.copyOf(exact);
    }

    /** Frame buffer, BAR1 window and what a CUDA context costs. */
    public record Memory(long totalBytes, long reservedBytes, boolean reservedReported, long contextCostBytes,
                         Bar1 bar1) {
        /**
         * @param reservedBytes    memory the driver keeps for itself; reported apart from "used" by
         *                         the {@code _v2} call
         * @param reservedReported true when the driver answers {@code nvmlDeviceGetMemoryInfo_v2}
         *                         (R510+); else v1 counts reserved memory as used
         * @param contextCostBytes what a process's CUDA context costs in frame-buffer memory before
         *                         it allocates anything
         */
        public Memory {
            positive(totalBytes, "memory totalBytes");
            if (reservedBytes < 0 || reservedBytes >= totalBytes) {
                throw new IllegalArgumentException("memoryReservedBytes must be in [0, total): " + reservedBytes);
            }
            if (contextCostBytes < 0 || contextCostBytes >= totalBytes - reservedBytes) {
                throw new IllegalArgumentException("contextCostBytes must fit the usable memory: " + contextCostBytes);
            }
            Objects.requireNonNull(bar1, "bar1");
        }

        /** Usable memory: total less reserved. */
        public long usableBytes() {
            return totalBytes - reservedBytes;
        }

        /** The same memory behind a driver with ({@code true}) or without the {@code _v2} call. */
        public Memory withReservedReported(boolean reported) {
            return new Memory(totalBytes, reservedBytes, reported, contextCostBytes, bar1);
        }
    }

    /** The BAR1 window: in use at idle, plus a mapping per process. */
    public record Bar1(long totalBytes, long baseUsedBytes, long perProcessBytes) {
        public Bar1 {
            positive(totalBytes, "bar1 totalBytes");
        }
    }

    /**
     * Draw, limits and the energy counter.
     *
     * @param idleMilliwatts          draw with no load
     * @param limitMilliwatts         the enforced limit
     * @param peakDemandRatio         what full load would draw without the limit, as a multiple of
     *                                the limit (above 1: full load hits the cap)
     * @param limitRange              the range an administrator may set the limit to
     * @param defaultLimitMilliwatts  the limit the board boots with
     * @param energyAtStartMillijoules the energy counter's reading when the host is made; absent
     *                                before Volta (the counter answers NOT_SUPPORTED)
     */
    public record Power(long idleMilliwatts, long limitMilliwatts, double peakDemandRatio,
                        PowerLimitConstraints limitRange, long defaultLimitMilliwatts,
                        OptionalLong energyAtStartMillijoules) {
        public Power {
            positive(idleMilliwatts, "idlePowerMilliwatts");
            positive(limitMilliwatts, "powerLimitMilliwatts");
            Objects.requireNonNull(limitRange, "limitRange");
            Objects.requireNonNull(energyAtStartMillijoules, "energyAtStartMillijoules");
            if (defaultLimitMilliwatts < limitRange.minMilliwatts() || defaultLimitMilliwatts > limitRange.maxMilliwatts()) {
                throw new IllegalArgumentException("implausible power limit range " + limitRange.minMilliwatts() + "-"
                        + limitRange.maxMilliwatts() + " mW with default " + defaultLimitMilliwatts + " mW");
            }
            if (idleMilliwatts >= limitMilliwatts) {
                throw new IllegalArgumentException("idle power " + idleMilliwatts + " mW must be below the limit "
                        + limitMilliwatts + " mW");
            }
            if (!(peakDemandRatio >= 1.0)) {
                throw new IllegalArgumentException("peakDemandRatio must be >= 1: " + peakDemandRatio);
            }
        }
    }

    /**
     * The first-order thermal model and the thresholds.
     *
     * @param celsiusPerWatt steady-state temperature rise per watt drawn
     * @param timeConstant   of the lag from draw to temperature
     */
    public record Thermal(double ambientCelsius, double celsiusPerWatt, Duration timeConstant, int slowdownCelsius,
                          int shutdownCelsius, OptionalInt memMaxCelsius, OptionalInt gpuMaxCelsius) {
        public Thermal {
            Objects.requireNonNull(timeConstant, "thermal timeConstant");
            if (timeConstant.isNegative() || timeConstant.isZero()) {
                throw new IllegalArgumentException("thermalTimeConstant must be positive: " + timeConstant);
            }
            if (slowdownCelsius <= 0 || slowdownCelsius > shutdownCelsius) {
                throw new IllegalArgumentException("need 0 < slowdown <= shutdown: " + slowdownCelsius + ", "
                        + shutdownCelsius);
            }
            Objects.requireNonNull(memMaxCelsius, "memMaxCelsius");
            Objects.requireNonNull(gpuMaxCelsius, "gpuMaxCelsius");
        }

        /** What {@code nvmlDeviceGetTemperatureThreshold} answers for {@code threshold}. */
        public OptionalInt thresholdCelsius(TemperatureThreshold threshold) {
            return switch (threshold) {
                case SLOWDOWN -> OptionalInt.of(slowdownCelsius);
                case SHUTDOWN -> OptionalInt.of(shutdownCelsius);
                case MEM_MAX -> memMaxCelsius;
                case GPU_MAX -> gpuMaxCelsius;
            };
        }
    }

    /** A fan curve: {@code minPercent} up to {@code rampStartCelsius}, then {@code percentPerCelsius} more per degree. */
    public record Fan(int minPercent, int rampStartCelsius, double percentPerCelsius) {
    }

    /** Clocks at idle and at most (MHz, every {@link ClockType}), and the P-state of an idle card. */
    public record Clocks(Map<ClockType, Integer> idleMhz, Map<ClockType, Integer> maxMhz, int idlePerformanceState) {
        public Clocks {
            idleMhz = complete(idleMhz, "idle");
            maxMhz = complete(maxMhz, "max");
            for (ClockType t : ClockType.values()) {
                if (idleMhz.get(t) > maxMhz.get(t)) {
                    throw new IllegalArgumentException(t + " idle clock above its maximum");
                }
            }
            if (idlePerformanceState < 0 || idlePerformanceState > 15) {
                throw new IllegalArgumentException("idlePerformanceState must be 0..15: " + idlePerformanceState);
            }
        }

        public int idle(ClockType type) {
            return idleMhz.get(type);
        }

        public int max(ClockType type) {
            return maxMhz.get(type);
        }

        private static Map<ClockType, Integer> complete(Map<ClockType, Integer> given, String what) {
            Objects.requireNonNull(given, () -> "GpuProfile needs " + what + " clocks");
            EnumMap<ClockType, Integer> m = new EnumMap<>(ClockType.class);
            for (ClockType t : ClockType.values()) {
                Integer mhz = given.get(t);
                if (mhz == null || mhz <= 0) {
                    throw new IllegalArgumentException("GpuProfile needs a positive " + what + " " + t + " clock, got "
                            + mhz);
                }
                m.put(t, mhz);
            }
            return Map.copyOf(m);
        }
    }

    /** The PCIe link (its limits and the generation it idles at) and its traffic idle and at full load. */
    public record Pcie(int maxGeneration, int maxWidth, int idleGeneration, Traffic idle, Traffic busy) {
        public Pcie {
            if (maxGeneration < 1 || idleGeneration < 1 || idleGeneration > maxGeneration || maxWidth < 1) {
                throw new IllegalArgumentException("implausible PCIe link: gen " + idleGeneration + "/" + maxGeneration
                        + " x" + maxWidth);
            }
            Objects.requireNonNull(idle, "idle traffic");
            Objects.requireNonNull(busy, "busy traffic");
        }
    }

    /** PCIe throughput in KiB/s each way. */
    public record Traffic(int txKiBps, int rxKiBps) {
        public int kiBps(PcieCounter counter) {
            return counter == PcieCounter.TX ? txKiBps : rxKiBps;
        }
    }

    /**
     * The video engines and how the driver samples utilization.
     *
     * @param samplePeriodMicros     the driver's utilization sampling period; also the granularity
     *                               of the simulated noise and per-process samples
     * @param memoryUtilizationRatio memory-controller busy time per unit of SM busy time
     */
    public record Engines(boolean nvenc, boolean nvdec, long samplePeriodMicros, double memoryUtilizationRatio) {
        public Engines {
            positive(samplePeriodMicros, "samplePeriodMicros");
        }
    }

    /** The driver's versions: one host has one driver, so every card on it names the same. */
    public record Driver(String version, String nvmlVersion, int cudaVersion) {
        public Driver {
            Objects.requireNonNull(version, "GpuProfile needs driverVersion");
            Objects.requireNonNull(nvmlVersion, "GpuProfile needs nvmlVersion");
        }
    }

    /** The same card at another UUID and PCI address, e.g. the second of two identical cards. */
    public GpuProfile withIdentity(String uuid, String pciBusId) {
        return new GpuProfile(identity.at(uuid, pciBusId), memory, power, thermal, fan, clocks, pcie, engines, driver,
                unsupportedCalls);
    }

    public GpuProfile withMemory(Memory other) {
        return new GpuProfile(identity, other, power, thermal, fan, clocks, pcie, engines, driver, unsupportedCalls);
    }

    public GpuProfile withPower(Power other) {
        return new GpuProfile(identity, memory, other, thermal, fan, clocks, pcie, engines, driver, unsupportedCalls);
    }

    public GpuProfile withDriver(Driver other) {
        return new GpuProfile(identity, memory, power, thermal, fan, clocks, pcie, engines, other, unsupportedCalls);
    }

    /** The card answers NOT_SUPPORTED for these C calls too (e.g. {@code nvmlDeviceGetPcieThroughput}). */
    public GpuProfile withUnsupportedCalls(Set<String> cNames) {
        return new GpuProfile(identity, memory, power, thermal, fan, clocks, pcie, engines, driver, cNames);
    }

    /** Every call this card answers with NOT_SUPPORTED: {@link #unsupportedCalls()} and those its records imply. */
    public Set<String> allUnsupportedCalls() {
        Set<String> names = new TreeSet<>();
        for (SimCall c : notSupported()) {
            names.add(c.cName());
        }
        return names;
    }

    /** {@link #allUnsupportedCalls()} as the simulator looks them up. */
    EnumSet<SimCall> notSupported() {
        EnumSet<SimCall> calls = EnumSet.noneOf(SimCall.class);
        for (String name : unsupportedCalls) {
            calls.add(SimCall.byName(name));
        }
        if (power.energyAtStartMillijoules().isEmpty()) {
            calls.add(SimCall.TOTAL_ENERGY);
        }
        if (fan.isEmpty()) {
            calls.add(SimCall.FAN_SPEED);
        }
        return calls;
    }

    @Override
    public String toString() {
        return identity.name() + " (" + identity.uuid() + ")";
    }

    private static void positive(long value, String what) {
        if (value <= 0) {
            throw new IllegalArgumentException("GpuProfile " + what + " must be positive: " + value);
        }
    }
}
