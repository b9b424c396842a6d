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
 * NVML.
 *
 * @param sequence         increases by one with every publish (including STALE and LOST ones)
 * @param status           see {@link Status}
 * @param statusDetail     why the status is not OK (the blocked call, the open error); empty when OK
 * @param collectedAt      when the collect that read {@link #devices()} began (so a collect that
 *                         blocked for a while is never younger than it claims); for STALE and LOST
 *                         the last good collect, so {@link #age(Instant)} keeps growing
 * @param publishedAt      when this snapshot was published
 * @param collectDurationNanos how long the collect behind {@link #devices()} took (nano ticker)
 * @param backend          {@code nvml} or {@code sim}; empty before a session ever opened
 * @param errors           the calls that failed in the collect that produced this snapshot
 * @param errorTotals      failures per call and code since the sampler started
 * @param xidCounts        Xid errors per GPU and Xid number since the sampler started (survive re-init)
 * @param recentXids       the last few Xid events, oldest first
 */
public record GpuSnapshot(long sequence,
                          Status status,
                          Optional<String> statusDetail,
                          Instant collectedAt,
                          Instant publishedAt,
                          long collectDurationNanos,
                          Optional<String> backend,
                          Optional<String> driverVersion,
                          Optional<String> nvmlVersion,
                          OptionalInt cudaDriverVersion,
                          List<DeviceSnapshot> devices,
                          List<CallError> errors,
                          List<CallErrorTotal> errorTotals,
                          List<XidCount> xidCounts,
                          List<XidEvent> recentXids) {

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
        Objects.requireNonNull(backend, "backend");
        Objects.requireNonNull(driverVersion, "driverVersion");
        Objects.requireNonNull(nvmlVersion, "nvmlVersion");
        Objects.requireNonNull(cudaDriverVersion, "cudaDriverVersion");
        devices = List.copyOf(devices);
        errors = List.copyOf(errors);
        errorTotals = List.copyOf(errorTotals);
        xidCounts = List.copyOf(xidCounts);
        recentXids = List.copyOf(recentXids);
    }

    /** The snapshot readers get before anything was collected. */
    public static GpuSnapshot initial(Instant at) {
        return new GpuSnapshot(0, Status.UNAVAILABLE, Optional.of("nothing collected yet"), at, at, 0,
                Optional.empty(), Optional.empty(), Optional.empty(), OptionalInt.empty(),
                List.of(), List.of(), List.of(), List.of(), List.of());
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

    /** The same data under another status, published at {@code at} with sequence {@code seq}. */
    GpuSnapshot withStatus(long seq, Status newStatus, Optional<String> detail, Instant at) {
        return new GpuSnapshot(seq, newStatus, detail, collectedAt, at, collectDurationNanos, backend, driverVersion,
                nvmlVersion, cudaDriverVersion, devices, errors, errorTotals, xidCounts, recentXids);
    }
}
