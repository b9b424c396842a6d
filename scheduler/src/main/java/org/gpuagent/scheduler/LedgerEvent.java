package org.gpuagent.scheduler;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Something the ledger did, for metrics and notifications. Delivered to {@link LedgerListener}s in
 * the order the ledger changed, on its writer, and before the request's future completes. Every
 * event has the time it happened (controller clock) and a sentence.
 *
 * <p>Suggested metrics: {@code nvgpu_admissions_total{service,outcome}} from {@link Admitted}
 * (outcome {@code admitted} or {@code preempted}) and {@link Denied} (outcome = reason label);
 * {@code nvgpu_preemptions_total{service}} from {@link Preempted} (the victim's service);
 * {@code nvgpu_admission_duration_seconds} from {@code waited}.
 */
public sealed interface LedgerEvent {

    Instant at();

    String sentence();

    /** A lease was granted; {@code victims} is empty unless it preempted. Not yet durable. */
    record Admitted(Instant at, long requestId, Lease lease, List<Lease> victims, Duration waited, String sentence)
            implements LedgerEvent {
        public Admitted {
            Objects.requireNonNull(lease, "lease");
            victims = List.copyOf(victims);
        }
    }

    /** A request started waiting. */
    record Queued(Instant at, long requestId, String service, long bytes, int position, Instant deadline,
            String sentence) implements LedgerEvent {
    }

    /** A request was refused (on arrival, at its deadline, cancelled or at shutdown). */
    record Denied(Instant at, long requestId, String service, long bytes, Decision.Reason reason,
            long shortfallBytes, Duration waited, String sentence) implements LedgerEvent {
    }

    /** {@code victim} (now EVICTING) was chosen to make room for {@code forService}'s request. */
    record Preempted(Instant at, Lease victim, String forService, long requestId, String sentence)
            implements LedgerEvent {
    }

    /**
     * A lease changed size (shrunk, or grown once the difference was admitted; {@code victims} is
     * empty unless the growth preempted). It keeps its id, holder and grant time. Not yet durable.
     */
    record Resized(Instant at, long requestId, long fromBytes, Lease lease, List<Lease> victims, Duration waited,
            String sentence) implements LedgerEvent {
        public Resized {
            Objects.requireNonNull(lease, "lease");
            victims = List.copyOf(victims);
        }
    }

    /** An EVICTING lease's memory came back; it is released. */
    record Evicted(Instant at, Lease lease, String sentence) implements LedgerEvent {
    }

    /** A lease was released on request (by id or holder). */
    record Released(Instant at, Lease lease, String sentence) implements LedgerEvent {
    }

    /** A lease whose holder was gone for the grace period was released by reconciliation. */
    record Reclaimed(Instant at, Lease lease, Instant goneSince, String sentence) implements LedgerEvent {
    }

    /**
     * A lease was withdrawn because the journal could not make it durable; its request failed.
     */
    record RolledBack(Instant at, Lease lease, String sentence) implements LedgerEvent {
    }

    /**
     * A service uses more than it leased, beyond its tolerance. Raised when it starts; not
     * repeated until use has dropped back within the tolerance. {@code holder} is empty for use
     * matched to the service's holderless leases (or to no lease at all).
     */
    record OverUse(Instant at, String service, Optional<String> holder, long leasedBytes, long observedBytes,
            long toleranceBytes, String sentence) implements LedgerEvent {
    }

    /** An observation showed use that no service accounts for; raised when the amount changes. */
    record UnattributedUse(Instant at, long bytes, String sentence) implements LedgerEvent {
    }
}
