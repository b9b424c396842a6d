package org.gpuagent.nvml;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The one contract every {@link Nvml} implementation keeps. Subclasses: the simulator
 * ({@code SimulatedNvmlContractTest}), the JNA binding over the fake library built from C
 * ({@code FakeLibraryNvmlContractTest}), and the JNA binding over real NVML
 * ({@code RealNvmlContractTest}, which runs only where a GPU is present).
 *
 * <p>Invariants are checked on every implementation; exact values only where the subclass
 * names an {@link ExpectedGpu}.
 */
public abstract class NvmlContractTest {

    private static final Pattern UUID = Pattern.compile("^(GPU|MIG)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$");
    private static final Pattern PCI_BUS_ID = Pattern.compile("^[0-9A-Fa-f]{8}:[0-9A-Fa-f]{2}:[0-9A-Fa-f]{2}\\.[0-9A-Fa-f]$");
    private static final Pattern DRIVER_VERSION = Pattern.compile("^\\d+\\.\\d+(\\.\\d+)?$");

    protected Nvml nvml;

    /** A freshly initialised session over the implementation under test. */
    protected abstract Nvml open();

    /** The values this implementation's scenario must read back; empty for real NVML. */
    protected abstract Optional<ExpectedGpu> expected();

    @BeforeEach
    void openSession() {
        nvml = open();
    }

    @AfterEach
    void closeSession() {
        if (nvml != null) {
            nvml.close();
        }
    }

    private NvmlDevice first() {
        return nvml.device(0);
    }

    @Test
    void versionsAreReported() {
        assertTrue(DRIVER_VERSION.matcher(nvml.driverVersion()).matches(), nvml.driverVersion());
        assertFalse(nvml.nvmlVersion().isBlank());
        nvml.cudaDriverVersion().ifPresent(v -> assertTrue(v >= 1000 && v < 100_000, "cuda driver version " + v));
        expected().ifPresent(e -> {
            assertEquals(e.driverVersion(), nvml.driverVersion());
            assertEquals(OptionalInt.of(e.cudaDriverVersion()), nvml.cudaDriverVersion());
        });
        assertFalse(nvml.backend().isBlank());
    }

    @Test
    void devicesAreEnumeratedInIndexOrderAndStable() {
        int n = nvml.deviceCount();
        assertTrue(n >= 1, "a contract run needs at least one device");
        List<NvmlDevice> all = nvml.devices();
        assertEquals(n, all.size());
        for (int i = 0; i < n; i++) {
            assertEquals(i, nvml.device(i).index());
            assertSame(nvml.device(i), nvml.device(i));
            assertSame(nvml.device(i), all.get(i));
        }
        assertThrows(IndexOutOfBoundsException.class, () -> nvml.device(n));
        assertThrows(IndexOutOfBoundsException.class, () -> nvml.device(-1));
    }

    @Test
    void identityIsWellFormed() {
        Set<String> uuids = new HashSet<>();
        for (NvmlDevice d : nvml.devices()) {
            DeviceIdentity id = d.identity();
            assertSame(id, d.identity(), "read once");
            assertEquals(id.uuid(), d.uuid());
            assertEquals(id.name(), d.name());
            assertTrue(UUID.matcher(d.uuid()).matches(), "uuid " + d.uuid());
            assertTrue(uuids.add(d.uuid()), "duplicate uuid " + d.uuid());
            assertFalse(d.name().isBlank());
            assertNotNull(id.brand());
            assertTrue(PCI_BUS_ID.matcher(id.pciBusId()).matches(), "pci bus id " + id.pciBusId());
            id.serial().ifPresent(s -> assertFalse(s.isBlank()));
            id.vbiosVersion().ifPresent(s -> assertFalse(s.isBlank()));
            id.computeCapability().ifPresent(cc -> assertTrue(cc.major() >= 3 && cc.major() < 20 && cc.minor() >= 0, cc.toString()));
            assertSame(d, nvml.deviceByUuid(d.uuid()));
        }
        expected().ifPresent(e -> {
            DeviceIdentity d = first().identity();
            assertEquals(e.name(), d.name());
            assertEquals(e.uuid(), d.uuid());
            assertEquals(e.brand(), d.brand());
            assertEquals(e.pciBusId(), d.pciBusId());
            assertEquals(Optional.of(e.computeCapability()), d.computeCapability());
        });
    }

    @Test
    void unknownUuidIsNotFound() {
        NvmlException e = assertThrows(NvmlException.class,
                () -> nvml.deviceByUuid("GPU-00000000-0000-0000-0000-000000000000"));
        assertEquals(NvmlReturn.NOT_FOUND, e.code());
    }

    @Test
    void memoryAddsUp() {
        for (NvmlDevice d : nvml.devices()) {
            MemoryInfo m = d.memory();
            assertTrue(m.totalBytes() > 0);
            assertTrue(m.usedBytes() <= m.totalBytes() && m.freeBytes() <= m.totalBytes(), m.toString());
            long sum = m.usedBytes() + m.freeBytes() + m.reservedBytes().orElse(0);
            long tolerance = Math.max(2 * ExpectedGpu.MIB, m.totalBytes() / 1000);
            assertTrue(Math.abs(sum - m.totalBytes()) <= tolerance, "used+free+reserved != total: " + m);
            d.bar1Memory().ifPresent(b -> {
                assertTrue(b.totalBytes() > 0);
                assertTrue(b.usedBytes() >= 0 && b.usedBytes() <= b.totalBytes(), b.toString());
                assertTrue(b.freeBytes() >= 0 && b.freeBytes() <= b.totalBytes(), b.toString());
            });
        }
        expected().ifPresent(e -> {
            MemoryInfo m = first().memory();
            assertEquals(e.memoryTotalBytes(), m.totalBytes());
            assertEquals(e.reservedMemoryReported(), m.reservedBytes().isPresent());
        });
    }

    @Test
    void utilizationIsAPercentage() {
        for (NvmlDevice d : nvml.devices()) {
            d.utilization().ifPresent(u -> {
                assertPercent(u.gpuPercent());
                assertPercent(u.memoryPercent());
            });
            for (Optional<EngineUtilization> eu : List.of(d.encoderUtilization(), d.decoderUtilization())) {
                eu.ifPresent(u -> {
                    assertPercent(u.percent());
                    assertTrue(u.samplingPeriodMicros() > 0, u.toString());
                });
            }
            d.encoderStats().ifPresent(s -> {
                assertTrue(s.sessionCount() >= 0 && s.averageFps() >= 0 && s.averageLatencyMicros() >= 0, s.toString());
                if (s.sessionCount() == 0) {
                    assertEquals(0, s.averageFps());
                }
            });
        }
        expected().ifPresent(e -> {
            assertTrue(first().utilization().isPresent());
            assertTrue(first().encoderUtilization().isPresent(), "a P1000 has NVENC");
            assertTrue(first().decoderUtilization().isPresent(), "a P1000 has NVDEC");
            assertTrue(first().encoderStats().isPresent());
        });
    }

    @Test
    void thermalsAndPowerAreInRange() {
        for (NvmlDevice d : nvml.devices()) {
            OptionalInt t = d.temperatureCelsius();
            t.ifPresent(c -> assertTrue(c > 0 && c < 130, "temperature " + c));
            OptionalInt slowdown = d.temperatureThresholdCelsius(TemperatureThreshold.SLOWDOWN);
            OptionalInt shutdown = d.temperatureThresholdCelsius(TemperatureThreshold.SHUTDOWN);
            if (slowdown.isPresent() && shutdown.isPresent()) {
                assertTrue(slowdown.getAsInt() <= shutdown.getAsInt(), slowdown + " > " + shutdown);
            }
            d.fanSpeedPercent().ifPresent(f -> assertTrue(f >= 0 && f <= 100, "fan " + f));
            OptionalLong limit = d.enforcedPowerLimitMilliwatts();
            limit.ifPresent(l -> assertTrue(l > 0 && l < 2_000_000, "power limit " + l));
            d.powerUsageMilliwatts().ifPresent(p -> {
                assertTrue(p >= 0, "power " + p);
                limit.ifPresent(l -> assertTrue(p <= l * 2, "power " + p + " far above limit " + l));
            });
            d.powerLimitConstraints().ifPresent(r -> {
                assertTrue(r.minMilliwatts() > 0 && r.maxMilliwatts() < 2_000_000, "power limit range " + r);
                d.defaultPowerLimitMilliwatts().ifPresent(dflt -> assertTrue(dflt >= r.minMilliwatts()
                        && dflt <= r.maxMilliwatts(), "default limit " + dflt + " outside " + r));
            });
            OptionalLong e1 = d.totalEnergyMillijoules();
            OptionalLong e2 = d.totalEnergyMillijoules();
            assertEquals(e1.isPresent(), e2.isPresent());
            if (e1.isPresent()) {
                assertTrue(e1.getAsLong() >= 0 && e2.getAsLong() >= e1.getAsLong(), "energy went backwards");
            }
        }
        expected().ifPresent(e -> {
            NvmlDevice d = first();
            assertTrue(d.temperatureCelsius().isPresent());
            assertEquals(OptionalInt.of(e.slowdownCelsius()), d.temperatureThresholdCelsius(TemperatureThreshold.SLOWDOWN));
            assertEquals(OptionalInt.of(e.shutdownCelsius()), d.temperatureThresholdCelsius(TemperatureThreshold.SHUTDOWN));
            assertEquals(e.hasFan(), d.fanSpeedPercent().isPresent());
            assertEquals(OptionalLong.of(e.powerLimitMilliwatts()), d.enforcedPowerLimitMilliwatts());
            assertEquals(Optional.of(e.powerLimitRange()), d.powerLimitConstraints());
            assertEquals(OptionalLong.of(e.defaultPowerLimitMilliwatts()), d.defaultPowerLimitMilliwatts());
            assertTrue(d.powerUsageMilliwatts().isPresent());
            assertEquals(e.hasEnergyCounter(), d.totalEnergyMillijoules().isPresent());
        });
    }

    @Test
    void clocksStayUnderTheirMaximum() {
        for (NvmlDevice d : nvml.devices()) {
            for (ClockType type : ClockType.values()) {
                OptionalInt cur = d.clockMhz(type);
                OptionalInt max = d.maxClockMhz(type);
                cur.ifPresent(c -> assertTrue(c >= 0, type + " clock " + c));
                max.ifPresent(m -> assertTrue(m > 0, type + " max clock " + m));
                if (cur.isPresent() && max.isPresent()) {
                    assertTrue(cur.getAsInt() <= max.getAsInt() * 1.05, type + " " + cur + " above max " + max);
                }
            }
            d.performanceState().ifPresent(p -> assertTrue(p >= 0 && p <= 15, "pstate " + p));
            d.clockEventReasons().ifPresent(bits -> assertTrue(bits >= 0, "reasons " + bits));
        }
        expected().ifPresent(e -> {
            for (var entry : e.maxClocksMhz().entrySet()) {
                assertEquals(OptionalInt.of(entry.getValue()), first().maxClockMhz(entry.getKey()), entry.getKey().toString());
            }
            assertTrue(first().performanceState().isPresent());
            assertTrue(first().clockEventReasons().isPresent());
        });
    }

    @Test
    void pcieLinkIsPlausible() {
        for (NvmlDevice d : nvml.devices()) {
            d.pcieLinkGeneration().ifPresent(g -> assertTrue(g >= 1 && g <= 7, "gen " + g));
            d.pcieLinkWidth().ifPresent(w -> assertTrue(Set.of(1, 2, 4, 8, 12, 16, 32).contains(w), "width " + w));
            if (d.pcieLinkGeneration().isPresent() && d.maxPcieLinkGeneration().isPresent()) {
                assertTrue(d.pcieLinkGeneration().getAsInt() <= d.maxPcieLinkGeneration().getAsInt());
            }
            if (d.pcieLinkWidth().isPresent() && d.maxPcieLinkWidth().isPresent()) {
                assertTrue(d.pcieLinkWidth().getAsInt() <= d.maxPcieLinkWidth().getAsInt());
            }
            for (PcieCounter c : PcieCounter.values()) {
                d.pcieThroughputKiBps(c).ifPresent(v -> assertTrue(v >= 0, c + " " + v));
            }
        }
        expected().ifPresent(e -> {
            assertEquals(OptionalInt.of(e.maxPcieLinkGeneration()), first().maxPcieLinkGeneration());
            assertEquals(OptionalInt.of(e.maxPcieLinkWidth()), first().maxPcieLinkWidth());
        });
    }

    @Test
    void processListsAreConsistent() {
        for (NvmlDevice d : nvml.devices()) {
            long total = d.memory().totalBytes();
            for (List<ProcessInfo> list : List.of(d.computeProcesses(), d.graphicsProcesses())) {
                Set<Integer> pids = new HashSet<>();
                for (ProcessInfo p : list) {
                    assertTrue(p.pid() > 0, "pid " + p.pid());
                    assertTrue(pids.add(p.pid()), "pid listed twice: " + p.pid());
                    p.usedBytes().ifPresent(b -> assertTrue(b >= 0 && b <= total, "process bytes " + b));
                }
            }
            d.computeProcesses().forEach(p -> assertEquals(ProcessInfo.ProcessKind.COMPUTE, p.kind()));
            d.graphicsProcesses().forEach(p -> assertEquals(ProcessInfo.ProcessKind.GRAPHICS, p.kind()));
            for (ProcessUtilizationSample s : d.processUtilization(0)) {
                assertTrue(s.pid() > 0);
                assertPercent(s.smPercent());
                assertPercent(s.memoryPercent());
                assertPercent(s.encoderPercent());
                assertPercent(s.decoderPercent());
            }
            assertTrue(d.processUtilization(Long.MAX_VALUE / 2).isEmpty(), "samples from the future");
        }
        expected().ifPresent(e -> {
            List<ProcessInfo> procs = first().computeProcesses();
            assertEquals(e.computePids(), procs.stream().map(ProcessInfo::pid).sorted().toList());
            for (ProcessInfo p : procs) {
                assertEquals(OptionalLong.of(e.computeProcesses().get(p.pid())), p.usedBytes(), "pid " + p.pid());
            }
        });
    }

    @Test
    void eventSetRegistersAndPollsWithoutBlocking() {
        try (NvmlEventSet set = nvml.createEventSet()) {
            for (NvmlDevice d : nvml.devices()) {
                long registered = set.register(d, NvmlEventType.XID_CRITICAL_ERROR);
                assertEquals(0, registered & ~NvmlEventType.XID_CRITICAL_ERROR, "registered bits not asked for");
            }
            Optional<NvmlEvent> ev = set.poll(0);
            ev.ifPresent(event -> assertTrue(event.deviceIndex() >= 0 && event.deviceIndex() < nvml.deviceCount()));
        }
    }

    @Test
    void closedSessionRefusesCalls() {
        NvmlDevice d = first();
        nvml.close();
        nvml.close();
        NvmlException e = assertThrows(NvmlException.class, d::memory);
        assertEquals(NvmlReturn.UNINITIALIZED, e.code());
        nvml = null;
    }

    @Test
    void reopeningGivesTheSameDevices() {
        String uuid = first().uuid();
        nvml.close();
        nvml = open();
        assertEquals(uuid, first().uuid());
        assertTrue(first().memory().totalBytes() > 0);
    }

    private static void assertPercent(int v) {
        assertTrue(v >= 0 && v <= 100, "not a percentage: " + v);
    }
}
