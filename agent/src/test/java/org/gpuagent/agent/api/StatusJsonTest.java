package org.gpuagent.agent.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

import org.gpuagent.agent.config.ConfigLoader;
import org.gpuagent.nvml.sampler.GpuSnapshot;
import org.gpuagent.nvml.sampler.Sampler;
import org.gpuagent.nvml.sampler.SamplerConfig;
import org.gpuagent.nvml.sim.GpuProfile;
import org.gpuagent.scheduler.testing.ManualTime;
import org.gpuagent.nvml.sim.SimulatedGpuHost;
import org.gpuagent.scheduler.AdmissionController;
import org.gpuagent.scheduler.AdmissionRequest;
import org.gpuagent.scheduler.PriorityClass;
import org.gpuagent.scheduler.Headroom;
import org.gpuagent.scheduler.SchedulerConfig;
import org.gpuagent.scheduler.Service;
import org.gpuagent.scheduler.Timers;
import org.junit.jupiter.api.Test;

/** The status body's fields, as {@code gpu-agent status --json} and its tables read them. */
class StatusJsonTest {
    static final long MIB = 1024L * 1024;

    @Test
    void theAgentTheGpuTheBudgetTheServicesTheLeasesAndTheQueue() throws Exception {
        ManualTime time = new ManualTime();
        SimulatedGpuHost host = SimulatedGpuHost.create(1, time, GpuProfile.QUADRO_P1000);
        Timers never = (at, action) -> () -> { };
        GpuSnapshot sample;
        try (Sampler sampler = new Sampler(host, SamplerConfig.DEFAULTS, time, time.ticker());
             AdmissionController ledger = AdmissionController.builder(new SchedulerConfig(4096 * MIB,
                     Headroom.auto(), List.of(Service.of("ollama", PriorityClass.OPPORTUNISTIC, 1024 * MIB, true))),
                     time, never).build()) {
            sample = sampler.collectOnce();
            assertTrue(ledger.request(AdmissionRequest.of("ollama").withHolder("systemd:ollama.service")).outcome()
                    .join().admitted());
            Map<String, Object> s = StatusJson.of(new StatusJson.Agent("1.2.3", "sim", Instant.EPOCH, Path.of("/s")),
                    sample, OptionalInt.of(0), ledger.view(), ConfigLoader.builtInDefault()::service);

            assertEquals(List.of("version", "backend", "startedAt", "stateDir", "gpu", "budget", "devices",
                    "services", "leases", "queue"), List.copyOf(s.keySet()));
            assertEquals("1.2.3", s.get("version"));
            assertEquals("1970-01-01T00:00:00Z", s.get("startedAt"));
            assertEquals("ok", map(s.get("gpu")).get("status"));
            assertFalse(map(s.get("gpu")).containsKey("statusDetail"), "no detail while OK");
            Map<String, Object> budget = map(s.get("budget"));
            assertEquals(4096 * MIB, budget.get("deviceTotalBytes"));
            assertEquals(1024 * MIB, budget.get("leasedBytes"));
            Map<String, Object> gpu0 = map(((List<?>) s.get("devices")).get(0));
            assertEquals(true, gpu0.get("arbitrated"));
            assertEquals("Quadro P1000", gpu0.get("name"));
            assertTrue(gpu0.containsKey("memoryTotalBytes") && gpu0.containsKey("powerWatts"), gpu0.toString());
            Map<String, Object> ollama = map(((List<?>) s.get("services")).get(0));
            assertEquals("ollama", ollama.get("service"));
            assertEquals("opportunistic", ollama.get("priority"));
            assertEquals("closed", ollama.get("failMode"), "from the configuration");
            assertEquals("ollama-unload", ollama.get("preemption"));
            assertEquals(1, ollama.get("activeLeases"));
            assertEquals("systemd:ollama.service", map(((List<?>) s.get("leases")).get(0)).get("holder"));
            assertEquals(List.of(), s.get("queue"));

            Map<String, Object> elsewhere = StatusJson.of(new StatusJson.Agent("1.2.3", "sim", Instant.EPOCH,
                    Path.of("/s")), sample, OptionalInt.empty(), ledger.view(), name -> Optional.empty());
            assertEquals(false, map(((List<?>) elsewhere.get("devices")).get(0)).get("arbitrated"));
            assertFalse(map(((List<?>) elsewhere.get("services")).get(0)).containsKey("failMode"),
                    "nothing configured, nothing said");
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object o) {
        return (Map<String, Object>) o;
    }
}
