package org.gpuagent.scheduler;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A service asking for VRAM before it starts.
 *
 * @param service the configured service name
 * @param bytes   how much; absent means the service's default request
 * @param holder  who will run on the lease ({@code systemd:<unit>}, {@code oci:<id>}); optional,
 *                but without it the lease can be matched to observed use only through its
 *                service and is never reclaimed automatically unless {@code pids} are given
 * @param pids    processes already known to run on it (optional)
 * @param maxWait how long it may wait in the queue for memory to free; zero means decide now.
 *                A request that preempts always waits for its victims' memory, up to the longest
 *                eviction deadline among them, even when this is zero.
 */
public record AdmissionRequest(
        String service, OptionalLong bytes, Optional<String> holder, List<Long> pids, Duration maxWait) {

    /** Longest accepted holder, in characters; a holder is an identifier, not a payload. */
    public static final int MAX_HOLDER_LENGTH = 512;

    public AdmissionRequest {
        Objects.requireNonNull(service, "service");
        Objects.requireNonNull(bytes, "bytes");
        Objects.requireNonNull(holder, "holder");
        Objects.requireNonNull(maxWait, "maxWait");
        pids = List.copyOf(pids);
        if (bytes.isPresent() && bytes.getAsLong() <= 0) {
            throw new IllegalArgumentException("requested size must be positive, got " + bytes.getAsLong() + " bytes");
        }
        if (maxWait.isNegative()) {
            throw new IllegalArgumentException("wait must not be negative, got " + maxWait);
        }
        if (holder.isPresent()) {
            String h = holder.get();
            if (h.isBlank() || h.length() > MAX_HOLDER_LENGTH || h.chars().anyMatch(Character::isISOControl)) {
                throw new IllegalArgumentException("holder must be 1-" + MAX_HOLDER_LENGTH
                        + " printable characters, got '" + h + "'");
            }
        }
        for (Long pid : pids) {
            if (pid <= 0) {
                throw new IllegalArgumentException("pid must be positive, got " + pid);
            }
        }
    }

    /** A request for the service's default size, without a holder, deciding now. */
    public static AdmissionRequest of(String service) {
        return new AdmissionRequest(service, OptionalLong.empty(), Optional.empty(), List.of(), Duration.ZERO);
    }

    public AdmissionRequest withBytes(long b) {
        return new AdmissionRequest(service, OptionalLong.of(b), holder, pids, maxWait);
    }

    public AdmissionRequest withHolder(String h) {
        return new AdmissionRequest(service, bytes, Optional.of(h), pids, maxWait);
    }

    public AdmissionRequest withPids(List<Long> p) {
        return new AdmissionRequest(service, bytes, holder, p, maxWait);
    }

    public AdmissionRequest withWait(Duration w) {
        return new AdmissionRequest(service, bytes, holder, pids, w);
    }
}
