package org.gpuagent.nvml.jna;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.gpuagent.nvml.ExpectedGpu;
import org.gpuagent.nvml.MemoryInfo;
import org.gpuagent.nvml.Nvml;
import org.gpuagent.nvml.NvmlDevice;
import org.gpuagent.nvml.NvmlEvent;
import org.gpuagent.nvml.NvmlEventSet;
import org.gpuagent.nvml.NvmlEventType;
import org.gpuagent.nvml.NvmlException;
import org.gpuagent.nvml.NvmlLibraryNotFoundException;
import org.gpuagent.nvml.NvmlReturn;
import org.gpuagent.nvml.ProcessInfo;
import org.gpuagent.nvml.ProcessInfo.ProcessKind;
import org.gpuagent.nvml.ProcessUtilizationSample;
import org.gpuagent.nvml.TemperatureThreshold;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** One test per fault the fake library injects, through a real dlopen and real marshalling. */
class FakeNvmlFaultTest {

    private static final long MIB = 1024L * 1024L;
    private static final Duration GENEROUS = Duration.ofSeconds(30);

    private FakeNvmlControl fake;
    private Nvml nvml;
    private final ExecutorService pool = Executors.newCachedThreadPool();

    @BeforeEach
    void open() {
        fake = FakeNvmlControl.r580().loadScenario("p1000");
        nvml = fake.open();
    }

    @AfterEach
    void close() throws InterruptedException {
        fake.reset(); // releases blocked calls before the session goes
        nvml.close();
        pool.shutdownNow();
        assertTrue(pool.awaitTermination(30, TimeUnit.SECONDS), "a call stayed blocked");
    }

    private NvmlDevice gpu() {
        return nvml.device(0);
    }

    // ---- a chosen return code for a chosen call ----

    @Test
    void anErrorCodeBecomesAnExceptionNamingTheCallAndTheCode() {
        fake.failCall("nvmlDeviceGetTemperature", NvmlReturn.NO_PERMISSION);
        NvmlException e = assertThrows(NvmlException.class, () -> gpu().temperatureCelsius());
        assertEquals(NvmlReturn.NO_PERMISSION, e.code());
        assertEquals("nvmlDeviceGetTemperature", e.call());
        assertEquals("nvmlDeviceGetTemperature failed: NVML_ERROR_NO_PERMISSION", e.getMessage());
        assertEquals(OptionalInt.of(34), gpu().fanSpeedPercent(), "other calls are untouched");

        fake.clearFault("nvmlDeviceGetTemperature");
        assertEquals(OptionalInt.of(41), gpu().temperatureCelsius());
    }

    @Test
    void anUnknownCodeKeepsTheRawNumber() {
        fake.failCall("nvmlDeviceGetPowerUsage", NvmlReturn.UNKNOWN);
        fake.set("return.nvmlDeviceGetFanSpeed", "4242");
        NvmlException e = assertThrows(NvmlException.class, () -> gpu().fanSpeedPercent());
        assertEquals(NvmlReturn.UNKNOWN, e.code());
        assertEquals(4242, e.rawCode());
        assertTrue(e.getMessage().contains("NVML_ERROR_UNKNOWN(4242)"), e.getMessage());
        assertEquals(999, assertThrows(NvmlException.class, () -> gpu().powerUsageMilliwatts()).rawCode());
    }

    @Test
    void notSupportedIsAnAbsentValueNeverASentinel() {
        fake.failCall("nvmlDeviceGetFanSpeed", NvmlReturn.NOT_SUPPORTED)
                .failCall("nvmlDeviceGetBAR1MemoryInfo", NvmlReturn.NOT_SUPPORTED)
                .failCall("nvmlDeviceGetEncoderStats", NvmlReturn.NOT_SUPPORTED)
                .failCall("nvmlDeviceGetCurrentClocksEventReasons", NvmlReturn.NOT_SUPPORTED)
                .failCall("nvmlDeviceGetComputeRunningProcesses_v3", NvmlReturn.NOT_SUPPORTED)
                .failCall("nvmlDeviceGetPowerManagementLimitConstraints", NvmlReturn.NOT_SUPPORTED)
                .unset("device.0.power.default_limit_mw")
                .unset("device.0.temperature.slowdown")
                .set("device.0.pstate", 32); // NVML_PSTATE_UNKNOWN
        assertEquals(OptionalInt.empty(), gpu().fanSpeedPercent());
        assertEquals(Optional.empty(), gpu().bar1Memory());
        assertEquals(Optional.empty(), gpu().encoderStats());
        assertEquals(Optional.empty(), gpu().powerLimitConstraints());
        assertEquals(OptionalLong.empty(), gpu().defaultPowerLimitMilliwatts());
        assertEquals(OptionalLong.empty(), gpu().clockEventReasons());
        assertEquals(List.of(), gpu().computeProcesses());
        assertEquals(OptionalInt.empty(), gpu().temperatureThresholdCelsius(TemperatureThreshold.SLOWDOWN));
        assertEquals(OptionalInt.of(102), gpu().temperatureThresholdCelsius(TemperatureThreshold.SHUTDOWN));
        assertEquals(OptionalInt.empty(), gpu().performanceState());
        assertEquals(OptionalLong.empty(), gpu().totalEnergyMillijoules(), "a P1000 has no energy counter");
    }

    @Test
    void anAbsentValueAllocatesNothing() {
        fake.failCall("nvmlDeviceGetFanSpeed", NvmlReturn.NOT_SUPPORTED);
        NvmlDevice d = gpu();
        for (int i = 0; i < 20_000; i++) {
            d.fanSpeedPercent();
        }
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long thread = Thread.currentThread().getId();
        int calls = 100_000;
        long before = threads.getThreadAllocatedBytes(thread);
        int absent = 0;
        for (int i = 0; i < calls; i++) {
            absent += d.fanSpeedPercent().isPresent() ? 0 : 1;
        }
        long allocated = threads.getThreadAllocatedBytes(thread) - before;
        assertEquals(calls, absent);
        // An exception per call would be hundreds of bytes each; allow a little for the measurement itself.
        assertTrue(allocated < calls, allocated + " bytes allocated over " + calls + " absent answers");
    }

    @Test
    void aFaultOnOneDeviceLeavesTheOtherAlone() {
        nvml.close();
        fake.loadScenario("two-gpus");
        nvml = fake.open();
        fake.failCall(1, "nvmlDeviceGetUtilizationRates", NvmlReturn.GPU_IS_LOST);
        assertTrue(nvml.device(0).utilization().isPresent());
        assertEquals(NvmlReturn.GPU_IS_LOST,
                assertThrows(NvmlException.class, () -> nvml.device(1).utilization()).code());
    }

    // ---- a library that loads but does not start ----

    @Test
    void aLibraryThatFailsToInitialiseIsAnNvmlErrorNotAMissingLibrary() {
        int initialised = fake.initCount();
        fake.failCall("nvmlInit_v2", NvmlReturn.DRIVER_NOT_LOADED);
        NvmlException e = assertThrows(NvmlException.class, fake::open);
        assertFalse(e instanceof NvmlLibraryNotFoundException, e.toString());
        assertEquals(NvmlReturn.DRIVER_NOT_LOADED, e.code());
        assertEquals("nvmlInit_v2", e.call());
        assertTrue(e.getMessage().contains(fake.library().toString()), e.getMessage());
        assertEquals(initialised, fake.initCount());

        fake.clearFault("nvmlInit_v2");
        try (Nvml again = fake.open()) {
            assertEquals("Quadro P1000", again.device(0).name());
        }
    }

    @Test
    void aFailureWhileReadingIdentityShutsNvmlDownAgain() {
        int initialised = fake.initCount();
        fake.failCall("nvmlDeviceGetUUID", NvmlReturn.NO_PERMISSION);
        NvmlException e = assertThrows(NvmlException.class, fake::open);
        assertEquals("nvmlDeviceGetUUID", e.call());
        assertEquals(initialised, fake.initCount(), "nvmlInit_v2 without its nvmlShutdown");
    }

    @Test
    void thisJvmStaysBoundToOneLibraryFile() {
        FakeNvmlControl other = FakeNvmlControl.of(FakeNvmlControl.Variant.R470);
        IllegalStateException e = assertThrows(IllegalStateException.class, other::open);
        assertTrue(e.getMessage().contains(fake.library().toString()) && e.getMessage().contains(other.library().toString()),
                e.getMessage());
        assertTrue(gpu().memory().totalBytes() > 0, "the bound library still works");
    }

    // ---- GPU lost, and recovery ----

    @Test
    void aLostGpuFailsEveryCallThenAReopenWorksAfterRecovery() {
        NvmlDevice d = gpu();
        fake.loseGpuAfter(0, 3);
        d.temperatureCelsius();
        d.memory();
        d.utilization();
        NvmlException lost = assertThrows(NvmlException.class, d::memory);
        assertEquals(NvmlReturn.GPU_IS_LOST, lost.code());
        assertTrue(lost.code().requiresReinit());
        assertEquals(NvmlReturn.GPU_IS_LOST, assertThrows(NvmlException.class, d::temperatureCelsius).code());
        assertEquals("Quadro P1000", d.name(), "identity stays readable");

        // While the GPU is gone a new session cannot get its handle.
        nvml.close();
        int initialised = fake.initCount();
        NvmlException reopen = assertThrows(NvmlException.class, fake::open);
        assertEquals(NvmlReturn.GPU_IS_LOST, reopen.code());
        assertEquals(initialised, fake.initCount());

        fake.recoverGpu(0);
        nvml = fake.opener().open();
        assertEquals(4096 * MIB, gpu().memory().totalBytes());
        assertEquals(ExpectedGpu.QUADRO_P1000.uuid(), gpu().uuid());
    }

    @Test
    void aLostGpuEndsTheEventWait() {
        try (NvmlEventSet set = nvml.createEventSet()) {
            assertEquals(NvmlEventType.XID_CRITICAL_ERROR, set.register(gpu(), NvmlEventType.XID_CRITICAL_ERROR));
            Future<Optional<NvmlEvent>> waiting = pool.submit(() -> set.poll((int) GENEROUS.toMillis()));
            fake.loseGpuAfter(0, 0);
            NvmlException e = assertThrows(NvmlException.class, () -> unwrap(waiting));
            assertEquals(NvmlReturn.GPU_IS_LOST, e.code());
        }
    }

    // ---- a call that blocks ----

    @Test
    void aBlockedCallReturnsOnlyOnceReleased() throws Exception {
        fake.blockUntilReleased("nvmlDeviceGetTemperature");
        CompletableFuture<OptionalInt> call = CompletableFuture.supplyAsync(() -> gpu().temperatureCelsius(), pool);
        assertTrue(fake.awaitBlocked("nvmlDeviceGetTemperature", GENEROUS), "the call never reached the library");
        assertFalse(call.isDone());
        fake.release("nvmlDeviceGetTemperature");
        assertEquals(OptionalInt.of(41), call.get(GENEROUS.toSeconds(), TimeUnit.SECONDS));
        assertEquals(OptionalInt.of(41), gpu().temperatureCelsius(), "released for good");
    }

    @Test
    void aDelayedCallTakesAtLeastTheConfiguredTime() {
        fake.block("nvmlDeviceGetMemoryInfo_v2", Duration.ofMillis(200));
        long start = System.nanoTime();
        MemoryInfo m = gpu().memory();
        long tookMillis = (System.nanoTime() - start) / 1_000_000;
        assertTrue(tookMillis >= 200, "returned after " + tookMillis + " ms");
        assertEquals(4096 * MIB, m.totalBytes());
    }

    @Test
    void aCallBlockedOnOneDeviceDoesNotHoldUpTheOther() throws Exception {
        nvml.close();
        fake.loadScenario("two-gpus");
        nvml = fake.open();
        fake.blockUntilReleased("nvmlDeviceGetMemoryInfo_v2");
        CompletableFuture<MemoryInfo> stuck = CompletableFuture.supplyAsync(() -> nvml.device(0).memory(), pool);
        assertTrue(fake.awaitBlocked("nvmlDeviceGetMemoryInfo_v2", GENEROUS));
        assertEquals(OptionalInt.of(38), nvml.device(1).temperatureCelsius());
        assertFalse(stuck.isDone());
        fake.release("nvmlDeviceGetMemoryInfo_v2");
        assertEquals(4096 * MIB, stuck.get(GENEROUS.toSeconds(), TimeUnit.SECONDS).totalBytes());
    }

    // ---- queued Xid events ----

    @Test
    void aQueuedXidArrivesThroughTheEventSet() {
        try (NvmlEventSet set = nvml.createEventSet()) {
            long registered = set.register(gpu(), NvmlEventType.XID_CRITICAL_ERROR | NvmlEventType.DOUBLE_BIT_ECC_ERROR);
            assertEquals(NvmlEventType.XID_CRITICAL_ERROR, registered, "a GDDR5 Quadro has no ECC events");
            assertEquals(Optional.empty(), set.poll(0));

            assertEquals(1, fake.queueXid(0, NvmlEventType.XID_GPU_FELL_OFF_BUS));
            assertEquals(1, fake.queueXid(0, 13));
            NvmlEvent first = set.poll((int) GENEROUS.toMillis()).orElseThrow();
            assertEquals(new NvmlEvent(0, NvmlEventType.XID_CRITICAL_ERROR, 79), first);
            assertTrue(first.isXid());
            assertEquals(Optional.of(new NvmlEvent(0, NvmlEventType.XID_CRITICAL_ERROR, 13)), set.poll(0));
            assertEquals(Optional.empty(), set.poll(0));
        }
        assertEquals(1, fake.callCount("nvmlEventSetFree"));
    }

    @Test
    void aWaitingPollWakesForAnXidQueuedLater() throws Exception {
        try (NvmlEventSet set = nvml.createEventSet()) {
            set.register(gpu(), NvmlEventType.XID_CRITICAL_ERROR);
            Future<Optional<NvmlEvent>> waiting = pool.submit(() -> set.poll((int) GENEROUS.toMillis()));
            fake.queueXid(0, 43);
            assertEquals(Optional.of(new NvmlEvent(0, NvmlEventType.XID_CRITICAL_ERROR, 43)),
                    waiting.get(GENEROUS.toSeconds(), TimeUnit.SECONDS));
        }
    }

    @Test
    void eventsTheDeviceDoesNotSupportAreNotRegistered() {
        fake.set("device.0.supported_events", NvmlEventType.PSTATE);
        try (NvmlEventSet set = nvml.createEventSet()) {
            assertEquals(0, set.register(gpu(), NvmlEventType.XID_CRITICAL_ERROR));
            assertEquals(0, fake.callCount("nvmlDeviceRegisterEvents"));
            assertEquals(0, fake.queueXid(0, 79));
        }
    }

    @Test
    void closingTheSessionFreesItsEventSetsAndTouchesTheLibraryNoMore() {
        NvmlEventSet set = nvml.createEventSet();
        NvmlDevice d = gpu();
        nvml.close();
        assertEquals(1, fake.callCount("nvmlEventSetFree"));
        assertEquals(1, fake.callCount("nvmlShutdown"));
        long memoryCalls = fake.callCount("nvmlDeviceGetMemoryInfo_v2");
        assertEquals(NvmlReturn.UNINITIALIZED, assertThrows(NvmlException.class, d::memory).code());
        assertEquals(NvmlReturn.UNINITIALIZED, assertThrows(NvmlException.class, () -> set.poll(0)).code());
        assertEquals(NvmlReturn.UNINITIALIZED, assertThrows(NvmlException.class, nvml::deviceCount).code());
        assertEquals(NvmlReturn.UNINITIALIZED, assertThrows(NvmlException.class, nvml::createEventSet).code());
        assertEquals(memoryCalls, fake.callCount("nvmlDeviceGetMemoryInfo_v2"));
        set.close();
        assertEquals(1, fake.callCount("nvmlEventSetFree"));
        nvml = fake.open();
    }

    @Test
    void aDeviceOfAnotherSessionIsRefusedByTheEventSet() {
        try (Nvml other = fake.open(); NvmlEventSet set = nvml.createEventSet()) {
            assertThrows(IllegalArgumentException.class, () -> set.register(other.device(0), NvmlEventType.XID_CRITICAL_ERROR));
        }
    }

    // ---- process lists ----

    @Test
    void processListAsksForTheCountThenFills() {
        List<ProcessInfo> procs = gpu().computeProcesses();
        assertEquals(List.of(new ProcessInfo(4242, OptionalLong.of(512 * MIB), ProcessKind.COMPUTE),
                new ProcessInfo(4343, OptionalLong.of(300 * MIB), ProcessKind.COMPUTE)), procs);
        assertEquals(2, fake.callCount("nvmlDeviceGetComputeRunningProcesses_v3"));
        assertEquals(List.of(), gpu().graphicsProcesses());
        assertEquals(1, fake.callCount("nvmlDeviceGetGraphicsRunningProcesses_v3"), "an empty list needs no fill");
    }

    @Test
    void aListThatGrowsBetweenCountAndFillIsRetried() {
        fake.growProcessListAfterSizeQuery(0, 200, 1);
        List<ProcessInfo> procs = gpu().computeProcesses();
        assertEquals(202, procs.size());
        assertEquals(4242, procs.get(0).pid());
        assertEquals(70_199, procs.get(201).pid());
        assertEquals(OptionalLong.of(MIB), procs.get(201).usedBytes());
        assertEquals(3, fake.callCount("nvmlDeviceGetComputeRunningProcesses_v3"), "size query, short fill, fill");
        assertEquals(202, gpu().computeProcesses().size());
    }

    @Test
    void aListThatNeverFitsGivesUpWithInsufficientSize() {
        fake.failCall("nvmlDeviceGetComputeRunningProcesses_v3", NvmlReturn.INSUFFICIENT_SIZE);
        NvmlException e = assertThrows(NvmlException.class, () -> gpu().computeProcesses());
        assertEquals(NvmlReturn.INSUFFICIENT_SIZE, e.code());
        assertEquals("nvmlDeviceGetComputeRunningProcesses_v3", e.call());
        assertEquals(5, fake.callCount("nvmlDeviceGetComputeRunningProcesses_v3"), "a size query and four fills");
    }

    @Test
    void unknownUsedMemoryIsAbsentAndBothKindsAreListedTwice() {
        fake.addProcess(0, 555, EnumSet.of(ProcessKind.COMPUTE, ProcessKind.GRAPHICS), OptionalLong.empty())
                .addProcess(0, 777, EnumSet.of(ProcessKind.GRAPHICS), OptionalLong.of(20 * MIB))
                .removeProcess(0, 4343);
        assertEquals(List.of(new ProcessInfo(4242, OptionalLong.of(512 * MIB), ProcessKind.COMPUTE),
                new ProcessInfo(555, OptionalLong.empty(), ProcessKind.COMPUTE)), gpu().computeProcesses());
        assertEquals(List.of(new ProcessInfo(555, OptionalLong.empty(), ProcessKind.GRAPHICS),
                new ProcessInfo(777, OptionalLong.of(20 * MIB), ProcessKind.GRAPHICS)), gpu().graphicsProcesses());
        assertEquals((512 + 20) * MIB, gpu().memory().usedBytes(), "used memory follows the processes");
    }

    @Test
    void processUtilizationSamplesAreReadSinceATimestamp() {
        List<ProcessUtilizationSample> all = gpu().processUtilization(0);
        assertEquals(List.of(new ProcessUtilizationSample(4242, 1_700_000_000_000_000L, 18, 9, 0, 12),
                new ProcessUtilizationSample(4343, 1_700_000_000_000_000L, 5, 2, 0, 0)), all);
        fake.addProcessSample(0, 4242, 1_700_000_001_000_000L, 40, 20, 0, 30);
        assertEquals(List.of(new ProcessUtilizationSample(4242, 1_700_000_001_000_000L, 40, 20, 0, 30)),
                gpu().processUtilization(1_700_000_000_000_000L));
        assertEquals(List.of(), gpu().processUtilization(1_700_000_001_000_000L), "NOT_FOUND: nothing newer");
    }

    // ---- memory ----

    @Test
    void memoryV2SplitsReservedFromUsed() {
        MemoryInfo m = gpu().memory();
        assertEquals(new MemoryInfo(4096 * MIB, 812 * MIB, (4096 - 66 - 812) * MIB, OptionalLong.of(66 * MIB)), m);
    }

    @Test
    void aDriverRefusingTheV2StructFallsBackToV1ForGood() {
        fake.failCall("nvmlDeviceGetMemoryInfo_v2", NvmlReturn.ARGUMENT_VERSION_MISMATCH);
        MemoryInfo m = gpu().memory();
        assertEquals(new MemoryInfo(4096 * MIB, (812 + 66) * MIB, (4096 - 66 - 812) * MIB, OptionalLong.empty()), m);
        gpu().memory();
        assertEquals(1, fake.callCount("nvmlDeviceGetMemoryInfo_v2"));
        assertEquals(2, fake.callCount("nvmlDeviceGetMemoryInfo"));
    }

    @Test
    void theBindingUsesTheNewestFunctionsOfA580Driver() {
        NativeNvml n = (NativeNvml) nvml;
        assertEquals("nvmlDeviceGetMemoryInfo_v2", n.functions().get("memory"));
        assertEquals("nvmlDeviceGetComputeRunningProcesses_v3", n.functions().get("compute_processes"));
        assertEquals("nvmlDeviceGetCurrentClocksEventReasons", n.functions().get("clock_event_reasons"));
        assertEquals("nvmlEventSetWait_v2", n.functions().get("event_set_wait"));
        assertEquals("nvml", nvml.backend());
        assertSame(nvml.device(0), nvml.deviceByUuid(ExpectedGpu.QUADRO_P1000.uuid()));
    }

    private static <T> T unwrap(Future<T> f) throws Throwable {
        try {
            return f.get(GENEROUS.toSeconds(), TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw e.getCause();
        }
    }
}
