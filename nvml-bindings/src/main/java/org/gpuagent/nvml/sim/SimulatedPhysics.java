package org.gpuagent.nvml.sim;

import org.gpuagent.nvml.ClockEventReason;
import org.gpuagent.nvml.ClockType;
import org.gpuagent.nvml.EncoderStats;
import org.gpuagent.nvml.PcieCounter;
import org.gpuagent.nvml.Utilization;

/**
 * The physical state of one simulated GPU (load, heat, energy) and what the sensors read from it.
 * Not thread-safe: the owning {@link SimulatedDevice}'s callers hold the host's lock.
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
 * Callers {@link #advance} to the time of a reading before taking it, and before changing the
 * load or the ambient temperature, so that each change applies from its own moment on.
 */
final class SimulatedPhysics {
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

    private final GpuProfile profile;
    private final long seed;
    private final int index;

    private long lastMicros;
    private double temperatureCelsius;
    private double energyMillijoules;
    private double ambientCelsius;
    private int smLoad;
    private int encoderLoad;
    private int decoderLoad;

    SimulatedPhysics(GpuProfile profile, long seed, int index, long nowMicros) {
        this.profile = profile;
        this.seed = seed;
        this.index = index;
        this.lastMicros = nowMicros;
        this.ambientCelsius = profile.thermal().ambientCelsius();
        this.temperatureCelsius = targetTemperature();
        this.energyMillijoules = profile.power().energyAtStartMillijoules().orElse(0);
    }

    /** Runs the model forward to {@code nowMicros} under the load and ambient set so far. */
    void advance(long nowMicros) {
        long dtMicros = nowMicros - lastMicros;
        if (dtMicros <= 0) {
            return;
        }
        double dt = dtMicros / (double) MICROS_PER_SECOND;
        double power = drawnPowerMilliwatts();
        double target = targetTemperature();
        double tau = profile.thermal().timeConstant().toNanos() / 1e9;
        temperatureCelsius = target + (temperatureCelsius - target) * Math.exp(-dt / tau);
        energyMillijoules += power * dt;
        lastMicros = nowMicros;
    }

    /** The summed process loads in percent; an engine the card lacks stays idle. */
    void setLoad(int sm, int encoder, int decoder) {
        smLoad = Math.min(100, sm);
        encoderLoad = profile.engines().nvenc() ? Math.min(100, encoder) : 0;
        decoderLoad = profile.engines().nvdec() ? Math.min(100, decoder) : 0;
    }

    void setAmbientCelsius(double celsius) {
        ambientCelsius = celsius;
    }

    // ---- readings ----

    Utilization utilization(long nowMicros) {
        int gpu = smLoad == 0 ? 0 : clamp((int) Math.round(smLoad + 2 * noise(NOISE_GPU, nowMicros)), 1, 100);
        double base = gpu * profile.engines().memoryUtilizationRatio() + 0.15 * encoderLoad + 0.15 * decoderLoad;
        int mem = base == 0 ? 0 : clamp((int) Math.round(base + 1.5 * noise(NOISE_MEM, nowMicros)), 1, 100);
        return new Utilization(gpu, mem);
    }

    int encoderPercent(long nowMicros) {
        return encoderLoad == 0 ? 0 : clamp((int) Math.round(encoderLoad + 2 * noise(NOISE_ENC, nowMicros)), 1, 100);
    }

    int decoderPercent(long nowMicros) {
        return decoderLoad == 0 ? 0 : clamp((int) Math.round(decoderLoad + 2 * noise(NOISE_DEC, nowMicros)), 1, 100);
    }

    /** {@code sessions} NVENC sessions; fps falls and latency grows as the encoder fills. */
    EncoderStats encoderStats(int sessions, long nowMicros) {
        if (sessions == 0) {
            return new EncoderStats(0, 0, 0);
        }
        int util = encoderPercent(nowMicros);
        int fps = clamp((int) Math.round(60 - 0.3 * util + 2 * noise(NOISE_FPS, nowMicros)), 1, 240);
        int latency = Math.max(1, (int) Math.round(900 + 35.0 * util + 50 * noise(NOISE_LATENCY, nowMicros)));
        return new EncoderStats(sessions, fps, latency);
    }

    int temperature() {
        return (int) Math.round(temperatureCelsius);
    }

    /** The fan's percent on its curve; only meaningful for a profile with a fan. */
    int fanPercent(GpuProfile.Fan fan) {
        double over = Math.max(0, temperatureCelsius - fan.rampStartCelsius());
        return clamp((int) Math.round(fan.minPercent() + over * fan.percentPerCelsius()), fan.minPercent(), 100);
    }

    long power(long nowMicros) {
        double p = drawnPowerMilliwatts() * (1 + 0.01 * noise(NOISE_POWER, nowMicros));
        return Math.max(0, Math.min(profile.power().limitMilliwatts(), Math.round(p)));
    }

    long energy() {
        return (long) Math.floor(energyMillijoules);
    }

    int clock(ClockType type) {
        GpuProfile.Clocks clocks = profile.clocks();
        if (!busy()) {
            return clocks.idle(type);
        }
        int max = clocks.max(type);
        if (type == ClockType.MEMORY) {
            return max;
        }
        return Math.max(clocks.idle(type), (int) Math.round(max * clockFactor()));
    }

    int performanceState() {
        return busy() ? 0 : profile.clocks().idlePerformanceState();
    }

    long clockEventReasons() {
        long bits = 0;
        if (!busy()) {
            bits |= ClockEventReason.GPU_IDLE.mask();
        } else if (demandMilliwatts() >= 0.98 * profile.power().limitMilliwatts()) {
            bits |= ClockEventReason.SW_POWER_CAP.mask();
        }
        int slowdown = profile.thermal().slowdownCelsius();
        if (temperatureCelsius >= slowdown) {
            bits |= ClockEventReason.HW_THERMAL_SLOWDOWN.mask();
        }
        if (temperatureCelsius >= slowdown - 5) {
            bits |= ClockEventReason.SW_THERMAL_SLOWDOWN.mask();
        }
        return bits;
    }

    int pcieThroughput(PcieCounter counter, long nowMicros) {
        GpuProfile.Pcie pcie = profile.pcie();
        double idle = pcie.idle().kiBps(counter);
        double full = pcie.busy().kiBps(counter);
        int channel = counter == PcieCounter.TX ? NOISE_PCIE_TX : NOISE_PCIE_RX;
        double v = (idle + (full - idle) * activity()) * (1 + 0.1 * noise(channel, nowMicros));
        return (int) Math.max(0, Math.round(v));
    }

    int pcieLinkGeneration() {
        return busy() ? profile.pcie().maxGeneration() : profile.pcie().idleGeneration();
    }

    // ---- the model ----

    private double activity() {
        return Math.min(1.0, smLoad / 100.0 + 0.15 * encoderLoad / 100.0 + 0.10 * decoderLoad / 100.0);
    }

    private boolean busy() {
        return smLoad > 0 || encoderLoad > 0 || decoderLoad > 0;
    }

    private double demandMilliwatts() {
        GpuProfile.Power power = profile.power();
        double idle = power.idleMilliwatts();
        double peak = power.limitMilliwatts() * power.peakDemandRatio();
        return idle + (peak - idle) * activity();
    }

    private double drawnPowerMilliwatts() {
        return Math.min(demandMilliwatts(), profile.power().limitMilliwatts());
    }

    private double targetTemperature() {
        return ambientCelsius + profile.thermal().celsiusPerWatt() * drawnPowerMilliwatts() / 1000.0;
    }

    private double clockFactor() {
        double f = 1.0;
        double demand = demandMilliwatts();
        long limit = profile.power().limitMilliwatts();
        if (demand > limit) {
            f = limit / demand;
        }
        int slowdown = profile.thermal().slowdownCelsius();
        if (temperatureCelsius >= slowdown) {
            f = Math.min(f, 0.5);
        } else if (temperatureCelsius >= slowdown - 5) {
            f = Math.min(f, 0.85);
        }
        return f;
    }

    /** Noise in [-1, 1): a pure function of the seed, this device, the quantity and the sample period. */
    private double noise(int channel, long nowMicros) {
        long period = Math.floorDiv(nowMicros, profile.engines().samplePeriodMicros());
        long z = seed
                ^ (index + 1L) * 0x9E3779B97F4A7C15L
                ^ channel * 0xC2B2AE3D27D4EB4FL
                ^ period * 0x165667B19E3779F9L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z = z ^ (z >>> 31);
        return (z >>> 11) * 0x1.0p-53 * 2 - 1;
    }

    static int clamp(int v, int lo, int hi) {
        return Math.max(lo, Math.min(hi, v));
    }
}
