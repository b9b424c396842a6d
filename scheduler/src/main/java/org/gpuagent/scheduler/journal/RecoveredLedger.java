package org.gpuagent.scheduler.journal;

import java.util.List;
import org.gpuagent.scheduler.Lease;

/**
 * What a journal held at start.
 *
 * @param nextLeaseId the next lease id to hand out (1 for a new journal)
 * @param leases      counted leases, in id order
 * @param warnings    what recovery tolerated (a torn last record, a release of an unknown lease)
 */
public record RecoveredLedger(long nextLeaseId, List<Lease> leases, List<String> warnings) {
    public RecoveredLedger {
        leases = List.copyOf(leases);
        warnings = List.copyOf(warnings);
        if (nextLeaseId < 1) {
            throw new IllegalArgumentException("nextLeaseId must be at least 1, got " + nextLeaseId);
        }
    }

    public static RecoveredLedger empty() {
        return new RecoveredLedger(1, List.of(), List.of());
    }
}
