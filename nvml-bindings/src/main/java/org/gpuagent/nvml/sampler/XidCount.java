package org.gpuagent.nvml.sampler;

import java.time.Instant;
import java.util.Objects;

/**
 * Xid {@code xid} seen {@code count} times on the GPU {@code uuid} since the sampler started (survives
 * re-initialisation); {@code lastObservedAt} is when the sampler drained the newest of them (its
 * clock, not the driver's: NVML's event carries no time).
 */
public record XidCount(int deviceIndex, String uuid, long xid, long count, Instant lastObservedAt) {
    public XidCount {
        Objects.requireNonNull(uuid, "uuid");
        Objects.requireNonNull(lastObservedAt, "lastObservedAt");
    }
}
