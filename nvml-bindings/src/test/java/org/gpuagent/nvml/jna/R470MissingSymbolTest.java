package org.gpuagent.nvml.jna;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import org.gpuagent.nvml.ClockType;
import org.gpuagent.nvml.MemoryInfo;
import org.gpuagent.nvml.NvmlDevice;
import org.gpuagent.nvml.NvmlEvent;
import org.gpuagent.nvml.NvmlEventSet;
import org.gpuagent.nvml.NvmlEventType;
import org.gpuagent.nvml.PcieCounter;
import org.gpuagent.nvml.ProcessInfo;
import org.gpuagent.nvml.ProcessInfo.ProcessKind;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A 470-like driver lacks nvmlDeviceGetMemoryInfo_v2, the _v3 process lists,
 * nvmlDeviceGetCurrentClocksEventReasons and nvmlDeviceGetTotalEnergyConsumption: each missing
 * symbol makes its feature fall back or go absent, and everything else works.
 */
@Tag("fake-nvml-r470")
class R470MissingSymbolTest {

    private static final long MIB = 1024L * 1024L;

    private FakeNvmlControl fake;
    private NativeNvml nvml;

    @BeforeEach
    void open() {
        fake = FakeNvmlControl.of(FakeNvmlControl.Variant.R470).loadScenario("p1000");
        assertEquals("r470", fake.builtVariant());
        // The scenario gives an energy counter, so its absence below is the missing symbol's doing.
        fake.set("device.0.energy_mj", 123_456);
        nvml = (NativeNvml) fake.open();
    }

    @AfterEach
    void close() {
        nvml.close();
    }

    @Test
    void eachMissingSymbolFallsBackOrGoesAbsent() {
        Map<String, String> f = nvml.functions();
        assertEquals("nvmlDeviceGetMemoryInfo", f.get("memory"));
        assertEquals("nvmlDeviceGetComputeRunningProcesses_v2", f.get("compute_processes"));
        assertEquals("nvmlDeviceGetGraphicsRunningProcesses_v2", f.get("graphics_processes"));
        assertEquals("nvmlDeviceGetCurrentClocksThrottleReasons", f.get("clock_event_reasons"));
        assertEquals("absent", f.get("total_energy"));
        assertEquals("nvmlEventSetWait_v2", f.get("event_set_wait"));
    }

    @Test
    void memoryFallsBackToV1WithReservedMemoryAbsent() {
        MemoryInfo m = nvml.device(0).memory();
        assertEquals(new MemoryInfo(4096 * MIB, (812 + 66) * MIB, (4096 - 66 - 812) * MIB, OptionalLong.empty()), m);
        assertEquals(1, fake.callCount("nvmlDeviceGetMemoryInfo"));
    }

    @Test
    void energyIsAbsentAndClockReasonsComeFromTheThrottleCall() {
        NvmlDevice d = nvml.device(0);
        assertEquals(OptionalLong.empty(), d.totalEnergyMillijoules());
        fake.set("device.0.clock_event_reasons", 0x4);
        assertEquals(OptionalLong.of(0x4), d.clockEventReasons());
        assertEquals(1, fake.callCount("nvmlDeviceGetCurrentClocksThrottleReasons"));
    }

    @Test
    void processesAreReadThroughV2() {
        assertEquals(List.of(new ProcessInfo(4242, OptionalLong.of(512 * MIB), ProcessKind.COMPUTE),
                new ProcessInfo(4343, OptionalLong.of(300 * MIB), ProcessKind.COMPUTE)), nvml.device(0).computeProcesses());
        assertEquals(2, fake.callCount("nvmlDeviceGetComputeRunningProcesses_v2"));
    }

    @Test
    void everythingElseWorks() {
        NvmlDevice d = nvml.device(0);
        assertEquals("Quadro P1000", d.name());
        assertEquals("00000000:01:00.0", d.identity().pciBusId());
        assertEquals(Optional.of("0422318031645"), d.identity().serial());
        assertEquals(OptionalInt.of(41), d.temperatureCelsius());
        assertEquals(OptionalInt.of(34), d.fanSpeedPercent());
        assertEquals(OptionalLong.of(18_250), d.powerUsageMilliwatts());
        assertEquals(OptionalInt.of(1354), d.clockMhz(ClockType.GRAPHICS));
        assertEquals(OptionalInt.of(8400), d.pcieThroughputKiBps(PcieCounter.RX));
        assertTrue(d.utilization().isPresent() && d.encoderStats().isPresent() && d.bar1Memory().isPresent());
        assertEquals(OptionalInt.of(13000), nvml.cudaDriverVersion());
        try (NvmlEventSet set = nvml.createEventSet()) {
            set.register(d, NvmlEventType.XID_CRITICAL_ERROR);
            fake.queueXid(0, 31);
            assertEquals(Optional.of(new NvmlEvent(0, NvmlEventType.XID_CRITICAL_ERROR, 31)), set.poll(10_000));
        }
    }
}
