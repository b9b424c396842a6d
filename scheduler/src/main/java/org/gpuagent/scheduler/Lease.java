package org.gpuagent.scheduler;

import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A grant of VRAM to one service, counted against the budget while ACTIVE or EVICTING.
 * Immutable; the ledger replaces it when its state changes.
 *
 * @param holder        who runs on it, e.g. {@code systemd:ollama.service} or {@code oci:<id>};
 *                      observed use and liveness are matched by holder, and release by holder
 *                      releases every lease it has
 * @param pids          processes known to run on it (optional); any of them alive keeps it alive
 * @param evictingSince when it turned EVICTING; present exactly in that state
 */
public record Lease(
        LeaseId id,
        String service,
        long bytes,
        Optional<String> holder,
        List<Long> pids,
        Instant grantedAt,
        LeaseState state,
        Optional<Instant> evictingSince) {

    public Lease {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(service, "service");
        Objects.requireNonNull(holder, "holder");
        Objects.requireNonNull(grantedAt, "grantedAt");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(evictingSince, "evictingSince");
        pids = List.copyOf(pids);
        if (bytes <= 0) {
            throw new IllegalArgumentException("lease " + id + ": bytes must be positive, got " + bytes);
        }
        if ((state == LeaseState.EVICTING) != evictingSince.isPresent() && state != LeaseState.RELEASED) {
            throw new IllegalArgumentException("lease " + id + ": evictingSince is present exactly when EVICTING");
        }
    }

    /** A new ACTIVE lease. */
    public static Lease active(LeaseId id, String service, long bytes, Optional<String> holder, List<Long> pids,
            Instant grantedAt) {
        return new Lease(id, service, bytes, holder, pids, grantedAt, LeaseState.ACTIVE, Optional.empty());
    }

    public boolean counted() {
        return state != LeaseState.RELEASED;
    }

    Lease evicting(Instant since) {
        return new Lease(id, service, bytes, holder, pids, grantedAt, LeaseState.EVICTING, Optional.of(since));
    }

    Lease withBytes(long newBytes) {
        return new Lease(id, service, newBytes, holder, pids, grantedAt, state, evictingSince);
    }

    Lease released() {
        return new Lease(id, service, bytes, holder, pids, grantedAt, LeaseState.RELEASED, evictingSince);
    }

    /** "ollama lease 7 (2.5 GiB)", as used in sentences. */
    public String describe() {
        return service + " lease " + id + " (" + ByteSize.format(bytes) + ")";
    }
}
