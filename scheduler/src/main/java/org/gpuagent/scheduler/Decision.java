package org.gpuagent.scheduler;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * What the ledger answered to an {@link AdmissionRequest}. Rejection is a value, not an
 * exception. Every decision carries a sentence a person understands, e.g.
 * "ollama needs 2.5 GiB, 1.1 GiB is free; only lower-priority leases may be preempted and there
 * are none; waiting until 12:00:30".
 *
 * <p>{@link Queued} is provisional: the same request later ends in exactly one {@link Final}
 * decision. The others are final.
 */
public sealed interface Decision {

    /** The controller-assigned id of the request, as in {@link Admission#requestId()}. */
    long requestId();

    String service();

    String sentence();

    /** Admitted, admitted after preemption, or denied: the request's last word. */
    sealed interface Final extends Decision permits Admitted, AdmittedAfterPreemption, Denied {
        /** True for both admitted kinds. */
        default boolean admitted() {
            return !(this instanceof Denied);
        }
    }

    /**
     * Granted without evicting anyone. Acknowledged only once the lease is durable in the journal.
     *
     * @param waited time spent in the queue; zero when admitted on arrival
     */
    record Admitted(long requestId, Lease lease, Duration waited, String sentence) implements Final {
        public Admitted {
            Objects.requireNonNull(lease, "lease");
            Objects.requireNonNull(waited, "waited");
            Objects.requireNonNull(sentence, "sentence");
        }

        @Override
        public String service() {
            return lease.service();
        }
    }

    /**
     * Granted after the victims' memory came back. The victims are shown as they were when chosen
     * (state EVICTING); by now they are released.
     */
    record AdmittedAfterPreemption(long requestId, Lease lease, List<Lease> victims, Duration waited, String sentence)
            implements Final {
        public AdmittedAfterPreemption {
            Objects.requireNonNull(lease, "lease");
            Objects.requireNonNull(waited, "waited");
            Objects.requireNonNull(sentence, "sentence");
            victims = List.copyOf(victims);
            if (victims.isEmpty()) {
                throw new IllegalArgumentException("admitted after preemption without victims");
            }
        }

        @Override
        public String service() {
            return lease.service();
        }
    }

    /**
     * Waiting. Either in the queue behind more important or earlier requests, or for memory that
     * evicted leases are giving back ({@code awaitedEvictions}: the leases it preempted or whose
     * memory it counts on).
     *
     * @param position 1-based place in the queue order (priority, then arrival)
     * @param deadline when it is denied if still waiting
     */
    record Queued(long requestId, String service, long bytes, int position, Instant deadline,
            List<Lease> awaitedEvictions, String sentence) implements Decision {
        public Queued {
            Objects.requireNonNull(service, "service");
            Objects.requireNonNull(deadline, "deadline");
            Objects.requireNonNull(sentence, "sentence");
            awaitedEvictions = List.copyOf(awaitedEvictions);
            if (position < 1) {
                throw new IllegalArgumentException("queue positions start at 1, got " + position);
            }
        }
    }

    /**
     * Refused.
     *
     * @param shortfallBytes how much more would have had to be free (x − free, at least 0; 0 when
     *                       memory was free but earlier requests were waiting, or the request was
     *                       malformed, cancelled or refused at shutdown)
     * @param inTheWay       the largest counted leases this request could not preempt (at most
     *                       16, largest first; the view lists every lease)
     */
    record Denied(long requestId, String service, long bytes, Reason reason, long shortfallBytes,
            List<Lease> inTheWay, String sentence) implements Final {
        public Denied {
            Objects.requireNonNull(service, "service");
            Objects.requireNonNull(reason, "reason");
            Objects.requireNonNull(sentence, "sentence");
            inTheWay = List.copyOf(inTheWay);
            if (shortfallBytes < 0) {
                throw new IllegalArgumentException("negative shortfall " + shortfallBytes);
            }
        }
    }

    /** Why a request was denied; stable names, suitable as metric labels ({@link #label()}). */
    enum Reason {
        /** It does not fit, preemption cannot help, and it asked not to wait. */
        INSUFFICIENT_VRAM,
        /** Requests of equal or higher priority are waiting ahead of it, and it asked not to wait. */
        WAITING_AHEAD,
        /** It waited in the queue until its deadline. */
        DEADLINE_PASSED,
        /** It preempted leases whose memory did not come back by its deadline. */
        EVICTION_TOO_SLOW,
        /** It asks for more than the whole budget; it can never fit. */
        EXCEEDS_BUDGET,
        /** No such service is configured. */
        UNKNOWN_SERVICE,
        /** The caller withdrew it while it waited. */
        CANCELLED,
        /** The controller closed while it waited (or before it arrived). */
        SHUTDOWN,
        /**
         * The ledger journal cannot be written (a full or failing disk), so nothing can be admitted
         * durably; it recovers by itself when writing works again.
         */
        JOURNAL_UNAVAILABLE,
        /** A resize named a lease that is not counted (unknown, or already released). */
        LEASE_NOT_FOUND,
        /** A resize would grow a lease that is being evicted (it may shrink). */
        LEASE_EVICTING;

        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }
}
