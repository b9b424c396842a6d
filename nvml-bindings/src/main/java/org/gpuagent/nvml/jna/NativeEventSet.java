package org.gpuagent.nvml.jna;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Optional;
import org.gpuagent.nvml.NvmlDevice;
import org.gpuagent.nvml.NvmlEvent;
import org.gpuagent.nvml.NvmlEventSet;
import org.gpuagent.nvml.NvmlException;
import org.gpuagent.nvml.NvmlReturn;
import org.gpuagent.nvml.jna.NvmlSymbolTable.Feature;
import org.gpuagent.nvml.jna.NvmlSymbolTable.Symbol;

/**
 * An {@code nvmlEventSet_t}. Methods are synchronized so that the session's {@code close()} cannot
 * free the set while a {@link #poll} waits in the library (that close waits at most one poll
 * timeout), and so that the buffers whose addresses the library writes to stay reachable.
 */
final class NativeEventSet implements NvmlEventSet {

    private final NativeNvml session;
    private final NvmlSymbolTable symbols;
    /** The {@code nvmlEventSet_t}. */
    private final long set;
    private final Memory data = new Memory(NvmlNative.EVENT_DATA_SIZE);
    private final ByteBuffer dataView = data.getByteBuffer(0, data.size()).order(ByteOrder.nativeOrder());
    private final long dataAddress = Pointer.nativeValue(data);
    private final Memory mask = new Memory(8);
    private final ByteBuffer maskView = mask.getByteBuffer(0, mask.size()).order(ByteOrder.nativeOrder());
    private final long maskAddress = Pointer.nativeValue(mask);
    private boolean freed; // guarded by this

    private NativeEventSet(NativeNvml session, long set) {
        this.session = session;
        this.symbols = session.symbols();
        this.set = set;
    }

    static NativeEventSet create(NativeNvml session) {
        Memory out = new Memory(8);
        ReturnCodes.check(Symbol.EVENT_SET_CREATE, NvmlNative.EventSetCreate.nvmlEventSetCreate(Pointer.nativeValue(out)));
        return new NativeEventSet(session, out.getLong(0));
    }

    @Override
    public synchronized long register(NvmlDevice device, long eventTypes) {
        ensureUsable(Symbol.DEVICE_REGISTER_EVENTS);
        if (!(device instanceof NativeDevice d) || d.session() != session) {
            throw new IllegalArgumentException(device + " does not belong to this event set's NVML session");
        }
        long wanted = eventTypes;
        if (symbols.has(Feature.SUPPORTED_EVENT_TYPES)) {
            int rc = NvmlNative.DeviceGetSupportedEventTypes.nvmlDeviceGetSupportedEventTypes(d.handle(), maskAddress);
            wanted &= ReturnCodes.answered(rc, Symbol.DEVICE_GET_SUPPORTED_EVENT_TYPES) ? maskView.getLong(0) : 0;
        }
        if (wanted == 0) {
            return 0;
        }
        int rc = NvmlNative.DeviceRegisterEvents.nvmlDeviceRegisterEvents(d.handle(), wanted, set);
        return ReturnCodes.answered(rc, Symbol.DEVICE_REGISTER_EVENTS) ? wanted : 0;
    }

    @Override
    public synchronized Optional<NvmlEvent> poll(int timeoutMillis) {
        if (timeoutMillis < 0) {
            throw new IllegalArgumentException("negative timeout: " + timeoutMillis);
        }
        Symbol wait = symbols.chosen(Feature.EVENT_SET_WAIT);
        ensureUsable(wait);
        int rc = wait == Symbol.EVENT_SET_WAIT_V2
                ? NvmlNative.EventSetWaitV2.nvmlEventSetWait_v2(set, dataAddress, timeoutMillis)
                : NvmlNative.EventSetWait.nvmlEventSetWait(set, dataAddress, timeoutMillis);
        if (rc == NvmlNative.NVML_ERROR_TIMEOUT) {
            return Optional.empty();
        }
        ReturnCodes.check(wait, rc);
        long device = dataView.getLong(NvmlNative.EVENT_DATA_DEVICE);
        int index = session.indexOfHandle(device);
        if (index < 0) {
            throw new NvmlException(wait.cName(), NvmlReturn.UNKNOWN,
                    "event for a device handle this session does not know: 0x" + Long.toHexString(device));
        }
        return Optional.of(new NvmlEvent(index, dataView.getLong(NvmlNative.EVENT_DATA_TYPE),
                dataView.getLong(NvmlNative.EVENT_DATA_DATA)));
    }

    @Override
    public synchronized void close() {
        if (freed) {
            return;
        }
        freed = true;
        session.forget(this);
        if (!session.isShutDown()) {
            // A failure leaves nothing to undo: the set is unusable either way.
            NvmlNative.EventSetFree.nvmlEventSetFree(set);
        }
    }

    private void ensureUsable(Symbol call) {
        session.ensureOpen(call.cName());
        if (freed) {
            throw new IllegalStateException("the event set is closed");
        }
    }
}
