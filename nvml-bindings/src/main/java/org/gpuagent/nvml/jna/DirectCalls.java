package org.gpuagent.nvml.jna;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.gpuagent.nvml.jna.NvmlSymbolTable.Feature;
import org.gpuagent.nvml.jna.NvmlSymbolTable.Symbol;

/**
 * The direct-mapped C calls on one device with nothing of the typed API around them: no lock, no
 * session check, no value object; each answers the raw {@code nvmlReturn_t}. They exist so that a
 * benchmark can tell JNA's cost per call from this binding's, and they call the same functions
 * the typed API resolved (e.g. {@code _v2} memory where the driver has it).
 *
 * <p>Not thread-safe (one buffer per instance), not checked against a closed session, and the
 * caller keeps the instance reachable while it calls (its buffers are passed by address): for
 * measurement only.
 */
public final class DirectCalls {

    private final long device;
    private final Memory buffer = new Memory(64);
    private final ByteBuffer bufferView = buffer.getByteBuffer(0, buffer.size()).order(ByteOrder.nativeOrder());
    private final long bufferAddress = Pointer.nativeValue(buffer);
    private final Memory count = new Memory(8);
    private final ByteBuffer countView = count.getByteBuffer(0, count.size()).order(ByteOrder.nativeOrder());
    private final long countAddress = Pointer.nativeValue(count);
    private final Symbol memory;
    private final Symbol computeProcesses;
    private final boolean errorString;
    private Memory processes = new Memory(64L * NvmlNative.PROCESS_INFO_V2_SIZE);
    private long processesAddress = Pointer.nativeValue(processes);

    DirectCalls(NvmlSymbolTable symbols, long device) {
        this.device = device;
        this.memory = symbols.chosen(Feature.MEMORY);
        this.computeProcesses = symbols.chosen(Feature.COMPUTE_PROCESSES);
        this.errorString = symbols.has(Feature.ERROR_STRING);
    }

    /** The C function {@link #memoryInfo()} calls. */
    public String memoryInfoFunction() {
        return memory.cName();
    }

    /** The C function {@link #computeRunningProcesses()} calls (twice). */
    public String computeProcessesFunction() {
        return computeProcesses == null ? "absent" : computeProcesses.cName();
    }

    /** {@code nvmlDeviceGetMemoryInfo_v2} (version field set) or the v1 call. */
    public int memoryInfo() {
        if (memory == Symbol.DEVICE_GET_MEMORY_INFO_V2) {
            bufferView.putInt(NvmlNative.MEMORY_V2_VERSION_FIELD, NvmlNative.MEMORY_V2_VERSION);
            return NvmlNative.DeviceGetMemoryInfoV2.nvmlDeviceGetMemoryInfo_v2(device, bufferAddress);
        }
        return NvmlNative.DeviceGetMemoryInfo.nvmlDeviceGetMemoryInfo(device, bufferAddress);
    }

    /**
     * {@code nvmlErrorString(NVML_ERROR_NOT_SUPPORTED)}: a table lookup in the library, so the call
     * costs what crossing from Java into C costs. Answers the string's address (0 when the library
     * lacks the function).
     */
    public long errorString() {
        return errorString ? NvmlNative.ErrorString.nvmlErrorString(NvmlNative.NVML_ERROR_NOT_SUPPORTED) : 0;
    }

    public int utilizationRates() {
        return NvmlNative.DeviceGetUtilizationRates.nvmlDeviceGetUtilizationRates(device, bufferAddress);
    }

    public int temperature() {
        return NvmlNative.DeviceGetTemperature.nvmlDeviceGetTemperature(device, NvmlNative.NVML_TEMPERATURE_GPU, bufferAddress);
    }

    /**
     * The two calls of a process list read: the size query (null buffer, count 0), then the fill.
     * Answers the fill's code (or the query's, when it was not INSUFFICIENT_SIZE).
     */
    public int computeRunningProcesses() {
        if (computeProcesses == null) {
            return NvmlNative.NVML_ERROR_FUNCTION_NOT_FOUND;
        }
        countView.putInt(0, 0);
        int rc = processes(0L);
        if (rc != NvmlNative.NVML_ERROR_INSUFFICIENT_SIZE) {
            return rc;
        }
        int needed = countView.getInt(0);
        int entry = NativeProcessLists.entrySize(computeProcesses);
        if ((long) needed * entry > processes.size()) {
            processes = new Memory(2L * needed * entry);
            processesAddress = Pointer.nativeValue(processes);
        }
        countView.putInt(0, (int) (processes.size() / entry));
        return processes(processesAddress);
    }

    /** The value the last {@link #temperature()} or {@link #utilizationRates()} wrote first. */
    public int lastInt() {
        return bufferView.getInt(0);
    }

    private int processes(long infos) {
        return switch (computeProcesses) {
            case DEVICE_GET_COMPUTE_RUNNING_PROCESSES_V3 ->
                    NvmlNative.DeviceGetComputeRunningProcessesV3.nvmlDeviceGetComputeRunningProcesses_v3(device, countAddress, infos);
            case DEVICE_GET_COMPUTE_RUNNING_PROCESSES_V2 ->
                    NvmlNative.DeviceGetComputeRunningProcessesV2.nvmlDeviceGetComputeRunningProcesses_v2(device, countAddress, infos);
            default -> NvmlNative.DeviceGetComputeRunningProcesses.nvmlDeviceGetComputeRunningProcesses(device, countAddress, infos);
        };
    }
}
