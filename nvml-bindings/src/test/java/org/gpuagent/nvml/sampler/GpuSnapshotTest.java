package org.gpuagent.nvml.sampler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import org.gpuagent.nvml.Brand;
import org.gpuagent.nvml.ClockType;
import org.gpuagent.nvml.DeviceIdentity;
import org.gpuagent.nvml.NvmlReturn;
import org.gpuagent.nvml.TemperatureThreshold;
import org.junit.jupiter.api.Test;

/** Each status has its factory, and each says what it keeps of the data before it. */
class GpuSnapshotTest {
    private static final Instant T0 = Instant.parse("2026-01-15T12:00:00Z");
    private static final SessionInfo SESSION = new SessionInfo(Optional.of("sim"), Optional.of("580.105.08"),
            Optional.of("13.580.105.08"), OptionalInt.of(13000));
    private static final DeviceIdentity GPU = new DeviceIdentity("GPU-a", "Quadro P1000", Brand.QUADRO,
            "00000000:01:00.0", Optional.empty(), Optional.empty(), Optional.empty());

    private static DeviceSnapshot device() {
        SlowFields slow = new SlowFields(T0, Optional.of(List.of()), Optional.of(List.of()), Optional.of(List.of()),
                new PcieReadings(OptionalInt.empty(), OptionalInt.empty(), OptionalInt.empty(), OptionalInt.empty(),
                        OptionalInt.empty(), OptionalInt.empty()),
                EnumReadings.none(TemperatureThreshold.class), EnumReadings.none(ClockType.class),
                PowerLimitReadings.NONE);
        return DeviceSnapshot.builder(0, GPU).temperatureCelsius(OptionalInt.of(41)).slow(slow).build();
    }

    @Test
    void okCarriesTheCollectAndShortcutsReadThroughToSessionAndFaults() {
        Faults faults = new Faults(List.of(new CallError(0, "nvmlDeviceGetTemperature", NvmlReturn.UNKNOWN, "x")),
                List.of(), List.of(), List.of());
        GpuSnapshot s = GpuSnapshot.ok(7, T0, T0.plusMillis(1), 10_000, SESSION, List.of(device()), faults);
        assertEquals(GpuSnapshot.Status.OK, s.status());
        assertEquals(Optional.empty(), s.statusDetail());
        assertEquals(Optional.of("sim"), s.backend());
        assertEquals(Optional.of("580.105.08"), s.driverVersion());
        assertEquals(OptionalInt.of(13000), s.cudaDriverVersion());
        assertSame(faults.errors(), s.errors());
        assertEquals(OptionalInt.of(41), s.device(0).orElseThrow().temperatureCelsius());
        assertEquals(Optional.of(s.devices().get(0)), s.deviceByUuid("GPU-a"));
    }

    @Test
    void staleAndLostKeepTheLastGoodDataUnavailableHasNone() {
        GpuSnapshot good = GpuSnapshot.ok(7, T0, T0, 10_000, SESSION, List.of(device()), Faults.NONE);
        GpuSnapshot stale = good.stale(8, "blocked", T0.plusSeconds(6));
        assertEquals(GpuSnapshot.Status.STALE, stale.status());
        assertEquals(8, stale.sequence());
        assertEquals(Optional.of("blocked"), stale.statusDetail());
        assertEquals(T0.plusSeconds(6), stale.publishedAt());
        assertSame(good.devices(), stale.devices());
        assertEquals(good.collectedAt(), stale.collectedAt());

        Faults now = new Faults(List.of(new CallError(-1, "open", NvmlReturn.GPU_IS_LOST, "lost")), List.of(),
                List.of(), List.of());
        GpuSnapshot lost = GpuSnapshot.lost(9, "lost", T0.plusSeconds(7), good, now);
        assertEquals(GpuSnapshot.Status.LOST, lost.status());
        assertSame(good.devices(), lost.devices());
        assertSame(good.session(), lost.session());
        assertEquals(good.collectDurationNanos(), lost.collectDurationNanos());
        assertSame(now, lost.faults(), "the faults are as of now, not the last good collect's");

        GpuSnapshot none = GpuSnapshot.unavailable(1, "cannot open NVML", T0, 5, SessionInfo.NONE, Faults.NONE);
        assertEquals(GpuSnapshot.Status.UNAVAILABLE, none.status());
        assertEquals(List.of(), none.devices());
        assertEquals(T0, none.collectedAt());
    }

    @Test
    void aDeviceBuilderLeavesWhatItWasNotToldAbsentAndForgetsOnReset() {
        DeviceSnapshot d = device();
        assertEquals(0, d.index());
        assertEquals("GPU-a", d.uuid());
        assertEquals(Optional.empty(), d.memory());
        assertEquals(OptionalLong.empty(), d.powerUsageMilliwatts());
        assertEquals(EnumReadings.none(ClockType.class), d.clocks());
        DeviceSnapshot.Builder b = DeviceSnapshot.builder(0, GPU).temperatureCelsius(OptionalInt.of(41)).slow(d.slow());
        assertEquals(OptionalInt.empty(), b.reset().slow(d.slow()).build().temperatureCelsius());
        NullPointerException e = assertThrows(NullPointerException.class, () -> b.reset().build());
        assertTrue(e.getMessage().contains("slow fields"), e.getMessage());
    }
}
