package org.gpuagent.nvml.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.gpuagent.nvml.Nvml;
import org.gpuagent.nvml.NvmlDevice;
import org.gpuagent.nvml.NvmlEvent;
import org.gpuagent.nvml.NvmlEventSet;
import org.gpuagent.nvml.NvmlEventType;
import org.gpuagent.nvml.NvmlException;
import org.gpuagent.nvml.NvmlReturn;
import org.gpuagent.scheduler.testing.ManualTime;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Fault injection by C call name, mirroring the fake C library's. */
class SimulatedFaultsTest {
    private final ManualTime time = new ManualTime();
    private final SimulatedGpuHost host = SimulatedGpuHost.create(1, time, GpuProfile.QUADRO_P1000,
            GpuProfile.QUADRO_P1000.withIdentity("GPU-00000000-0000-4000-8000-000000000002", "00000000:02:00.0"));
    private final ExecutorService pool = Executors.newSingleThreadExecutor();

    @AfterEach
    void tearDown() {
        host.clearFaults();
        pool.shutdownNow();
    }

    @Test
    void anInjectedCodeIsThrownWithTheCallNameUntilCleared() {
        host.failCall("nvmlDeviceGetTemperature", NvmlReturn.UNKNOWN);
        try (Nvml nvml = host.open()) {
            NvmlDevice d = nvml.device(0);
            NvmlException e = assertThrows(NvmlException.class, d::temperatureCelsius);
            assertEquals(NvmlReturn.UNKNOWN, e.code());
            assertEquals("nvmlDeviceGetTemperature", e.call());
            assertThrows(NvmlException.class, () -> nvml.device(1).temperatureCelsius());
            assertTrue(d.powerUsageMilliwatts().isPresent(), "other calls are untouched");
            host.clearFault("nvmlDeviceGetTemperature");
            assertTrue(d.temperatureCelsius().isPresent());
        }
    }

    @Test
    void aFaultCanBeLimitedToOneGpuOrToSomeCalls() {
        host.failCallOn(1, "nvmlDeviceGetPowerUsage", NvmlReturn.NO_PERMISSION);
        host.failCall("nvmlDeviceGetComputeRunningProcesses", NvmlReturn.INSUFFICIENT_RESOURCES, 2);
        try (Nvml nvml = host.open()) {
            assertTrue(nvml.device(0).powerUsageMilliwatts().isPresent());
            assertEquals(NvmlReturn.NO_PERMISSION,
                    assertThrows(NvmlException.class, () -> nvml.device(1).powerUsageMilliwatts()).code());
            NvmlException e = assertThrows(NvmlException.class, () -> nvml.device(0).computeProcesses());
            assertEquals("nvmlDeviceGetComputeRunningProcesses_v3", e.call(), "the version suffix may be left out");
            assertThrows(NvmlException.class, () -> nvml.device(1).computeProcesses());
            assertEquals(List.of(), nvml.device(0).computeProcesses(), "the third call succeeds");
        }
    }

    @Test
    void notSupportedMakesAFeatureAbsentNotAnError() {
        host.failCall("nvmlDeviceGetFanSpeed", NvmlReturn.NOT_SUPPORTED);
        host.failCall("nvmlDeviceGetMemoryInfo_v2", NvmlReturn.NOT_SUPPORTED);
        try (Nvml nvml = host.open()) {
            NvmlDevice d = nvml.device(0);
            assertEquals(OptionalInt.empty(), d.fanSpeedPercent());
            assertEquals(OptionalLong.empty(), d.memory().reservedBytes(), "falls back to the v1 memory call");
            assertTrue(d.memory().totalBytes() > 0);
        }
    }

    @Test
    void unknownCallNamesAreRefusedListingTheKnownOnes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> host.failCall("nvmlDeviceGetTemprature", NvmlReturn.UNKNOWN));
        assertTrue(e.getMessage().contains("nvmlDeviceGetTemprature") && e.getMessage().contains("nvmlDeviceGetTemperature"),
                e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> host.failCall("nvmlDeviceGetTemperature", NvmlReturn.SUCCESS));
        assertTrue(SimulatedGpuHost.callNames().contains("nvmlEventSetWait_v2"));
    }

    @Test
    void aFailingInitMeansNoSession() {
        host.failCall("nvmlInit_v2", NvmlReturn.DRIVER_NOT_LOADED, 1);
        assertEquals(NvmlReturn.DRIVER_NOT_LOADED, assertThrows(NvmlException.class, host::open).code());
        assertEquals(0, host.openSessions());
        host.open().close();
    }

    @Test
    void aBlockedCallHoldsItsCallerUntilReleased() throws Exception {
        BlockedCall blocked = host.blockCall("nvmlDeviceGetTemperature");
        try (Nvml nvml = host.open()) {
            NvmlDevice d = nvml.device(0);
            Future<OptionalInt> stuck = pool.submit(d::temperatureCelsius);
            assertTrue(blocked.awaitBlocked(Duration.ofSeconds(10)), "the call should have been entered");
            assertEquals(1, blocked.waitingThreads());
            assertFalse(stuck.isDone());
            assertTrue(d.powerUsageMilliwatts().isPresent(), "other calls still answer");
            blocked.release();
            assertTrue(stuck.get(10, TimeUnit.SECONDS).isPresent());
            assertTrue(blocked.isReleased());
            assertTrue(d.temperatureCelsius().isPresent(), "released: later calls do not block");
        }
    }

    @Test
    void anInterruptedBlockedCallFailsInsteadOfHanging() throws Exception {
        BlockedCall blocked = host.blockCall("nvmlDeviceGetUtilizationRates");
        try (Nvml nvml = host.open()) {
            CompletableFuture<Throwable> outcome = new CompletableFuture<>();
            Thread t = new Thread(() -> {
                try {
                    nvml.device(0).utilization();
                    outcome.complete(null);
                } catch (Throwable e) {
                    outcome.complete(e);
                }
            });
            t.start();
            assertTrue(blocked.awaitBlocked(Duration.ofSeconds(10)));
            t.interrupt();
            Throwable e = outcome.get(10, TimeUnit.SECONDS);
            assertTrue(e instanceof NvmlException, String.valueOf(e));
        }
    }

    @Test
    void aLostGpuAnswersGpuIsLostAndNothingOpensUntilRecovered() {
        Nvml nvml = host.open();
        NvmlDevice d = nvml.device(0);
        host.device(0).loseGpu();
        NvmlException e = assertThrows(NvmlException.class, d::memory);
        assertEquals(NvmlReturn.GPU_IS_LOST, e.code());
        assertTrue(e.code().requiresReinit());
        assertEquals("GPU-5e7c1a2b-93d4-4f60-8b1e-2c9d7a4f6e31", d.uuid(), "identity was read at open");
        assertTrue(nvml.device(1).memory().totalBytes() > 0, "the other GPU still answers");
        assertEquals(NvmlReturn.GPU_IS_LOST, assertThrows(NvmlException.class, host::open).code());
        nvml.close();
        host.recover();
        try (Nvml again = host.open()) {
            assertTrue(again.device(0).memory().totalBytes() > 0);
        }
    }

    @Test
    void xidEventsReachTheSetsRegisteredForThatGpu() {
        try (Nvml nvml = host.open(); NvmlEventSet set = nvml.createEventSet(); NvmlEventSet other = nvml.createEventSet()) {
            assertEquals(NvmlEventType.XID_CRITICAL_ERROR,
                    set.register(nvml.device(0), NvmlEventType.XID_CRITICAL_ERROR | NvmlEventType.PSTATE));
            other.register(nvml.device(1), NvmlEventType.XID_CRITICAL_ERROR);
            host.device(0).raiseXid(13);
            host.device(0).raiseXid(31);
            assertEquals(Optional.of(new NvmlEvent(0, NvmlEventType.XID_CRITICAL_ERROR, 13)), set.poll(0));
            assertEquals(Optional.of(new NvmlEvent(0, NvmlEventType.XID_CRITICAL_ERROR, 31)), set.poll(0));
            assertEquals(Optional.empty(), set.poll(0));
            assertEquals(Optional.empty(), other.poll(0), "GPU 1's set hears nothing of GPU 0");
            host.device(1).raiseXid(79);
            assertEquals(79, other.poll(0).orElseThrow().data());
            host.device(0).loseGpu();
            assertEquals(NvmlReturn.GPU_IS_LOST, assertThrows(NvmlException.class, () -> set.poll(0)).code());
        } finally {
            host.recover();
        }
    }

    @Test
    void aWaitingPollWakesForAnEvent() throws Exception {
        try (Nvml nvml = host.open(); NvmlEventSet set = nvml.createEventSet()) {
            set.register(nvml.device(0), NvmlEventType.XID_CRITICAL_ERROR);
            Future<Optional<NvmlEvent>> waiting = pool.submit(() -> set.poll(30_000));
            // The poll may not be waiting yet; the event is queued either way.
            host.device(0).raiseXid(43);
            assertEquals(43, waiting.get(20, TimeUnit.SECONDS).orElseThrow().data());
        }
    }
}
