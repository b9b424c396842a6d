package org.gpuagent.nvml.sim;

import java.util.ArrayDeque;
import java.util.Optional;
import org.gpuagent.nvml.NvmlDevice;
import org.gpuagent.nvml.NvmlEvent;
import org.gpuagent.nvml.NvmlEventSet;
import org.gpuagent.nvml.NvmlEventType;
import org.gpuagent.nvml.NvmlException;
import org.gpuagent.nvml.NvmlReturn;

/** An event set of a {@link SimulatedNvml} session. The simulator raises Xid events only. */
final class SimulatedEventSet implements NvmlEventSet {
    private static final long SUPPORTED = NvmlEventType.XID_CRITICAL_ERROR;

    private final SimulatedNvml session;
    private final long[] registered;
    private final ArrayDeque<NvmlEvent> queue = new ArrayDeque<>();
    private boolean closed;

    SimulatedEventSet(SimulatedNvml session) {
        this.session = session;
        this.registered = new long[session.host().deviceCount()];
    }

    @Override
    public long register(NvmlDevice device, long eventTypes) {
        if (!(device instanceof SimulatedNvmlDevice sd) || sd.session() != session) {
            throw new IllegalArgumentException("device " + device + " does not belong to this NVML session");
        }
        session.checkOpen(SimCall.REGISTER_EVENTS);
        if (sd.hardware().isLost()) {
            throw new NvmlException(SimCall.REGISTER_EVENTS.cName(), NvmlReturn.GPU_IS_LOST, null);
        }
        if (!session.host().enterDevice(SimCall.REGISTER_EVENTS, sd.hardware())) {
            return 0;
        }
        long bits = eventTypes & SUPPORTED;
        synchronized (this) {
            checkNotFreed();
            registered[sd.index()] |= bits;
        }
        return bits;
    }

    @Override
    public Optional<NvmlEvent> poll(int timeoutMillis) {
        if (timeoutMillis < 0) {
            throw new IllegalArgumentException("timeout must not be negative: " + timeoutMillis);
        }
        session.checkOpen(SimCall.EVENT_SET_WAIT);
        session.host().enterSystem(SimCall.EVENT_SET_WAIT);
        synchronized (this) {
            checkNotFreed();
            for (int i = 0; i < registered.length; i++) {
                if (registered[i] != 0 && session.host().device(i).isLost()) {
                    throw new NvmlException(SimCall.EVENT_SET_WAIT.cName(), NvmlReturn.GPU_IS_LOST,
                            "GPU " + i + " has fallen off the bus");
                }
            }
            if (queue.isEmpty() && timeoutMillis > 0) {
                try {
                    // One wait, no deadline loop: a spurious wakeup returns empty, which a poll may.
                    wait(timeoutMillis);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return Optional.empty();
                }
            }
            NvmlEvent e = queue.poll();
            return e == null ? Optional.empty() : Optional.of(e);
        }
    }

    synchronized void deliverXid(int deviceIndex, long xid) {
        if (!closed && (registered[deviceIndex] & NvmlEventType.XID_CRITICAL_ERROR) != 0) {
            queue.add(new NvmlEvent(deviceIndex, NvmlEventType.XID_CRITICAL_ERROR, xid));
            notifyAll();
        }
    }

    private void checkNotFreed() {
        if (closed) {
            throw new NvmlException(SimCall.EVENT_SET_WAIT.cName(), NvmlReturn.UNINITIALIZED, "the event set was freed");
        }
    }

    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            queue.clear();
            notifyAll();
        }
        session.eventSetClosed(this);
    }
}
