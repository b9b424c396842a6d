package org.gpuagent.scheduler;

import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * What the GPU showed at one sample, already attributed by the agent (pid → cgroup → holder →
 * service). The ledger replaces its previous observation with each new one.
 *
 * <p>Contract for the producer:
 * <ul>
 *   <li>{@code bytesByService} holds all use attributed to each service, including its holders';
 *   {@code bytesByHolder} breaks it down by holder (a holder absent from it uses nothing).</li>
 *   <li>{@code unattributedBytes} is use no service accounts for: unmanaged processes, and used
 *   memory not explained by any process when the producer can tell.</li>
 *   <li>{@code liveness}, when present, lists <em>every</em> live holder (a unit that is active or
 *   activating, an existing container) and live pid; a lease whose holder and pids are all absent
 *   from it counts as gone. When absent, nothing is reclaimed.</li>
 *   <li>{@code takenAt} comes from the same clock as the controller's; an eviction completes only
 *   on an observation taken at or after it began.</li>
 * </ul>
 */
public record Observation(
        Instant takenAt,
        long deviceTotalBytes,
        long deviceUsedBytes,
        Map<String, Long> bytesByHolder,
        Map<String, Long> bytesByService,
        long unattributedBytes,
        Optional<Liveness> liveness) {

    public Observation {
        Objects.requireNonNull(takenAt, "takenAt");
        Objects.requireNonNull(liveness, "liveness");
        bytesByHolder = Map.copyOf(bytesByHolder);
        bytesByService = Map.copyOf(bytesByService);
        if (deviceTotalBytes <= 0 || deviceUsedBytes < 0 || unattributedBytes < 0) {
            throw new IllegalArgumentException("implausible observation: total=" + deviceTotalBytes
                    + " used=" + deviceUsedBytes + " unattributed=" + unattributedBytes);
        }
        bytesByHolder.forEach((k, v) -> requireNonNegative("holder " + k, v));
        bytesByService.forEach((k, v) -> requireNonNegative("service " + k, v));
    }

    private static void requireNonNegative(String what, long v) {
        if (v < 0) {
            throw new IllegalArgumentException("negative observed use for " + what + ": " + v);
        }
    }

    /** Which holders and pids exist right now. */
    public record Liveness(Set<String> holders, Set<Long> pids) {
        public Liveness {
            holders = Set.copyOf(holders);
            pids = Set.copyOf(pids);
        }
    }

    public long holderBytes(String holder) {
        return bytesByHolder.getOrDefault(holder, 0L);
    }

    public long serviceBytes(String service) {
        return bytesByService.getOrDefault(service, 0L);
    }

    public static Builder builder(Instant takenAt, long deviceTotalBytes) {
        return new Builder(takenAt, deviceTotalBytes);
    }

    /**
     * Collects an observation; {@link #holder} also adds the bytes to the holder's service.
     * Liveness stays unknown (nothing is reclaimed) until {@link #alive}, {@link #alivePid} or
     * {@link #livenessKnown} is called.
     */
    public static final class Builder {
        private final Instant takenAt;
        private final long total;
        private long used = -1;
        private final Map<String, Long> byHolder = new HashMap<>();
        private final Map<String, Long> byService = new HashMap<>();
        private long unattributed;
        private Set<String> liveHolders;
        private Set<Long> livePids;

        private Builder(Instant takenAt, long total) {
            this.takenAt = takenAt;
            this.total = total;
        }

        /** A holder of {@code service} using {@code bytes}. */
        public Builder holder(String service, String holder, long bytes) {
            byHolder.merge(holder, bytes, Long::sum);
            byService.merge(service, bytes, Long::sum);
            return this;
        }

        /** Use attributed to {@code service} but to no holder. */
        public Builder service(String service, long bytes) {
            byService.merge(service, bytes, Long::sum);
            return this;
        }

        public Builder unattributed(long bytes) {
            unattributed += bytes;
            return this;
        }

        public Builder used(long bytes) {
            used = bytes;
            return this;
        }

        /** Declares liveness known and {@code holder} alive. */
        public Builder alive(String holder) {
            livenessKnown();
            liveHolders.add(holder);
            return this;
        }

        public Builder alivePid(long pid) {
            livenessKnown();
            livePids.add(pid);
            return this;
        }

        /** Declares liveness known: whatever is not marked alive is gone. */
        public Builder livenessKnown() {
            if (liveHolders == null) {
                liveHolders = new HashSet<>();
                livePids = new HashSet<>();
            }
            return this;
        }

        public Observation build() {
            long sum = unattributed + byService.values().stream().mapToLong(Long::longValue).sum();
            return new Observation(takenAt, total, used >= 0 ? used : sum, byHolder, byService, unattributed,
                    liveHolders == null ? Optional.empty() : Optional.of(new Liveness(liveHolders, livePids)));
        }
    }
}
