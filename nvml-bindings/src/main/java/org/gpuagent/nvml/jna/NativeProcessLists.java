package org.gpuagent.nvml.jna;

import static org.gpuagent.nvml.jna.ReturnCodes.answered;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.OptionalLong;
import org.gpuagent.nvml.ExactListBuilder;
import org.gpuagent.nvml.NvmlException;
import org.gpuagent.nvml.ProcessInfo;
import org.gpuagent.nvml.ProcessInfo.ProcessKind;
import org.gpuagent.nvml.ProcessUtilizationSample;
import org.gpuagent.nvml.jna.NvmlSymbolTable.Symbol;

/**
 * One device's list queries: the running processes and the per-process samples. NVML fills a list
 * in two calls, a size query (a null buffer) and the fill; a list that grows in between answers
 * INSUFFICIENT_SIZE with the new count, and the fill is retried a bounded number of times. The
 * list buffer is kept and grown, never shrunk, so a steady list costs no native allocation.
 *
 * <p>Not thread-safe: its {@link NativeDevice} calls it under the device's monitor, and lends it
 * the device's scratch buffer for the count (in and out) at {@code countAddress}.
 */
final class NativeProcessLists {
    /** Bounded retries when a list grows between the size query and the fill. */
    private static final int LIST_ATTEMPTS = 4;
    /** More entries than any driver lists for one GPU; a larger count is treated as corrupt. */
    private static final int MAX_LIST_ENTRIES = 65_536;

    private final long handle;
    private final ByteBuffer countView;
    private final long countAddress;
    /** Replaced by a larger one when a list outgrows it. */
    private Memory listBuffer = new Memory(32L * NvmlNative.PROCESS_SAMPLE_SIZE);
    private ByteBuffer listView = listBuffer.getByteBuffer(0, listBuffer.size()).order(ByteOrder.nativeOrder());
    private long listAddress = Pointer.nativeValue(listBuffer);
    /** Decoded lists are built here so that a sample leaves no garbage behind. */
    private final ExactListBuilder<ProcessInfo> processList = new ExactListBuilder<>();
    private final ExactListBuilder<ProcessUtilizationSample> sampleList = new ExactListBuilder<>();

    /** @param countView the device's scratch buffer, whose first int is at {@code countAddress} */
    NativeProcessLists(long handle, ByteBuffer countView, long countAddress) {
        this.handle = handle;
        this.countView = countView;
        this.countAddress = countAddress;
    }

    /** The processes of {@code kind} through {@code s}, the running-processes call the driver has. */
    List<ProcessInfo> processes(Symbol s, ProcessKind kind) {
        int entry = entrySize(s);
        countView.putInt(0, 0);
        int rc = runningProcesses(s, 0L);
        if (rc == NvmlNative.NVML_SUCCESS || !answered(rc, s, NvmlNative.NVML_ERROR_INSUFFICIENT_SIZE)) {
            return List.of(); // no process (or the driver lists none for this device)
        }
        for (int attempt = 0; attempt < LIST_ATTEMPTS; attempt++) {
            int capacity = ensureListCapacity(countView.getInt(0), entry, s);
            countView.putInt(0, capacity);
            rc = runningProcesses(s, listAddress);
            if (rc == NvmlNative.NVML_SUCCESS) {
                return decodeProcesses(Math.min(countView.getInt(0), capacity), entry, kind);
            }
            if (!answered(rc, s, NvmlNative.NVML_ERROR_INSUFFICIENT_SIZE)) {
                return List.of();
            }
            // The list grew between the size query and the fill: the driver set the new count.
        }
        throw new NvmlException(s.cName(), NvmlNative.NVML_ERROR_INSUFFICIENT_SIZE,
                "the process list kept growing over " + LIST_ATTEMPTS + " attempts");
    }

    /** Per-process samples newer than {@code sinceTimestampMicros}; NOT_FOUND (an idle GPU) is an empty list. */
    List<ProcessUtilizationSample> processUtilization(long sinceTimestampMicros) {
        Symbol s = Symbol.DEVICE_GET_PROCESS_UTILIZATION;
        countView.putInt(0, 0);
        int rc = NvmlNative.DeviceGetProcessUtilization.nvmlDeviceGetProcessUtilization(
                handle, 0L, countAddress, sinceTimestampMicros);
        if (rc == NvmlNative.NVML_ERROR_NOT_FOUND || (rc == NvmlNative.NVML_SUCCESS && countView.getInt(0) == 0)
                || !answered(rc, s, NvmlNative.NVML_ERROR_INSUFFICIENT_SIZE)) {
            return List.of();
        }
        for (int attempt = 0; attempt < LIST_ATTEMPTS; attempt++) {
            int capacity = ensureListCapacity(countView.getInt(0), NvmlNative.PROCESS_SAMPLE_SIZE, s);
            countView.putInt(0, capacity);
            rc = NvmlNative.DeviceGetProcessUtilization.nvmlDeviceGetProcessUtilization(
                    handle, listAddress, countAddress, sinceTimestampMicros);
            if (rc == NvmlNative.NVML_SUCCESS) {
                return decodeSamples(Math.min(countView.getInt(0), capacity));
            }
            if (rc == NvmlNative.NVML_ERROR_NOT_FOUND || !answered(rc, s, NvmlNative.NVML_ERROR_INSUFFICIENT_SIZE)) {
                return List.of();
            }
        }
        throw new NvmlException(s.cName(), NvmlNative.NVML_ERROR_INSUFFICIENT_SIZE,
                "the sample list kept growing over " + LIST_ATTEMPTS + " attempts");
    }

    /** 16-byte entries for the v1 calls, 24 for _v2 and _v3. */
    static int entrySize(Symbol s) {
        return s == Symbol.DEVICE_GET_COMPUTE_RUNNING_PROCESSES || s == Symbol.DEVICE_GET_GRAPHICS_RUNNING_PROCESSES
                ? NvmlNative.PROCESS_INFO_V1_SIZE : NvmlNative.PROCESS_INFO_V2_SIZE;
    }

    private int runningProcesses(Symbol s, long infos) {
        return switch (s) {
            case DEVICE_GET_COMPUTE_RUNNING_PROCESSES_V3 ->
                    NvmlNative.DeviceGetComputeRunningProcessesV3.nvmlDeviceGetComputeRunningProcesses_v3(
                            handle, countAddress, infos);
            case DEVICE_GET_COMPUTE_RUNNING_PROCESSES_V2 ->
                    NvmlNative.DeviceGetComputeRunningProcessesV2.nvmlDeviceGetComputeRunningProcesses_v2(
                            handle, countAddress, infos);
            case DEVICE_GET_COMPUTE_RUNNING_PROCESSES ->
                    NvmlNative.DeviceGetComputeRunningProcesses.nvmlDeviceGetComputeRunningProcesses(
                            handle, countAddress, infos);
            case DEVICE_GET_GRAPHICS_RUNNING_PROCESSES_V3 ->
                    NvmlNative.DeviceGetGraphicsRunningProcessesV3.nvmlDeviceGetGraphicsRunningProcesses_v3(
                            handle, countAddress, infos);
            case DEVICE_GET_GRAPHICS_RUNNING_PROCESSES_V2 ->
                    NvmlNative.DeviceGetGraphicsRunningProcessesV2.nvmlDeviceGetGraphicsRunningProcesses_v2(
                            handle, countAddress, infos);
            case DEVICE_GET_GRAPHICS_RUNNING_PROCESSES ->
                    NvmlNative.DeviceGetGraphicsRunningProcesses.nvmlDeviceGetGraphicsRunningProcesses(
                            handle, countAddress, infos);
            default -> throw new IllegalArgumentException(s.cName());
        };
    }

    private List<ProcessInfo> decodeProcesses(int count, int entry, ProcessKind kind) {
        if (count <= 0) {
            return List.of();
        }
        ExactListBuilder<ProcessInfo> out = processList.clear();
        for (int i = 0; i < count; i++) {
            int base = i * entry;
            long used = listView.getLong(base + NvmlNative.PROCESS_INFO_USED_GPU_MEMORY);
            out.add(new ProcessInfo(listView.getInt(base + NvmlNative.PROCESS_INFO_PID),
                    used == NvmlNative.NVML_VALUE_NOT_AVAILABLE ? OptionalLong.empty() : OptionalLong.of(used), kind));
        }
        return out.build();
    }

    private List<ProcessUtilizationSample> decodeSamples(int count) {
        if (count <= 0) {
            return List.of();
        }
        ExactListBuilder<ProcessUtilizationSample> out = sampleList.clear();
        for (int i = 0; i < count; i++) {
            int base = i * NvmlNative.PROCESS_SAMPLE_SIZE;
            out.add(new ProcessUtilizationSample(
                    listView.getInt(base + NvmlNative.PROCESS_SAMPLE_PID),
                    listView.getLong(base + NvmlNative.PROCESS_SAMPLE_TIMESTAMP),
                    listView.getInt(base + NvmlNative.PROCESS_SAMPLE_SM),
                    listView.getInt(base + NvmlNative.PROCESS_SAMPLE_MEM),
                    listView.getInt(base + NvmlNative.PROCESS_SAMPLE_ENC),
                    listView.getInt(base + NvmlNative.PROCESS_SAMPLE_DEC)));
        }
        return out.build();
    }

    /** Grows {@link #listBuffer} to hold {@code needed} entries (with room to spare) and answers its capacity in entries. */
    private int ensureListCapacity(int needed, int entry, Symbol s) {
        if (needed < 0 || needed > MAX_LIST_ENTRIES) {
            throw new NvmlException(s.cName(), NvmlNative.NVML_ERROR_INSUFFICIENT_SIZE,
                    "the driver asked for room for " + Integer.toUnsignedString(needed) + " entries");
        }
        long capacity = listBuffer.size() / entry;
        if (capacity < needed) {
            long bytes = Math.max(listBuffer.size() * 2, (needed + needed / 2 + 8L) * entry);
            listBuffer = new Memory(bytes);
            listView = listBuffer.getByteBuffer(0, bytes).order(ByteOrder.nativeOrder());
            listAddress = Pointer.nativeValue(listBuffer);
            capacity = bytes / entry;
        }
        return (int) Math.min(capacity, MAX_LIST_ENTRIES);
    }
}
