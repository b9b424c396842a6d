package org.gpuagent.nvml.sim;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.gpuagent.nvml.Bar1Memory;
import org.gpuagent.nvml.ClockEventReason;
import org.gpuagent.nvml.ClockType;
import org.gpuagent.nvml.EncoderStats;
import org.gpuagent.nvml.MemoryInfo;
import org.gpuagent.nvml.PcieCounter;
import org.gpuagent.nvml.ProcessInfo;
import org.gpuagent.nvml.ProcessInfo.ProcessKind;
import org.gpuagent.nvml.ProcessUtilizationSample;
import org.gpuagent.nvml.Utilization;

/**
 * One simulated GPU's hardware: the processes on it and the physical state that outlives NVML
 * sessions. Tests and the agent's simulated backend drive it ({@link #startProcess}, loads,
 * {@link #raiseXid}, {@link #loseGpu}); NVML sessions read it.
 *
 * <p>The model, evaluated lazily in injected time (never from how often it is read):
 * <ul>
 *   <li>activity = min(1, SM + 0.15 encoder + 0.10 decoder), from the summed process loads;</li>
 *   <li>power demand = idle + (limit * peakDemandRatio - idle) * activity, drawn up to the limit;</li>
 *   <li>temperature lags toward ambient + celsiusPerWatt * power with the profile's time
 *       constant: exact for the piecewise-constant load between operations;</li>
 *   <li>energy integrates the drawn power; noise on readings is a hash of the seed, the device,
 *       the quantity and the driver sample period the reading falls in, so the same clock reading
 *       gives the same value however often it is read.</li>
 * </ul>
 */
public final class SimulatedDevice {
    private static final long MICROS_PER_SECOND = 1_000_000L;

    private static final int NOISE_GPU = 1;
    private static final int NOISE_MEM = 2;
    private static final int NOISE_ENC = 3;
    private static final int NOISE_DEC = 4;
    private static final int NOISE_POWER = 5;
    private static final int NOISE_FPS = 6;
    private static final int NOISE_LATENCY = 7;
    private static final int NOISE_PCIE_TX = 8;
    private static final int NOISE_PCIE_RX = 9;

    private final SimulatedGpuHost host;
    private final int index;
    private final GpuProfile profile;

    // guarded by host.lock()
    private final LinkedHashMap<Integer, SimProcess> processes = new LinkedHashMap<>();
    private long lastMicros;
    private double temperatureCelsius;
    private double energyMillijoules;
    private double ambientCelsius;
    private int smLoad;
    private int encoderLoad;
    private int decoderLoad;
    private volatile boolean lost;

    SimulatedDevice(SimulatedGpuHost host, int index, GpuProfile profile, long nowMicros) {
        this.host = host;
        this.index = index;
        this.profile = profile;
        this.lastMicros = nowMicros;
        this.ambientCelsius = profile.ambientCelsius();
        this.temperatureCelsius = targetTemperature();
        this.energyMillijoules = profile.initialEnergyMillijoules();
    }

    public int index() {
        return index;
    }

    public GpuProfile profile() {
        return profile;
    }

    public SimulatedGpuHost host() {
        return host;
    }

    Object lock() {
        return host.lock();
    }

    // ---- processes ----

    /** Starts a compute process: a CUDA context costing the profile's {@link GpuProfile#contextCostBytes()}. */
    public SimProcess startProcess(int pid, String name) {
        return startProcess(pid, name, ProcessKind.COMPUTE);
    }

    /**
     * Starts a process with a context of {@code kind} (a graphics context, e.g. a display server,
     * is charged the same context cost).
     *
     * @throws CudaOutOfMemoryException when the context does not fit; nothing changes
     * @throws IllegalStateException when {@code pid} already has a context on this GPU
     */
    public SimProcess startProcess(int pid, String name, ProcessKind kind) {
        if (pid <= 0) {
            throw new IllegalArgumentException("pid must be positive: " + pid);
        }
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("a process needs a name");
        }
        if (kind == null) {
            throw new IllegalArgumentException("a process needs a kind");
        }
        synchronized (lock()) {
            advance(host.nowMicros());
            if (processes.containsKey(pid)) {
                throw new IllegalStateException("pid " + pid + " already has a context on GPU " + index);
            }
            long free = freeBytesLocked();
            if (profile.contextCostBytes() > free) {
                throw new CudaOutOfMemoryException(index, pid, "creating a context", profile.contextCostBytes(), free);
            }
            SimProcess p = new SimProcess(this, pid, name, kind, profile.contextCostBytes());
            processes.put(pid, p);
            return p;
        }
    }

    public Optional<SimProcess> process(int pid) {
        synchronized (lock()) {
            return Optional.ofNullable(processes.get(pid));
        }
    }

    /** Running processes in the order they started. */
    public List<SimProcess> processes() {
        synchronized (lock()) {
            return List.copyOf(processes.values());
        }
    }

    /** Frame buffer in use by processes (reserved memory not included). */
    public long usedBytes() {
        synchronized (lock()) {
            return usedBytesLocked();
        }
    }

    /** Frame buffer a process could still allocate. */
    public long freeBytes() {
        synchronized (lock()) {
            return freeBytesLocked();
        }
    }

    void allocate(SimProcess p, long bytes) {
        synchronized (lock()) {
            requireRunning(p);
            long free = freeBytesLocked();
            if (bytes > free) {
                throw new CudaOutOfMemoryException(index, p.pid(), "allocating", bytes, free);
            }
            p.allocatedLocked(p.allocatedLocked() + bytes);
        }
    }

    void free(SimProcess p, long bytes) {
        synchronized (lock()) {
            requireRunning(p);
            if (bytes < 0 || bytes > p.allocatedLocked()) {
                throw new IllegalArgumentException("pid " + p.pid() + " cannot free " + bytes + " bytes: it has "
                        + p.allocatedLocked() + " allocated");
            }
            p.allocatedLocked(p.allocatedLocked() - bytes);
        }
    }

    void setLoad(SimProcess p, int sm, int enc, int dec) {
        synchronized (lock()) {
            requireRunning(p);
            advance(host.nowMicros());
            p.loadLocked(sm, enc, dec);
            recomputeLoads();
        }
    }

    void exit(SimProcess p) {
        synchronized (lock()) {
            if (!p.runningLocked()) {
                return;
            }
            advance(host.nowMicros());
            p.stopLocked();
            processes.remove(p.pid());
            recomputeLoads();
        }
    }

    private void requireRunning(SimProcess p) {
        if (!p.runningLocked()) {
            throw new IllegalStateException("pid " + p.pid() + " has exited");
        }
    }

    private void recomputeLoads() {
        int sm = 0;
        int enc = 0;
        int dec = 0;
        for (SimProcess p : processes.values()) {
            sm += p.smLocked();
            enc += p.encoderLocked();
            dec += p.decoderLocked();
        }
        smLoad = Math.min(100, sm);
        encoderLoad = profile.hasNvenc() ? Math.min(100, enc) : 0;
        decoderLoad = profile.hasNvdec() ? Math.min(100, dec) : 0;
    }

    // ---- environment and faults ----

    /** Changes the air around the card (a hot closet); the temperature follows with the card's lag. */
    public void setAmbientCelsius(double celsius) {
        synchronized (lock()) {
            advance(host.nowMicros());
            ambientCelsius = celsius;
        }
    }

    /**
     * Delivers an Xid error to every open event set registered for Xid events on this GPU (an
     * event raised while no set is registered is lost, as with the driver).
     */
    public void raiseXid(long xid) {
        host.deliverXid(index, xid);
    }

    /** The GPU falls off the bus: every call on it answers GPU_IS_LOST and no session opens until {@link SimulatedGpuHost#recover()}. */
    public void loseGpu() {
        lost = true;
    }

    public boolean isLost() {
        return lost;
    }

    void recoverLocked() {
        lost = false;
    }

    // ---- the physical model (callers hold the host's lock) ----

    void advance(long nowMicros) {
        long dtMicros = nowMicros - lastMicros;
        if (dtMicros <= 0) {
            return;
        }
        double dt = dtMicros / (double) MICROS_PER_SECOND;
        double power = drawnPowerMilliwatts();
        double target = targetTemperature();
        double tau = profile.thermalTimeConstant().toNanos() / 1e9;
        temperatureCelsius = target + (temperatureCelsius - target) * Math.exp(-dt / tau);
        energyMillijoules += power * dt;
        lastMicros = nowMicros;
    }

    private double activity() {
        return Math.min(1.0, smLoad / 100.0 + 0.15 * encoderLoad / 100.0 + 0.10 * decoderLoad / 100.0);
    }

    private boolean busy() {
        return smLoad > 0 || encoderLoad > 0 || decoderLoad > 0;
    }

    private double demandMilliwatts() {
        double idle = profile.idlePowerMilliwatts();
        double peak = profile.powerLimitMilliwatts() * profile.peakDemandRatio();
        return idle + (peak - idle) * activity();
    }

    private double drawnPowerMilliwatts() {
        return Math.min(demandMilliwatts(), profile.powerLimitMilliwatts());
    }

    private double targetTemperature() {
        return ambientCelsius + profile.celsiusPerWatt() * drawnPowerMilliwatts() / 1000.0;
    }

    private long usedBytesLocked() {
        long used = 0;
        for (SimProcess p : processes.values()) {
            used += p.usedLocked();
        }
        return used;
    }

    private long freeBytesLocked() {
        return profile.usableMemoryBytes() - usedBytesLocked();
    }

    MemoryInfo memoryLocked(boolean v2) {
        long total = profile.memoryTotalBytes();
        long reserved = profile.memoryReservedBytes();
        long used = usedBytesLocked();
        long free = total - reserved - used;
        return v2 ? new MemoryInfo(total, used, free, OptionalLong.of(reserved))
                : new MemoryInfo(total, used + reserved, free, OptionalLong.empty());
    }

    Bar1Memory bar1Locked() {
        long total = profile.bar1TotalBytes();
        long used = Math.min(total, profile.bar1BaseUsedBytes() + profile.bar1PerProcessBytes() * processes.size());
        return new Bar1Memory(total, used, total - used);
    }

    private int gpuPercent(long nowMicros) {
        if (smLoad == 0) {
            return 0;
        }
        return clamp((int) Math.round(smLoad + 2 * noise(NOISE_GPU, nowMicros)), 1, 100);
    }

    Utilization utilizationLocked(long nowMicros) {
        int gpu = gpuPercent(nowMicros);
        double base = gpu * profile.memoryUtilizationRatio() + 0.15 * encoderLoad + 0.15 * decoderLoad;
        int mem = base == 0 ? 0 : clamp((int) Math.round(base + 1.5 * noise(NOISE_MEM, nowMicros)), 1, 100);
        return new Utilization(gpu, mem);
    }

    int encoderPercentLocked(long nowMicros) {
        return encoderLoad == 0 ? 0 : clamp((int) Math.round(encoderLoad + 2 * noise(NOISE_ENC, nowMicros)), 1, 100);
    }

    int decoderPercentLocked(long nowMicros) {
        return decoderLoad == 0 ? 0 : clamp((int) Math.round(decoderLoad + 2 * noise(NOISE_DEC, nowMicros)), 1, 100);
    }

    /** One NVENC session per process with encoder load; fps falls and latency grows as the encoder fills. */
    EncoderStats encoderStatsLocked(long nowMicros) {
        int sessions = 0;
        if (profile.hasNvenc()) {
            for (SimProcess p : processes.values()) {
                if (p.encoderLocked() > 0) {
                    sessions++;
                }
            }
        }
        if (sessions == 0) {
            return new EncoderStats(0, 0, 0);
        }
        int util = encoderPercentLocked(nowMicros);
        int fps = clamp((int) Math.round(60 - 0.3 * util + 2 * noise(NOISE_FPS, nowMicros)), 1, 240);
        int latency = Math.max(1, (int) Math.round(900 + 35.0 * util + 50 * noise(NOISE_LATENCY, nowMicros)));
        return new EncoderStats(sessions, fps, latency);
    }

    int temperatureLocked() {
        return (int) Math.round(temperatureCelsius);
    }

    int fanPercentLocked() {
        double over = Math.max(0, temperatureCelsius - profile.fanRampStartCelsius());
        return clamp((int) Math.round(profile.fanMinPercent() + over * profile.fanPercentPerCelsius()),
                profile.fanMinPercent(), 100);
    }

    long powerLocked(long nowMicros) {
        double p = drawnPowerMilliwatts() * (1 + 0.01 * noise(NOISE_POWER, nowMicros));
        return Math.max(0, Math.min(profile.powerLimitMilliwatts(), Math.round(p)));
    }

    long energyLocked() {
        return (long) Math.floor(energyMillijoules);
    }

    private double clockFactor() {
        double f = 1.0;
        double demand = demandMilliwatts();
        if (demand > profile.powerLimitMilliwatts()) {
            f = profile.powerLimitMilliwatts() / demand;
        }
        if (temperatureCelsius >= profile.slowdownCelsius()) {
            f = Math.min(f, 0.5);
        } else if (temperatureCelsius >= profile.slowdownCelsius() - 5) {
            f = Math.min(f, 0.85);
        }
        return f;
    }

    int clockLocked(ClockType type) {
        if (!busy()) {
            return profile.idleClockMhz(type);
        }
        int max = profile.maxClockMhz(type);
        if (type == ClockType.MEMORY) {
            return max;
        }
        return Math.max(profile.idleClockMhz(type), (int) Math.round(max * clockFactor()));
    }

    int performanceStateLocked() {
        return busy() ? 0 : profile.idlePerformanceState();
    }

    long clockEventReasonsLocked() {
        long bits = 0;
        if (!busy()) {
            bits |= ClockEventReason.GPU_IDLE.mask();
        } else if (demandMilliwatts() >= 0.98 * profile.powerLimitMilliwatts()) {
            bits |= ClockEventReason.SW_POWER_CAP.mask();
        }
        if (temperatureCelsius >= profile.slowdownCelsius()) {
            bits |= ClockEventReason.HW_THERMAL_SLOWDOWN.mask();
        }
        if (temperatureCelsius >= profile.slowdownCelsius() - 5) {
            bits |= ClockEventReason.SW_THERMAL_SLOWDOWN.mask();
        }
        return bits;
    }

    int pcieThroughputLocked(PcieCounter counter, long nowMicros) {
        boolean tx = counter == PcieCounter.TX;
        double idle = tx ? profile.idlePcieTxKiBps() : profile.idlePcieRxKiBps();
        double full = tx ? profile.busyPcieTxKiBps() : profile.busyPcieRxKiBps();
        double v = (idle + (full - idle) * activity()) * (1 + 0.1 * noise(tx ? NOISE_PCIE_TX : NOISE_PCIE_RX, nowMicros));
        return (int) Math.max(0, Math.round(v));
    }

    int pcieLinkGenerationLocked() {
        return busy() ? profile.maxPcieLinkGeneration() : profile.idlePcieLinkGeneration();
    }

    List<ProcessInfo> processInfosLocked(ProcessKind kind) {
        List<ProcessInfo> out = new ArrayList<>(processes.size());
        for (SimProcess p : processes.values()) {
            if (p.kind() == kind) {
                out.add(new ProcessInfo(p.pid(), OptionalLong.of(p.usedLocked()), kind));
            }
        }
        return List.copyOf(out);
    }

    /**
     * One sample per process, stamped at the start of the driver's current sample period (so a
     * second call within the same period with the last timestamp gets nothing new).
     */
    List<ProcessUtilizationSample> processUtilizationLocked(long sinceMicros, long nowMicros) {
        long period = profile.samplePeriodMicros();
        long stamp = Math.floorDiv(nowMicros, period) * period;
        if (stamp <= sinceMicros || processes.isEmpty()) {
            return List.of();
        }
        List<ProcessUtilizationSample> out = new ArrayList<>(processes.size());
        for (SimProcess p : processes.values()) {
            int sm = p.smLocked();
            int mem = clamp((int) Math.round(sm * profile.memoryUtilizationRatio()), 0, 100);
            int enc = profile.hasNvenc() ? p.encoderLocked() : 0;
            int dec = profile.hasNvdec() ? p.decoderLocked() : 0;
            out.add(new ProcessUtilizationSample(p.pid(), stamp, sm, mem, enc, dec));
        }
        return List.copyOf(out);
    }

    /** Noise in [-1, 1): a pure function of the seed, this device, the quantity and the sample period. */
    private double noise(int channel, long nowMicros) {
        long period = Math.floorDiv(nowMicros, profile.samplePeriodMicros());
        long z = host.seed()
                ^ (index + 1L) * 0x9E3779B97F4A7C15L
                ^ channel * 0xC2B2AE3D27D4EB4FL
                ^ period * 0x165667B19E3779F9L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z = z ^ (z >>> 31);
        return (z >>> 11) * 0x1.0p-53 * 2 - 1;
    }

    private static int clamp(int v, int lo, int hi) {
        return Math.max(lo, Math.min(hi, v));
    }

    @Override
    public String toString() {
        return "SimulatedDevice[" + index + ": " + profile + "]";
    }
}
