package org.gpuagent.nvml.sampler;

import java.util.List;

/**
 * What went wrong, as of one snapshot. The sampler hands on the same object while nothing changed,
 * so a quiet collect allocates none.
 *
 * @param errors      the calls that failed in the collect (or open attempt) that produced the snapshot
 * @param errorTotals failures per call and code since the sampler started
 * @param xidCounts   Xid errors per GPU and Xid number since the sampler started (they survive re-init)
 * @param recentXids  the last few Xid events, oldest first
 */
public record Faults(List<CallError> errors, List<CallErrorTotal> errorTotals, List<XidCount> xidCounts,
                     List<XidEvent> recentXids) {
    public static final Faults NONE = new Faults(List.of(), List.of(), List.of(), List.of());

    /** Copies each list unless it is already unmodifiable ({@code List.copyOf} hands those back as they are). */
    public Faults {
        errors = List.copyOf(errors);
        errorTotals = List.copyOf(errorTotals);
        xidCounts = List.copyOf(xidCounts);
        recentXids = List.copyOf(recentXids);
    }
}
