package org.gpuagent.nvml.sampler;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Everything the sampler knows about the GPUs at one moment: immutable, published through an
 * {@code AtomicReference} and read by everyone (exporter, scheduler, status). Readers never call
 * NVML. Made by the factory of its {@link Status}: {@link #initial}, {@link #ok}, {@link #stale},
 * {@link #lost}, {@link #unavailable}.
 *
 * @param sequence         increases by one with every publish (including STALE and LOST ones)
 * @param status           see {@link Status}
 * @param statusDetail     why the status is not OK (the blocked call, the open error); empty when OK
 * @param collectedAt      when the collect that read {@link #devices()} began (so a collect that
 *                         blocked for a while is never younger than it claims); for STALE and LOST
 *                         the last good collect, so {@link #age(Instant)} keeps growing
 * @param publishedAt      when this snapshot was published
 * @param collectDurationNanos how long the collect behind {@link #devices()} took (nano ticker)
 * @param session          what the NVML session behind {@link #devices()} said about itself
 * @param faults           the calls that failed, totals of failures and Xid errors
 */
public record GpuSnapshot(long sequence,
                          Status status,
                          Optional<String> statusDetail,
                          Instant collectedAt,
                          Instant publishedAt,
                          long collectDurationNanos,
                          SessionInfo session,
                          List<DeviceSnapshot> devices,
                          Faults faults) {

    /** How fresh the data is. */
    public enum Status {
        /** The last collect completed (some calls may have failed: see {@link #errors()}). */
        OK,
        /** A collect has been blocked in the driver past the watchdog timeout; the data is the last good one. */
        STALE,
        /** The GPU was lost or the driver failed; the data is the last good one while NVML is re-initialised with backoff. */
        LOST,
        /** Nothing collected yet, or NVML cannot be opened. */
        UNAVAILABLE
    }

    public GpuSnapshot {
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(statusDetail, "statusDetail");
        Objects.requireNonNull(collectedAt, "collectedAt");
        Objects.requireNonNull(publishedAt, "publishedAt");
        Objects.requireNonNull(session, "session");
        Objects.requireNonNull(faults, "faults");
        devices = List.copyOf(devices);
    }

    /** The snapshot readers get before anything was collected. */
    public static GpuSnapshot initial(Instant at) {
        return new GpuSnapshot(0, Status.UNAVAILABLE, Optional.of("nothing collected yet"), at, at, 0, SessionInfo.NONE,
                List.of(), Faults.NONE);
    }

    /** A collect that completed (some of its calls may have failed: see {@code faults}). */
    public static GpuSnapshot ok(long sequence, Instant collectedAt, Instant publishedAt, long collectDurationNanos,
                                 SessionInfo session, List<DeviceSnapshot> devices, Faults faults) {
        return new GpuSnapshot(sequence, Status.OK, Optional.empty(), collectedAt, publishedAt, collectDurationNanos,
                session, devices, faults);
    }

    /** NVML cannot be opened, and no collect ever completed: no devices, only why. */
    public static GpuSnapshot unavailable(long sequence, String detail, Instant at, long attemptNanos,
                                          SessionInfo session, Faults faults) {
        return new GpuSnapshot(sequence, Status.UNAVAILABLE, Optional.of(detail), at, at, attemptNanos, session,
                List.of(), faults);
    }

    /** The GPU or the driver failed: {@code lastGood}'s data republished, with the faults as they are now. */
    public static GpuSnapshot lost(long sequence, String detail, Instant publishedAt, GpuSnapshot lastGood,
                                   Faults faults) {
        return new GpuSnapshot(sequence, Status.LOST, Optional.of(detail), lastGood.collectedAt, publishedAt,
                lastGood.collectDurationNanos, lastGood.session, lastGood.devices, faults);
    }

    /** This snapshot's data republished while a collect is blocked in the driver. */
    public GpuSnapshot stale(long newSequence, String detail, Instant at) {
        return new GpuSnapshot(newSequence, Status.STALE, Optional.of(detail), collectedAt, at, collectDurationNanos,
                session, devices, faults);
    }

    /** Age of the data at {@code now} (never negative). */
    public Duration age(Instant now) {
        Duration d = Duration.between(collectedAt, now);
        return d.isNegative() ? Duration.ZERO : d;
    }

    public boolean isOk() {
        return status == Status.OK;
    }

    public Optional<DeviceSnapshot> device(int index) {
        for (DeviceSnapshot d : devices) {
            if (d.index() == index) {
                return Optional.of(d);
            }
        }
        return Optional.empty();
    }

    public Optional<DeviceSnapshot> deviceByUuid(String uuid) {
        for (DeviceSnapshot d : devices) {
            if (d.uuid().equals(uuid)) {
                return Optional.of(d);
            }
        }
        return Optional.empty();
    }

    // ---- shortcuts into session and faults ----

    /** {@code nvml} or {@code sim}; empty before a session ever opened. */
    public Optional<String> backend() {
        return session.backend();
    }

    public Optional<String> driverVersion() {
        return session.driverVersion();
    }

    public Optional<String> nvmlVersion() {
        return session.nvmlVersion();
    }

    public OptionalInt cudaDriverVersion() {
        return session.cudaDriverVersion();
    }

    /** The calls that failed in the collect that produced this snapshot. */
    public List<CallError> errors() {
        return faults.errors();
    }

    /** Failures per call and code since the sampler started. */
    public List<CallErrorTotal> errorTotals() {
        return faults.errorTotals();
    }

    /** Xid errors per GPU and Xid number since the sampler started (survive re-init). */
    public List<XidCount> xidCounts() {
        return faults.xidCounts();
    }

    /** The last few Xid events, oldest first. */
    public List<XidEvent> recentXids() {
        return faults.recentXids();
    }
}
