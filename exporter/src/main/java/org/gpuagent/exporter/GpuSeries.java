package org.gpuagent.exporter;

import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.Unit;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.function.DoubleUnaryOperator;
import org.gpuagent.nvml.Bar1Memory;
import org.gpuagent.nvml.ClockEventReason;
import org.gpuagent.nvml.ClockType;
import org.gpuagent.nvml.EncoderStats;
import org.gpuagent.nvml.EngineUtilization;
import org.gpuagent.nvml.MemoryInfo;
import org.gpuagent.nvml.PcieCounter;
import org.gpuagent.nvml.TemperatureThreshold;
import org.gpuagent.nvml.Utilization;
import org.gpuagent.nvml.sampler.CallErrorTotal;
import org.gpuagent.nvml.sampler.DeviceSnapshot;
import org.gpuagent.nvml.sampler.GpuSnapshot;
import org.gpuagent.nvml.sampler.PcieReadings;
import org.gpuagent.nvml.sampler.PowerLimitReadings;
import org.gpuagent.nvml.sampler.XidCount;

/**
 * Turns one published snapshot (with its workloads and the integrated totals) into metric
 * families. Runs when a snapshot is published, never at scrape time.
 *
 * <p>Rules: device series carry {@code gpu} (NVML index) and {@code uuid} only, plus their own
 * dimension ({@code engine}, {@code clock}, ...); identity is in {@code nvgpu_info}. A field the
 * snapshot lacks has no series. Gauges describe the present: they are shown only while the
 * snapshot is OK; when it is STALE, LOST or UNAVAILABLE they are left out (so they go stale in
 * Prometheus instead of repeating old values), while {@code nvgpu_info}, the counters and the
 * collection series stay.
 */
final class GpuSeries {
    static final Unit WATTS = new Unit("watts");
    static final Unit HERTZ = new Unit("hz");
    static final Unit BYTES_PER_SECOND = new Unit("bytes_per_second");
    private static final double HZ_PER_MHZ = 1e6;
    // NVML's units to the families' (division where NVML's unit is the smaller, so that values stay exact)
    private static final DoubleUnaryOperator AS_IS = v -> v;
    private static final DoubleUnaryOperator MILLI = v -> v / 1000.0;
    private static final DoubleUnaryOperator PERCENT = v -> v / 100.0;
    private static final DoubleUnaryOperator MHZ = v -> v * HZ_PER_MHZ;
    private static final DoubleUnaryOperator KIB = v -> v * 1024.0;

    static final String HELP_ENERGY_COUNTER = "Energy the GPU used in joules, from NVML's energy counter "
            + "(counts since the driver loaded).";
    static final String HELP_ENERGY_INTEGRATED = "Energy the GPU used in joules, integrated by the agent from "
            + "power readings (nvgpu_power_watts times the time between collects) since the agent started: "
            + "this GPU has no NVML energy counter.";
    static final String HELP_ENERGY_MIXED = "Energy the GPU used in joules: from NVML's energy counter "
            + "(since the driver loaded) where the GPU has one, otherwise integrated by the agent from power "
            + "readings since the agent started.";

    private GpuSeries() {
    }

    static List<MetricSnapshot> build(GpuSnapshot s, List<Workload> workloads, UsageIntegrator usage,
                                      boolean perProcessSeries) {
        boolean current = s.status() == GpuSnapshot.Status.OK;
        Families f = new Families();

        Families.Family up = f.gauge("nvgpu_up", "1 while NVML answers (the last collect completed or is only "
                + "slow), 0 when the GPU is lost or NVML cannot be opened.", null);
        Families.Family success = f.gauge("nvgpu_last_collect_success", "1 if the last collect completed, 0 while "
                + "one is blocked in the driver (stale) or the GPU is lost or NVML unavailable.", null);
        Families.Family timestamp = f.gauge("nvgpu_last_collect_timestamp_seconds", "When the last completed "
                + "collect began, in seconds since the Unix epoch; time() minus this is the age of the GPU data.",
                Unit.SECONDS);
        boolean answering = s.status() == GpuSnapshot.Status.OK || s.status() == GpuSnapshot.Status.STALE;
        up.add(Labels.EMPTY, answering ? 1 : 0);
        success.add(Labels.EMPTY, current ? 1 : 0);
        if (s.status() != GpuSnapshot.Status.UNAVAILABLE) {
            timestamp.add(Labels.EMPTY, s.collectedAt().getEpochSecond() + s.collectedAt().getNano() / 1e9);
        }

        Families.Family info = f.info("nvgpu", "GPU identity, constant 1: the card's name, PCI bus id, driver "
                + "and CUDA driver versions and compute capability as labels; join on gpu and uuid.");
        Families.Family memTotal = f.gauge("nvgpu_memory_total_bytes", "Total frame-buffer memory in bytes.",
                Unit.BYTES);
        Families.Family memUsed = f.gauge("nvgpu_memory_used_bytes", "Frame-buffer memory in use in bytes; "
                + "without driver-reserved memory where NVML reports that apart (nvgpu_memory_reserved_bytes).",
                Unit.BYTES);
        Families.Family memFree = f.gauge("nvgpu_memory_free_bytes", "Frame-buffer memory free in bytes.",
                Unit.BYTES);
        Families.Family memReserved = f.gauge("nvgpu_memory_reserved_bytes", "Frame-buffer memory the driver "
                + "reserves in bytes (NVML memory info v2, driver R510 and later).", Unit.BYTES);
        Families.Family unattributed = f.gauge("nvgpu_memory_unattributed_bytes", "Frame-buffer memory in use "
                + "that no workload accounts for, in bytes: used memory minus the memory of the processes the "
                + "agent attributed to a service, unit or container.", Unit.BYTES);
        Families.Family util = f.gauge("nvgpu_utilization_ratio", "Share of NVML's last sample period (1/6 s to "
                + "1 s) an engine was busy, 0 to 1 (engine: gpu = a kernel was running, memory = the memory "
                + "controller, encoder = NVENC, decoder = NVDEC).", Unit.RATIO);
        Families.Family active = f.counter("nvgpu_engine_active_seconds", "Seconds an engine was busy, "
                + "integrated by the agent from every collect's utilization ratio times the time since the "
                + "previous collect; rate() of it is the busy ratio without the gaps of a sampled gauge.",
                Unit.SECONDS);
        Families.Family temp = f.gauge("nvgpu_temperature_celsius", "GPU core temperature in degrees Celsius.",
                Unit.CELSIUS);
        Families.Family tempThreshold = f.gauge("nvgpu_temperature_threshold_celsius", "Temperature thresholds "
                + "in degrees Celsius (slowdown: the GPU cuts its clocks; shutdown: it turns off).", Unit.CELSIUS);
        Families.Family power = f.gauge("nvgpu_power_watts", "Power draw in watts.", WATTS);
        Families.Family powerLimit = f.gauge("nvgpu_power_limit_watts", "Enforced power limit in watts.", WATTS);
        Families.Family clock = f.gauge("nvgpu_clock_hz", "Current clock in hertz (clock: graphics, sm, memory, "
                + "video).", HERTZ);
        Families.Family clockMax = f.gauge("nvgpu_clock_max_hz", "Maximum clock in hertz (clock: graphics, sm, "
                + "memory, video).", HERTZ);
        Families.Family pstate = f.gauge("nvgpu_pstate", "Performance state, 0 (maximum performance) to 15 "
                + "(minimum).", null);
        Families.Family fan = f.gauge("nvgpu_fan_speed_ratio", "Intended fan speed as a share of its maximum, "
                + "0 to 1; absent on passively cooled cards.", Unit.RATIO);
        Families.Family reasons = f.gauge("nvgpu_clocks_event_reason_active", "1 while the reason holds the "
                + "clocks down (gpu_idle, sw_power_cap, sw_thermal_slowdown, hw_thermal_slowdown, ...), else 0.",
                null);
        Families.Family encSessions = f.gauge("nvgpu_encoder_sessions", "Active NVENC encoder sessions.", null);
        Families.Family encFps = f.gauge("nvgpu_encoder_average_fps", "Trailing average frames per second of "
                + "all active NVENC sessions; absent while no session is active (NVML then answers 0, which is no "
                + "frame rate).", null);
        Families.Family encLatency = f.gauge("nvgpu_encoder_average_latency_seconds", "Average encode latency "
                + "of all active NVENC sessions in seconds; absent while no session is active.", Unit.SECONDS);
        Families.Family reasonSeconds = f.counter("nvgpu_clocks_event_reason_seconds", "Seconds a reason held the "
                + "clocks down, integrated by the agent from every collect's reasons times the time since the "
                + "previous collect (reason: as nvgpu_clocks_event_reason_active); rate() of it is the share of "
                + "time throttled.", Unit.SECONDS);
        Families.Family powerMin = f.gauge("nvgpu_power_limit_min_watts", "Lowest power limit an administrator "
                + "may set in watts (nvidia-smi -pl).", WATTS);
        Families.Family powerMax = f.gauge("nvgpu_power_limit_max_watts", "Highest power limit an administrator "
                + "may set in watts.", WATTS);
        Families.Family powerDefault = f.gauge("nvgpu_power_limit_default_watts", "Power limit the board boots "
                + "with in watts; nvgpu_power_limit_watts below it means someone lowered the limit.", WATTS);
        Families.Family pcieThroughput = f.gauge("nvgpu_pcie_throughput_bytes_per_second", "PCIe traffic in "
                + "bytes per second over NVML's last 20 ms window (direction: tx = GPU to host, rx = host to GPU).",
                BYTES_PER_SECOND);
        Families.Family pcieGen = f.gauge("nvgpu_pcie_link_generation", "Current PCIe link generation (Pascal "
                + "and later drop it to 1 when idle).", null);
        Families.Family pcieMaxGen = f.gauge("nvgpu_pcie_link_max_generation", "Highest PCIe link generation "
                + "the GPU and the slot support together.", null);
        Families.Family pcieWidth = f.gauge("nvgpu_pcie_link_width", "Current PCIe link width in lanes.", null);
        Families.Family pcieMaxWidth = f.gauge("nvgpu_pcie_link_max_width", "Widest PCIe link the GPU and the "
                + "slot support together, in lanes; a current width below it is a badly seated card or a "
                + "narrow slot.", null);
        Families.Family bar1Total = f.gauge("nvgpu_bar1_memory_total_bytes", "Size of the BAR1 window (memory "
                + "the CPU and other devices can map) in bytes.", Unit.BYTES);
        Families.Family bar1Used = f.gauge("nvgpu_bar1_memory_used_bytes", "BAR1 memory in use in bytes.",
                Unit.BYTES);
        Families.Family bar1Free = f.gauge("nvgpu_bar1_memory_free_bytes", "BAR1 memory free in bytes.",
                Unit.BYTES);
        Families.Family xid = f.counter("nvgpu_xid_errors", "Xid errors the driver reported, per Xid number, "
                + "since the agent started.", null);
        Families.Family xidLast = f.gauge("nvgpu_xid_last_seen_timestamp_seconds", "When the agent last saw "
                + "this Xid on this GPU, in seconds since the Unix epoch (the agent's clock when it read the "
                + "event); time() minus the max over xid is the age of the newest Xid.", Unit.SECONDS);
        Families.Family nvmlErrors = f.counter("nvgpu_nvml_errors", "NVML calls that failed, per C function and "
                + "nvmlReturn_t code, since the agent started.", null);

        int withCounter = 0;
        int integrated = 0;
        Families.Family energy = f.counter("nvgpu_energy_joules", HELP_ENERGY_MIXED, Unit.JOULES);

        Map<Integer, Long> attributedByGpu = new HashMap<>();
        if (current) {
            for (Workload w : workloads) {
                for (WorkloadProcess p : w.processes()) {
                    attributedByGpu.merge(p.gpu(), p.usedBytes().orElse(0), Long::sum);
                }
            }
        }

        for (DeviceSnapshot d : s.devices()) {
            String gpu = Integer.toString(d.index());
            Labels dl = Labels.of("gpu", gpu, "uuid", d.uuid());
            info.add(infoLabels(s, d, gpu));

            UsageIntegrator.DeviceUsage u = usage.usage(d.uuid());
            if (u != null) {
                for (int e = 0; e < UsageIntegrator.ENGINES.length; e++) {
                    OptionalDouble secs = u.engineSeconds(e);
                    if (secs.isPresent()) {
                        active.add(dl.add("engine", UsageIntegrator.ENGINES[e]), secs.getAsDouble());
                    }
                }
                for (ClockEventReason r : ClockEventReason.values()) {
                    OptionalDouble secs = u.reasonSeconds(r);
                    if (secs.isPresent()) {
                        reasonSeconds.add(dl.add("reason", r.label()), secs.getAsDouble());
                    }
                }
                if (u.energyJoules().isPresent()) {
                    energy.add(dl, u.energyJoules().getAsDouble());
                    if (u.energySource() == UsageIntegrator.EnergySource.NVML_COUNTER) {
                        withCounter++;
                    } else {
                        integrated++;
                    }
                }
            }
            if (!current) {
                continue;
            }
            if (d.memory().isPresent()) {
                MemoryInfo m = d.memory().get();
                memTotal.add(dl, m.totalBytes());
                memUsed.add(dl, m.usedBytes());
                memFree.add(dl, m.freeBytes());
                if (m.reservedBytes().isPresent()) {
                    memReserved.add(dl, m.reservedBytes().getAsLong());
                }
                long attributed = attributedByGpu.getOrDefault(d.index(), 0L);
                unattributed.add(dl, Math.max(0, m.usedBytes() - attributed));
            }
            if (d.utilization().isPresent()) {
                Utilization ut = d.utilization().get();
                util.add(dl.add("engine", "gpu"), ut.gpuPercent() / 100.0);
                util.add(dl.add("engine", "memory"), ut.memoryPercent() / 100.0);
            }
            if (d.encoderUtilization().isPresent()) {
                EngineUtilization e = d.encoderUtilization().get();
                util.add(dl.add("engine", "encoder"), e.percent() / 100.0);
            }
            if (d.decoderUtilization().isPresent()) {
                EngineUtilization e = d.decoderUtilization().get();
                util.add(dl.add("engine", "decoder"), e.percent() / 100.0);
            }
            addIfPresent(temp, dl, d.temperatureCelsius(), AS_IS);
            for (TemperatureThreshold t : TemperatureThreshold.values()) {
                addIfPresent(tempThreshold, dl.add("threshold", thresholdLabel(t)), d.temperatureThresholdCelsius(t),
                        AS_IS);
            }
            addIfPresent(power, dl, d.powerUsageMilliwatts(), MILLI);
            addIfPresent(powerLimit, dl, d.enforcedPowerLimitMilliwatts(), MILLI);
            for (ClockType t : ClockType.values()) {
                addIfPresent(clock, dl.add("clock", t.label()), d.clockMhz(t), MHZ);
                addIfPresent(clockMax, dl.add("clock", t.label()), d.maxClockMhz(t), MHZ);
            }
            addIfPresent(pstate, dl, d.performanceState(), AS_IS);
            addIfPresent(fan, dl, d.fanSpeedPercent(), PERCENT);
            if (d.clockEventReasons().isPresent()) {
                long bits = d.clockEventReasons().getAsLong();
                for (ClockEventReason r : ClockEventReason.values()) {
                    reasons.add(dl.add("reason", r.label()), r.isActiveIn(bits) ? 1 : 0);
                }
            }
            if (d.encoderStats().isPresent()) {
                EncoderStats enc = d.encoderStats().get();
                encSessions.add(dl, enc.sessionCount());
                if (enc.sessionCount() > 0) {
                    encFps.add(dl, enc.averageFps());
                    encLatency.add(dl, enc.averageLatencyMicros() / 1e6);
                }
            }
            PowerLimitReadings pl = d.powerLimits();
            addIfPresent(powerMin, dl, pl.minMilliwatts(), MILLI);
            addIfPresent(powerMax, dl, pl.maxMilliwatts(), MILLI);
            addIfPresent(powerDefault, dl, pl.defaultMilliwatts(), MILLI);
            PcieReadings pcie = d.pcie();
            for (PcieCounter c : PcieCounter.values()) {
                addIfPresent(pcieThroughput, dl.add("direction", c == PcieCounter.TX ? "tx" : "rx"),
                        pcie.throughputKiBps(c), KIB);
            }
            addIfPresent(pcieGen, dl, pcie.linkGeneration(), AS_IS);
            addIfPresent(pcieMaxGen, dl, pcie.maxLinkGeneration(), AS_IS);
            addIfPresent(pcieWidth, dl, pcie.linkWidth(), AS_IS);
            addIfPresent(pcieMaxWidth, dl, pcie.maxLinkWidth(), AS_IS);
            if (d.bar1Memory().isPresent()) {
                Bar1Memory b = d.bar1Memory().get();
                bar1Total.add(dl, b.totalBytes());
                bar1Used.add(dl, b.usedBytes());
                bar1Free.add(dl, b.freeBytes());
            }
        }
        energy.help(withCounter == 0 ? HELP_ENERGY_INTEGRATED : integrated == 0 ? HELP_ENERGY_COUNTER
                : HELP_ENERGY_MIXED);

        for (XidCount x : s.xidCounts()) {
            Labels xl = Labels.of("gpu", Integer.toString(x.deviceIndex()), "uuid", x.uuid(), "xid",
                    Long.toString(x.xid()));
            xid.add(xl, x.count());
            xidLast.add(xl, x.lastObservedAt().getEpochSecond() + x.lastObservedAt().getNano() / 1e9);
        }
        for (CallErrorTotal e : s.errorTotals()) {
            nvmlErrors.add(Labels.of("call", e.call(), "code", e.code().cName()), e.count());
        }

        if (current) {
            WorkloadSeries.add(f, workloads, perProcessSeries);
        }
        return f.build();
    }

    /** {@code value} in the family's unit, when present: a field the GPU lacks has no series. */
    private static void addIfPresent(Families.Family family, Labels labels, OptionalInt value,
            DoubleUnaryOperator unit) {
        if (value.isPresent()) {
            family.add(labels, unit.applyAsDouble(value.getAsInt()));
        }
    }

    private static void addIfPresent(Families.Family family, Labels labels, OptionalLong value,
            DoubleUnaryOperator unit) {
        if (value.isPresent()) {
            family.add(labels, unit.applyAsDouble(value.getAsLong()));
        }
    }

    private static Labels infoLabels(GpuSnapshot s, DeviceSnapshot d, String gpu) {
        Labels l = Labels.of("gpu", gpu, "uuid", d.uuid(), "name", d.name(), "pci_bus_id", d.pciBusId());
        if (s.driverVersion().isPresent()) {
            l = l.add("driver_version", s.driverVersion().get());
        }
        if (s.cudaDriverVersion().isPresent()) {
            int v = s.cudaDriverVersion().getAsInt();
            l = l.add("cuda_driver_version", v / 1000 + "." + (v % 1000) / 10);
        }
        if (d.computeCapability().isPresent()) {
            l = l.add("compute_capability", d.computeCapability().get().toString());
        }
        return l;
    }

    private static String thresholdLabel(TemperatureThreshold t) {
        return switch (t) {
            case SHUTDOWN -> "shutdown";
            case SLOWDOWN -> "slowdown";
            case MEM_MAX -> "mem_max";
            case GPU_MAX -> "gpu_max";
        };
    }
}
