package org.gpuagent.nvml.sampler;

import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.function.LongSupplier;
import org.gpuagent.nvml.ExactListBuilder;
import org.gpuagent.nvml.NvmlException;
import org.gpuagent.nvml.NvmlOpener;

/**
 * One collect, start to publish: open the session if there is none (unless the {@link Backoff}
 * says wait), read every GPU, drain the Xid events, publish OK; or, when the open fails or a code
 * requires re-initialisation, close the session, back off and publish the failure. Every field is
 * guarded by the sampler's collect lock, which the caller holds for the whole collect.
 */
final class Collector {
    private final NvmlOpener opener;
    private final InstantSource clock;
    private final LongSupplier ticker;
    private final int slowEveryTicks;
    private final SnapshotPublisher publisher;
    private final CallInProgress where;
    private final CallErrorLog errors = new CallErrorLog();
    private final XidLog xids;
    private final Backoff backoff;
    /** The devices of the collect in progress. */
    private final ExactListBuilder<DeviceSnapshot> deviceList = new ExactListBuilder<>();

    private SamplerSession session;
    /** What the last session said about itself; kept after it closed, for the snapshots that follow. */
    private SessionInfo sessionInfo = SessionInfo.NONE;
    private int slowCountdown;
    private String failureDetail = "";
    private Faults faults = Faults.NONE;

    Collector(NvmlOpener opener, SamplerConfig config, InstantSource clock, LongSupplier ticker,
              SnapshotPublisher publisher, CallInProgress where) {
        this.opener = opener;
        this.clock = clock;
        this.ticker = ticker;
        this.slowEveryTicks = config.slowEveryTicks();
        this.publisher = publisher;
        this.where = where;
        this.xids = new XidLog(config.recentXidLimit());
        this.backoff = new Backoff(config.backoffMin().toNanos(), config.backoffMax().toNanos());
    }

    /** Collects and publishes; while re-opening is backing off and not yet due, returns the latest snapshot. */
    GpuSnapshot collect() {
        return collect(false);
    }

    /**
     * @param processesNow read the slow fields (process lists included) in this collect whatever
     *                     the cadence; it counts as a tick, so the regular slow ticks stay where
     *                     they were (every {@code slowEveryTicks} collects)
     */
    GpuSnapshot collect(boolean processesNow) {
        long t0 = ticker.getAsLong();
        if (session == null && backoff.waiting(t0)) {
            return publisher.latest();
        }
        publisher.collectStarted(t0);
        errors.beginCollect();
        try {
            if (session == null && !open()) {
                return publisher.publishFailure(failureDetail, ticker.getAsLong() - t0, sessionInfo,
                        faults(errors.thisCollect()));
            }
            boolean regularSlowTick = slowCountdown == 0;
            slowCountdown = regularSlowTick ? slowEveryTicks - 1 : slowCountdown - 1;
            boolean slowTick = processesNow || regularSlowTick;
            Instant now = clock.instant();
            DeviceReader[] readers = session.readers();
            ExactListBuilder<DeviceSnapshot> out = deviceList.clear();
            for (int i = 0; i < readers.length; i++) {
                out.add(readers[i].read(slowTick, now));
            }
            session.drainEvents(xids, now);
            List<DeviceSnapshot> devices = out.build();
            return publisher.publishOk(now, ticker.getAsLong() - t0, sessionInfo, devices,
                    faults(errors.thisCollect()));
        } catch (NvmlException e) {
            // Only codes that require re-initialisation get here; the rest were recorded field by field.
            closeSession();
            backoff.sessionLost(ticker.getAsLong());
            failureDetail = "NVML must be re-initialised (" + e.getMessage() + "); re-opening with backoff";
            return publisher.publishFailure(failureDetail, ticker.getAsLong() - t0, sessionInfo,
                    faults(errors.thisCollect()));
        } finally {
            where.clear();
            publisher.collectEnded();
            if (publisher.isClosed()) {
                closeSession();
            }
        }
    }

    /** How long the sampling thread may sleep before the next open attempt is due; {@link Long#MAX_VALUE} with a session. */
    long nanosUntilReopen() {
        return session != null ? Long.MAX_VALUE : backoff.nanosUntilNextAttempt(ticker.getAsLong());
    }

    void closeSession() {
        if (session != null) {
            session.close();
            session = null;
        }
    }

    private boolean open() {
        try {
            session = SamplerSession.open(opener, errors, where);
            sessionInfo = session.info();
            slowCountdown = 0;
            backoff.opened();
            failureDetail = "";
            return true;
        } catch (NvmlException e) {
            errors.record(-1, e.call(), e.code(), e.getMessage());
            failureDetail = "cannot open NVML: " + e.getMessage();
        } catch (RuntimeException | LinkageError e) {
            errors.recordUnexpected(-1, "open", e);
            failureDetail = "cannot open NVML: " + e;
        }
        backoff.openFailed(ticker.getAsLong());
        return false;
    }

    /** The faults as of now: the previous object while nothing changed, so a quiet collect allocates none. */
    private Faults faults(List<CallError> thisCollect) {
        Faults f = faults;
        if (f.errors() != thisCollect || f.errorTotals() != errors.totals() || f.xidCounts() != xids.counts()
                || f.recentXids() != xids.recent()) {
            f = new Faults(thisCollect, errors.totals(), xids.counts(), xids.recent());
            faults = f;
        }
        return f;
    }
}
