package org.gpuagent.scheduler.journal;

import java.time.Instant;
import java.util.List;
import java.util.Objects;
import org.gpuagent.scheduler.Lease;
import org.gpuagent.scheduler.LeaseId;
import org.gpuagent.scheduler.LeaseState;

/** One entry of the ledger journal. Replaying them in order rebuilds the counted leases. */
public sealed interface JournalRecord {

    /**
     * The whole ledger at one point: written first in a compacted file, never elsewhere.
     *
     * @param nextLeaseId the next id to hand out, so ids are never reused
     * @param leases      the counted leases (ACTIVE or EVICTING)
     */
    record Snapshot(long nextLeaseId, List<Lease> leases) implements JournalRecord {
        public Snapshot {
            leases = List.copyOf(leases);
            for (Lease l : leases) {
                if (l.state() == LeaseState.RELEASED) {
                    throw new IllegalArgumentException("a snapshot holds only counted leases, not " + l.id());
                }
                if (l.id().value() >= nextLeaseId) {
                    throw new IllegalArgumentException("lease " + l.id() + " is not below nextLeaseId " + nextLeaseId);
                }
            }
        }
    }

    /** A lease was granted (ACTIVE). */
    record Granted(Lease lease) implements JournalRecord {
        public Granted {
            Objects.requireNonNull(lease, "lease");
            if (lease.state() != LeaseState.ACTIVE) {
                throw new IllegalArgumentException("a granted lease is ACTIVE, not " + lease.state());
            }
        }
    }

    /** A lease turned EVICTING. */
    record Evicting(LeaseId id, Instant at) implements JournalRecord {
        public Evicting {
            Objects.requireNonNull(id, "id");
            Objects.requireNonNull(at, "at");
        }
    }

    /**
     * A lease's size changed (a resize, or the rollback of a growth the journal could not store);
     * it keeps its id, holder, grant time and state. Written from the second wave of issues on;
     * journals without it read as before.
     */
    record Resized(LeaseId id, long bytes, Instant at) implements JournalRecord {
        public Resized {
            Objects.requireNonNull(id, "id");
            Objects.requireNonNull(at, "at");
            if (bytes <= 0) {
                throw new IllegalArgumentException("lease " + id + ": a resize to " + bytes + " bytes");
            }
        }
    }

    /** A lease stopped being counted. */
    record Released(LeaseId id, Instant at, Cause cause) implements JournalRecord {
        public Released {
            Objects.requireNonNull(id, "id");
            Objects.requireNonNull(at, "at");
            Objects.requireNonNull(cause, "cause");
        }
    }

    /** Why a lease stopped being counted; informational. */
    enum Cause {
        RELEASED, EVICTED, RECLAIMED, ROLLED_BACK
    }
}
