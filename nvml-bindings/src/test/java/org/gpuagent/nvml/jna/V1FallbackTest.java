package org.gpuagent.nvml.jna;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import org.gpuagent.nvml.NvmlEvent;
import org.gpuagent.nvml.NvmlEventSet;
import org.gpuagent.nvml.NvmlEventType;
import org.gpuagent.nvml.ProcessInfo;
import org.gpuagent.nvml.ProcessInfo.ProcessKind;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** A library with only the oldest form of every versioned call: the 16-byte process entries and the v1 event data. */
@Tag("fake-nvml-v1")
class V1FallbackTest {

    private static final long MIB = 1024L * 1024L;

    private FakeNvmlControl fake;
    private NativeNvml nvml;

    @BeforeEach
    void open() {
        fake = FakeNvmlControl.of(FakeNvmlControl.Variant.V1).loadScenario("p1000");
        assertEquals("v1", fake.builtVariant());
        nvml = (NativeNvml) fake.open();
    }

    @AfterEach
    void close() {
        nvml.close();
    }

    @Test
    void oldestFunctionsServeEveryVersionedFeature() {
        Map<String, String> f = nvml.functions();
        assertEquals("nvmlDeviceGetCount", f.get("device_count"));
        assertEquals("nvmlDeviceGetHandleByIndex", f.get("handle_by_index"));
        assertEquals("nvmlDeviceGetPciInfo_v2", f.get("pci_info"));
        assertEquals("nvmlSystemGetCudaDriverVersion", f.get("cuda_driver_version"));
        assertEquals("nvmlDeviceGetComputeRunningProcesses", f.get("compute_processes"));
        assertEquals("nvmlEventSetWait", f.get("event_set_wait"));
        assertEquals(OptionalInt.of(13000), nvml.cudaDriverVersion());
        assertEquals("00000000:01:00.0", nvml.device(0).identity().pciBusId());
    }

    @Test
    void sixteenByteProcessEntriesAreDecoded() {
        fake.addProcess(0, 9001, EnumSet.of(ProcessKind.COMPUTE), OptionalLong.empty());
        fake.addProcess(0, 9002, EnumSet.of(ProcessKind.GRAPHICS), OptionalLong.of(7 * MIB));
        assertEquals(List.of(new ProcessInfo(4242, OptionalLong.of(512 * MIB), ProcessKind.COMPUTE),
                new ProcessInfo(4343, OptionalLong.of(300 * MIB), ProcessKind.COMPUTE),
                new ProcessInfo(9001, OptionalLong.empty(), ProcessKind.COMPUTE)), nvml.device(0).computeProcesses());
        assertEquals(List.of(new ProcessInfo(9002, OptionalLong.of(7 * MIB), ProcessKind.GRAPHICS)),
                nvml.device(0).graphicsProcesses());
    }

    @Test
    void theV1EventWaitDeliversXids() {
        try (NvmlEventSet set = nvml.createEventSet()) {
            assertEquals(NvmlEventType.XID_CRITICAL_ERROR, set.register(nvml.device(0), NvmlEventType.XID_CRITICAL_ERROR));
            fake.queueXid(0, 79);
            assertEquals(Optional.of(new NvmlEvent(0, NvmlEventType.XID_CRITICAL_ERROR, 79)), set.poll(10_000));
            assertEquals(1, fake.callCount("nvmlEventSetWait"));
        }
    }
}
