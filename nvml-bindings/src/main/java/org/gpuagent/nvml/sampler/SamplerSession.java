package org.gpuagent.nvml.sampler;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.gpuagent.nvml.Nvml;
import org.gpuagent.nvml.NvmlDevice;
import org.gpuagent.nvml.NvmlEvent;
import org.gpuagent.nvml.NvmlEventSet;
import org.gpuagent.nvml.NvmlEventType;
import org.gpuagent.nvml.NvmlException;
import org.gpuagent.nvml.NvmlOpener;

/**
 * An open NVML session as the sampler uses it: the library's session, a {@link DeviceReader} per
 * GPU, the event set Xid errors arrive on, and what the session said about itself. Guarded by the
 * sampler's collect lock.
 */
final class SamplerSession implements AutoCloseable {
    /** Bounds one collect's work when the driver floods the event set. */
    private static final int MAX_EVENTS_PER_COLLECT = 256;

    private final Nvml nvml;
    private final NvmlEventSet events;
    private final DeviceReader[] readers;
    private final SessionInfo info;
    private final CallErrorLog errors;
    private final CallInProgress where;

    private SamplerSession(Nvml nvml, NvmlEventSet events, DeviceReader[] readers, SessionInfo info,
                           CallErrorLog errors, CallInProgress where) {
        this.nvml = nvml;
        this.events = events;
        this.readers = readers;
        this.info = info;
        this.errors = errors;
        this.where = where;
    }

    /**
     * Opens a session, reads its versions and its devices' identities, and registers every GPU for
     * Xid events. A version, the event set or a registration that fails is recorded and left out;
     * anything else that fails closes what was opened and propagates.
     *
     * @throws NvmlException when NVML cannot be opened, or a code that requires re-initialisation
     */
    static SamplerSession open(NvmlOpener opener, CallErrorLog errors, CallInProgress where) {
        Nvml nvml = null;
        NvmlEventSet events = null;
        try {
            where.enter("open", -1);
            nvml = opener.open();
            String backend = nvml.backend();
            Optional<String> driver = Optional.empty();
            Optional<String> nvmlVersion = Optional.empty();
            OptionalInt cuda = OptionalInt.empty();
            try {
                driver = Optional.of(nvml.driverVersion());
            } catch (NvmlException e) {
                errors.recordUnlessReinit(-1, e);
            }
            try {
                nvmlVersion = Optional.of(nvml.nvmlVersion());
            } catch (NvmlException e) {
                errors.recordUnlessReinit(-1, e);
            }
            try {
                cuda = nvml.cudaDriverVersion();
            } catch (NvmlException e) {
                errors.recordUnlessReinit(-1, e);
            }
            List<NvmlDevice> devices = nvml.devices();
            DeviceReader[] readers = new DeviceReader[devices.size()];
            for (int i = 0; i < readers.length; i++) {
                readers[i] = new DeviceReader(devices.get(i), errors, where);
            }
            where.enter("createEventSet", -1);
            try {
                events = nvml.createEventSet();
            } catch (NvmlException e) {
                errors.recordUnlessReinit(-1, e);
            }
            if (events != null) {
                for (DeviceReader r : readers) {
                    where.enter("registerEvents", r.index());
                    try {
                        events.register(r.device(), NvmlEventType.XID_CRITICAL_ERROR);
                    } catch (NvmlException e) {
                        errors.recordUnlessReinit(r.index(), e);
                    }
                }
            }
            SessionInfo info = new SessionInfo(Optional.of(backend), driver, nvmlVersion, cuda);
            return new SamplerSession(nvml, events, readers, info, errors, where);
        } catch (RuntimeException | LinkageError e) {
            closeQuietly(events);
            closeQuietly(nvml);
            throw e;
        }
    }

    SessionInfo info() {
        return info;
    }

    /** One per GPU, in NVML index order; the caller does not change it. */
    DeviceReader[] readers() {
        return readers;
    }

    /** Counts the Xid errors that arrived since the last drain (at most a bounded number per collect). */
    void drainEvents(XidLog xids, Instant now) {
        if (events == null) {
            return;
        }
        where.enter("eventSetPoll", -1);
        for (int n = 0; n < MAX_EVENTS_PER_COLLECT; n++) {
            Optional<NvmlEvent> next;
            try {
                next = events.poll(0);
            } catch (NvmlException e) {
                errors.recordOrRethrow(-1, e);
                return;
            } catch (RuntimeException e) {
                errors.recordUnexpected(-1, "eventSetPoll", e);
                return;
            }
            if (next.isEmpty()) {
                return;
            }
            NvmlEvent e = next.get();
            if (e.isXid()) {
                xids.count(e.deviceIndex(), uuidOf(e.deviceIndex()), e.data(), now);
            }
        }
    }

    private String uuidOf(int deviceIndex) {
        for (DeviceReader r : readers) {
            if (r.index() == deviceIndex) {
                return r.identity().uuid();
            }
        }
        return "unknown";
    }

    /** Closes the event set, then the session; a failure to close is logged, never thrown. */
    @Override
    public void close() {
        closeQuietly(events);
        closeQuietly(nvml);
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception | LinkageError e) {
            SamplerLog.LOG.log(System.Logger.Level.DEBUG, "closing " + c + " failed", e);
        }
    }
}
