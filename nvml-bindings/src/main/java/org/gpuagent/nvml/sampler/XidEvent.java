package org.gpuagent.nvml.sampler;

import java.time.Instant;
import java.util.Objects;

/** One Xid error as the sampler drained it from the event set; {@code observedAt} is the sampler's clock, not the driver's. */
public record XidEvent(int deviceIndex, String uuid, long xid, Instant observedAt) {
    public XidEvent {
        Objects.requireNonNull(uuid, "uuid");
        Objects.requireNonNull(observedAt, "observedAt");
    }
}
