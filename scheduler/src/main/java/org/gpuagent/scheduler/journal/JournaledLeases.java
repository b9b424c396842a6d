package org.gpuagent.scheduler.journal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.gpuagent.scheduler.Lease;
import org.gpuagent.scheduler.LeaseId;
import org.gpuagent.scheduler.LeaseState;

/**
 * What a sequence of records adds up to: the counted leases and the next lease id. Replay builds
 * one from the file; the journal's sync thread keeps one up to date with every record it is handed,
 * so that after a failed write it can store everything at once as a fresh snapshot, without the
 * ledger's help. Not thread-safe.
 *
 * <p>Applying is lenient: the rules that make a file corrupt (a snapshot after the start, an id
 * granted twice) are {@link JournalReplay}'s, checked before a record from a file is applied.
 */
final class JournaledLeases {
    private final Map<LeaseId, Lease> leases = new LinkedHashMap<>();
    private long nextLeaseId;

    /** What a journal that starts with {@code snapshot} holds. */
    JournaledLeases(JournalRecord.Snapshot snapshot) {
        for (Lease l : snapshot.leases()) {
            leases.put(l.id(), l);
        }
        nextLeaseId = snapshot.nextLeaseId();
    }

    long nextLeaseId() {
        return nextLeaseId;
    }

    /**
     * Applies one record that follows the snapshot.
     *
     * @return why the record changed nothing (an eviction, resize or release of a lease that is
     *         not counted), or null when it applied
     * @throws IllegalArgumentException for a snapshot: only the first record is one
     */
    String apply(JournalRecord record) {
        if (record instanceof JournalRecord.Snapshot) {
            throw new IllegalArgumentException("a snapshot only starts a journal");
        } else if (record instanceof JournalRecord.Granted g) {
            leases.put(g.lease().id(), g.lease());
            nextLeaseId = Math.max(nextLeaseId, g.lease().id().value() + 1);
        } else if (record instanceof JournalRecord.Evicting e) {
            Lease l = leases.get(e.id());
            if (l == null || l.state() != LeaseState.ACTIVE) {
                return "marks lease " + e.id() + " evicting, but it is " + (l == null ? "not in the ledger" : l.state());
            }
            leases.put(e.id(), new Lease(l.id(), l.service(), l.bytes(), l.holder(), l.pids(), l.grantedAt(),
                    LeaseState.EVICTING, Optional.of(e.at())));
        } else if (record instanceof JournalRecord.Resized r) {
            Lease l = leases.get(r.id());
            if (l == null) {
                return "resizes lease " + r.id() + ", which is not in the ledger";
            }
            leases.put(r.id(), new Lease(l.id(), l.service(), r.bytes(), l.holder(), l.pids(), l.grantedAt(),
                    l.state(), l.evictingSince()));
        } else if (record instanceof JournalRecord.Released r) {
            if (leases.remove(r.id()) == null) {
                return "releases lease " + r.id() + ", which is not in the ledger";
            }
        }
        return null;
    }

    /** The counted leases in id order. */
    List<Lease> leases() {
        List<Lease> ordered = new ArrayList<>(leases.values());
        ordered.sort((a, b) -> a.id().compareTo(b.id()));
        return ordered;
    }

    /** Everything as one record, what a fresh journal starts with. */
    JournalRecord.Snapshot snapshot() {
        return new JournalRecord.Snapshot(nextLeaseId, leases());
    }
}
