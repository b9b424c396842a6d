package org.gpuagent.exporter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.gpuagent.nvml.ClockEventReason;
import org.gpuagent.nvml.NvmlReturn;
import org.gpuagent.nvml.sampler.GpuSnapshot;
import org.gpuagent.nvml.sampler.Sampler;
import org.gpuagent.nvml.sampler.SamplerConfig;
import org.gpuagent.nvml.sim.GpuProfile;
import org.gpuagent.nvml.sim.SimulatedGpuHost;
import org.gpuagent.scheduler.testing.ManualTime;
import org.junit.jupiter.api.Test;

/** The GPU families over the simulator: status handling, absent fields, the energy source, pid series. */
class GpuSeriesTest {
    private static final String P1000 = "gpu=\"0\",uuid=\"" + GpuProfile.QUADRO_P1000.identity().uuid() + "\"";

    private static Exposition scrape(GpuMetrics m) {
        return Exposition.parse(m.scrapeText());
    }

    @Test
    void theContractsMinimumDeviceSeriesArePresentForTheP1000() {
        try (HomelabScenario s = HomelabScenario.started()) {
            Exposition e = scrape(s.metrics);
            assertEquals(HomelabScenario.P1000_TOTAL_BYTES, e.value("nvgpu_memory_total_bytes{" + P1000 + "}"));
            assertEquals(1, e.value("nvgpu_up"));
            assertEquals(1, e.value("nvgpu_last_collect_success"));
            assertEquals(s.time.instant().getEpochSecond(), e.value("nvgpu_last_collect_timestamp_seconds"), 1e-3);
            for (String name : List.of("nvgpu_memory_used_bytes", "nvgpu_memory_free_bytes",
                    "nvgpu_memory_reserved_bytes", "nvgpu_temperature_celsius", "nvgpu_power_watts",
                    "nvgpu_power_limit_watts", "nvgpu_pstate", "nvgpu_fan_speed_ratio", "nvgpu_encoder_sessions",
                    "nvgpu_memory_unattributed_bytes", "nvgpu_energy_joules_total")) {
                assertTrue(e.has(name + "{" + P1000 + "}"), name);
            }
            for (String engine : List.of("gpu", "memory", "encoder", "decoder")) {
                assertTrue(e.has("nvgpu_utilization_ratio{engine=\"" + engine + "\"," + P1000 + "}"), engine);
                assertTrue(e.has("nvgpu_engine_active_seconds_total{engine=\"" + engine + "\"," + P1000 + "}"), engine);
            }
            assertEquals(1, e.value("nvgpu_xid_errors_total{" + P1000 + ",xid=\"13\"}"));
            assertEquals(1, e.value("nvgpu_nvml_errors_total{call=\"nvmlDeviceGetFanSpeed\",code=\"NVML_ERROR_UNKNOWN\"}"));
            assertEquals(164 * HomelabScenario.MIB, e.value("nvgpu_memory_unattributed_bytes{" + P1000 + "}"),
                    "the display server's context is the only memory no workload accounts for");
            assertTrue(e.help.get("nvgpu_energy_joules_total").contains("integrated"),
                    "the P1000 has no energy counter and the HELP says so");
        }
    }

    @Test
    void noSeriesIsASentinel() {
        try (HomelabScenario s = HomelabScenario.started()) {
            for (Map.Entry<String, Double> sample : scrape(s.metrics).samples.entrySet()) {
                if (!sample.getKey().startsWith("nvgpu_")) {
                    continue; // client_java's JVM metrics use -1 for an undefined maximum; ours never do
                }
                assertTrue(sample.getValue() >= 0 && sample.getValue() < 1.8e19 && !sample.getValue().isNaN(),
                        sample.getKey() + " = " + sample.getValue());
            }
        }
    }

    @Test
    void aFieldTheGpuDoesNotSupportHasNoSeries() {
        try (HomelabScenario s = new HomelabScenario(false)) {
            s.host.failCall("nvmlDeviceGetTemperature", NvmlReturn.NOT_SUPPORTED);
            s.host.failCall("nvmlDeviceGetEncoderStats", NvmlReturn.NOT_SUPPORTED);
            for (String call : List.of("nvmlDeviceGetBAR1MemoryInfo", "nvmlDeviceGetPcieThroughput",
                    "nvmlDeviceGetCurrPcieLinkGeneration", "nvmlDeviceGetMaxPcieLinkWidth",
                    "nvmlDeviceGetPowerManagementLimitConstraints", "nvmlDeviceGetPowerManagementDefaultLimit",
                    "nvmlDeviceGetCurrentClocksEventReasons")) {
                s.host.failCall(call, NvmlReturn.NOT_SUPPORTED);
            }
            s.run();
            Exposition e = scrape(s.metrics);
            assertFalse(e.hasMetric("nvgpu_temperature_celsius"));
            assertFalse(e.hasMetric("nvgpu_encoder_sessions"));
            assertFalse(e.hasMetric("nvgpu_encoder_average_fps"));
            assertFalse(e.hasMetric("nvgpu_encoder_average_latency_seconds"));
            for (String name : List.of("nvgpu_bar1_memory_total_bytes", "nvgpu_bar1_memory_used_bytes",
                    "nvgpu_pcie_throughput_bytes_per_second", "nvgpu_pcie_link_generation",
                    "nvgpu_pcie_link_max_width", "nvgpu_power_limit_min_watts", "nvgpu_power_limit_max_watts",
                    "nvgpu_power_limit_default_watts", "nvgpu_clocks_event_reason_seconds_total",
                    "nvgpu_clocks_event_reason_active")) {
                assertFalse(e.hasMetric(name), name + " has a series though the GPU does not support it");
            }
            assertTrue(e.hasMetric("nvgpu_pcie_link_width"), "the other PCIe calls still answer");
            assertTrue(e.hasMetric("nvgpu_power_watts"));
        }
    }

    @Test
    void aLostGpuKeepsIdentityCountersAndStatusButDropsItsGauges() {
        try (HomelabScenario s = HomelabScenario.started()) {
            Exposition before = scrape(s.metrics);
            s.host.loseGpus();
            s.time.advanceSeconds(1);
            GpuSnapshot lost = s.sampler.collectOnce();
            assertEquals(GpuSnapshot.Status.LOST, lost.status());
            Exposition e = scrape(s.metrics);
            assertEquals(0, e.value("nvgpu_up"));
            assertEquals(0, e.value("nvgpu_last_collect_success"));
            assertEquals(before.value("nvgpu_last_collect_timestamp_seconds"),
                    e.value("nvgpu_last_collect_timestamp_seconds"), "the age keeps growing");
            assertTrue(e.hasMetric("nvgpu_info"));
            assertFalse(e.hasMetric("nvgpu_memory_used_bytes"));
            assertFalse(e.hasMetric("nvgpu_temperature_celsius"));
            assertFalse(e.hasMetric("nvgpu_workload_memory_used_bytes"));
            assertFalse(e.hasMetric("nvgpu_memory_unattributed_bytes"));
            String energy = "nvgpu_energy_joules_total{" + P1000 + "}";
            assertEquals(before.value(energy), e.value(energy), "counters stay, and stop growing");
            String busy = "nvgpu_engine_active_seconds_total{engine=\"gpu\"," + P1000 + "}";
            assertEquals(before.value(busy), e.value(busy));
            assertTrue(e.samples.keySet().stream().anyMatch(k -> k.startsWith("nvgpu_nvml_errors_total{")
                    && k.contains("code=\"NVML_ERROR_GPU_IS_LOST\"")),
                    "the failed call is counted");
        }
    }

    @Test
    void aStaleSnapshotIsUpButNotASuccessAndShowsNoOldGauges() {
        try (HomelabScenario s = HomelabScenario.started()) {
            GpuSnapshot last = s.sampler.latest();
            s.metrics.publish(TestSnapshots.withStatus(last, last.sequence() + 1, GpuSnapshot.Status.STALE,
                    last.collectedAt().plusSeconds(6)), List.of());
            Exposition e = scrape(s.metrics);
            assertEquals(1, e.value("nvgpu_up"));
            assertEquals(0, e.value("nvgpu_last_collect_success"));
            assertFalse(e.hasMetric("nvgpu_memory_used_bytes"));
            assertEquals(3, e.value("nvgpu_collect_duration_seconds_count"),
                    "only the three completed collects were timed");
        }
    }

    @Test
    void beforeAnyCollectOnlyTheStatusSays() {
        ManualTime time = new ManualTime();
        GpuMetrics m = GpuMetrics.builder().time(time, time.ticker()).jvmMetrics(false).build();
        Exposition fresh = scrape(m);
        assertEquals(0, fresh.value("nvgpu_up"), "before the first publish");
        assertFalse(fresh.hasMetric("nvgpu_last_collect_timestamp_seconds"));
        m.publish(GpuSnapshot.initial(time.instant()), List.of());
        Exposition e = scrape(m);
        assertEquals(0, e.value("nvgpu_up"));
        assertEquals(0, e.value("nvgpu_last_collect_success"));
        assertFalse(e.hasMetric("nvgpu_last_collect_timestamp_seconds"), "nothing was collected: no time to show");
        assertFalse(e.hasMetric("nvgpu_info"));
    }

    @Test
    void theH200ReadsEnergyFromNvmlsCounterAndHasNoFanSeries() {
        ManualTime time = new ManualTime();
        SimulatedGpuHost host = SimulatedGpuHost.create(7, time, GpuProfile.H200);
        GpuMetrics m = GpuMetrics.builder().time(time, time.ticker()).jvmMetrics(false).build();
        try (Sampler sampler = new Sampler(host, SamplerConfig.DEFAULTS, time, time.ticker())) {
            sampler.addListener(s -> m.publish(s, List.of()));
            host.device(0).startProcess(100, "trainer").setLoad(100, 0, 0);
            sampler.collectOnce();
            time.advanceSeconds(10);
            GpuSnapshot s = sampler.collectOnce();
            Exposition e = scrape(m);
            String h200 = "gpu=\"0\",uuid=\"" + GpuProfile.H200.identity().uuid() + "\"";
            assertTrue(s.devices().get(0).clockEventReasonSet().contains(ClockEventReason.SW_POWER_CAP),
                    "full load on the H200 demands more than its 700 W");
            assertEquals(10, e.value("nvgpu_clocks_event_reason_seconds_total{" + h200.replace("uuid",
                    "reason=\"sw_power_cap\",uuid") + "}"), 1e-9);
            assertEquals(200, e.value("nvgpu_power_limit_min_watts{" + h200 + "}"));
            assertEquals(700, e.value("nvgpu_power_limit_max_watts{" + h200 + "}"));
            assertEquals(700, e.value("nvgpu_power_limit_default_watts{" + h200 + "}"));
            assertEquals(0, e.value("nvgpu_encoder_sessions{" + h200 + "}"), "Hopper has no NVENC: no session");
            assertFalse(e.hasMetric("nvgpu_encoder_average_fps"), "no session, no frame rate (NVML's 0 is no rate)");
            assertEquals(5, e.value("nvgpu_pcie_link_generation{" + h200 + "}"));
            assertEquals(s.devices().get(0).totalEnergyMillijoules().getAsLong() / 1000.0,
                    e.value("nvgpu_energy_joules_total{" + h200 + "}"), 1e-9);
            assertTrue(e.help.get("nvgpu_energy_joules_total").contains("NVML's energy counter"));
            assertFalse(e.help.get("nvgpu_energy_joules_total").contains("integrated"));
            assertFalse(e.hasMetric("nvgpu_fan_speed_ratio"), "the H200 has no fan: NOT_SUPPORTED, no series");
            assertEquals(143_771L * 1024 * 1024, e.value("nvgpu_memory_total_bytes{" + h200 + "}"));
        }
    }

    @Test
    void pidSeriesOnlyWhenAskedFor() {
        try (HomelabScenario off = HomelabScenario.started()) {
            assertFalse(off.metrics.scrapeText().contains("pid=\""), "no pid label by default");
        }
        try (HomelabScenario on = new HomelabScenario(true)) {
            on.run();
            Exposition e = scrape(on.metrics);
            long detector = on.host.device(0).process(4100).orElseThrow().usedBytes();
            assertEquals(detector, e.value(
                    "nvgpu_workload_process_memory_used_bytes{kind=\"service\",pid=\"4100\",workload=\"frigate\"}"));
            assertEquals(0.35, e.value("nvgpu_workload_process_utilization_ratio{engine=\"sm\",kind=\"service\","
                    + "pid=\"4100\",workload=\"frigate\"}"), 1e-9);
            assertEquals(e.value("nvgpu_workload_memory_used_bytes{kind=\"service\",workload=\"frigate\"}"),
                    e.value("nvgpu_workload_process_memory_used_bytes{kind=\"service\",pid=\"4100\",workload=\"frigate\"}")
                            + e.value("nvgpu_workload_process_memory_used_bytes{kind=\"service\",pid=\"4101\","
                            + "workload=\"frigate\"}"));
        }
    }

    @Test
    void workloadSeriesFollowThePerProcessSamples() {
        try (HomelabScenario s = HomelabScenario.started()) {
            Exposition e = scrape(s.metrics);
            assertEquals(2, e.value("nvgpu_workload_processes{kind=\"service\",workload=\"frigate\"}"));
            assertEquals(0.40, e.value("nvgpu_workload_utilization_ratio{engine=\"sm\",kind=\"service\","
                    + "workload=\"frigate\"}"), 1e-9, "35 + 5 percent");
            assertEquals(0.40, e.value("nvgpu_workload_utilization_ratio{engine=\"encoder\",kind=\"service\","
                    + "workload=\"jellyfin\"}"), 1e-9);
            assertEquals(0.25, e.value("nvgpu_workload_utilization_ratio{engine=\"encoder\",kind=\"unit\","
                    + "workload=\"handbrake-batch.service\"}"), 1e-9);
        }
    }
}
