package org.gpuagent.exporter;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalDouble;
import org.gpuagent.nvml.ClockEventReason;
import org.gpuagent.nvml.EngineUtilization;
import org.gpuagent.nvml.Utilization;
import org.gpuagent.nvml.sampler.DeviceSnapshot;
import org.gpuagent.nvml.sampler.GpuSnapshot;

/**
 * Integrates what a gauge loses between scrapes: busy seconds per engine, energy, and the seconds
 * each clock event (throttle) reason held the clocks down, updated once per collected snapshot
 * (never at scrape time, so scraping more or less often changes nothing).
 *
 * <p>NVML's utilization is the share of its last sample period (1/6 s to 1 s) that an engine was
 * busy, so each reading stands for the time since the previous collect: busy seconds grow by
 * ratio × (collectedAt − previous collectedAt). Power is integrated the same way where the GPU has
 * no energy counter (before Volta, e.g. the P1000); where it has one, the counter is used as is.
 * The clock event reasons are NVML's state at the collect, taken to hold since the previous one:
 * a reason that comes and goes faster than the sampling interval is over- or under-counted by
 * up to one interval per change, which at the default 1 s interval is what a "for how long was
 * it power-capped today" question needs.
 * An interval longer than {@code maxGap} (a lost GPU, a blocked collect, a wall-clock jump) or
 * not positive adds nothing: a gap is not filled with guesses.
 *
 * <p>Not thread-safe: one publisher calls {@link #accept}; readers get the immutable result.
 */
final class UsageIntegrator {

    /** The device engines, in label order; indexes into the per-device arrays. */
    static final String[] ENGINES = {"decoder", "encoder", "gpu", "memory"};
    private static final int DECODER = 0;
    private static final int ENCODER = 1;
    private static final int GPU = 2;
    private static final int MEMORY = 3;

    /** Where a device's energy figure comes from. */
    enum EnergySource { NVML_COUNTER, INTEGRATED_POWER }

    /** One GPU's totals; an engine or the energy is absent until the GPU first reported it. */
    record DeviceUsage(double[] engineSeconds, boolean[] enginePresent, OptionalDouble energyJoules,
                       EnergySource energySource, double[] reasonSeconds, boolean reasonsPresent) {
        OptionalDouble engineSeconds(int engine) {
            return enginePresent[engine] ? OptionalDouble.of(engineSeconds[engine]) : OptionalDouble.empty();
        }

        /** Seconds {@code reason} held the clocks down; absent until the GPU first reported its reasons. */
        OptionalDouble reasonSeconds(ClockEventReason reason) {
            return reasonsPresent ? OptionalDouble.of(reasonSeconds[reason.ordinal()]) : OptionalDouble.empty();
        }
    }

    private final long maxGapNanos;
    private final Map<String, State> states = new HashMap<>();
    private long lastSequence = -1;

    UsageIntegrator(Duration maxGap) {
        Objects.requireNonNull(maxGap, "maxGap");
        if (maxGap.isNegative() || maxGap.isZero()) {
            throw new IllegalArgumentException("the integration gap limit must be positive, got " + maxGap);
        }
        this.maxGapNanos = maxGap.toNanos();
    }

    /** Adds the interval that ended at {@code s}; ignores snapshots that are not OK or already seen. */
    void accept(GpuSnapshot s) {
        if (s.status() != GpuSnapshot.Status.OK || s.sequence() <= lastSequence) {
            return;
        }
        lastSequence = s.sequence();
        for (DeviceSnapshot d : s.devices()) {
            State st = states.computeIfAbsent(d.uuid(), k -> new State());
            st.add(d, s.collectedAt(), maxGapNanos);
        }
    }

    /** The totals of the GPU {@code uuid}, or null before its first OK snapshot. */
    DeviceUsage usage(String uuid) {
        State st = states.get(uuid);
        return st == null ? null : st.view();
    }

    private static final class State {
        Instant lastAt;
        final double[] seconds = new double[ENGINES.length];
        final boolean[] present = new boolean[ENGINES.length];
        boolean counterSeen;
        double counterJoules;
        boolean powerSeen;
        double integratedJoules;
        final double[] reasonSeconds = new double[ClockEventReason.values().length];
        boolean reasonsSeen;

        void add(DeviceSnapshot d, Instant at, long maxGapNanos) {
            double dt = 0;
            if (lastAt != null) {
                long nanos = Duration.between(lastAt, at).toNanos();
                dt = nanos > 0 && nanos <= maxGapNanos ? nanos / 1e9 : 0;
            }
            if (lastAt == null || at.isAfter(lastAt)) {
                lastAt = at;
            }
            if (d.utilization().isPresent()) {
                Utilization u = d.utilization().get();
                engine(GPU, u.gpuPercent(), dt);
                engine(MEMORY, u.memoryPercent(), dt);
            }
            if (d.encoderUtilization().isPresent()) {
                EngineUtilization e = d.encoderUtilization().get();
                engine(ENCODER, e.percent(), dt);
            }
            if (d.decoderUtilization().isPresent()) {
                EngineUtilization e = d.decoderUtilization().get();
                engine(DECODER, e.percent(), dt);
            }
            if (d.clockEventReasons().isPresent()) {
                reasonsSeen = true;
                long bits = d.clockEventReasons().getAsLong();
                for (ClockEventReason r : ClockEventReason.values()) {
                    if (r.isActiveIn(bits)) {
                        reasonSeconds[r.ordinal()] += dt;
                    }
                }
            }
            if (d.totalEnergyMillijoules().isPresent()) {
                counterSeen = true;
                counterJoules = d.totalEnergyMillijoules().getAsLong() / 1000.0;
            } else if (d.powerUsageMilliwatts().isPresent()) {
                powerSeen = true;
                integratedJoules += d.powerUsageMilliwatts().getAsLong() / 1000.0 * dt;
            }
        }

        private void engine(int engine, int percent, double dt) {
            present[engine] = true;
            seconds[engine] += percent / 100.0 * dt;
        }

        DeviceUsage view() {
            OptionalDouble energy = counterSeen ? OptionalDouble.of(counterJoules)
                    : powerSeen ? OptionalDouble.of(integratedJoules) : OptionalDouble.empty();
            return new DeviceUsage(seconds.clone(), present.clone(), energy,
                    counterSeen ? EnergySource.NVML_COUNTER : EnergySource.INTEGRATED_POWER, reasonSeconds.clone(),
                    reasonsSeen);
        }
    }
}
