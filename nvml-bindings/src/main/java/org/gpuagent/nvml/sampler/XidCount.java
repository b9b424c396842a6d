package org.gpuagent.nvml.sampler;

import java.util.Objects;

/** Xid {@code xid} seen {@code count} times on the GPU {@code uuid} since the sampler started (survives re-initialisation). */
public record XidCount(int deviceIndex, String uuid, long xid, long count) {
    public XidCount {
        Objects.requireNonNull(uuid, "uuid");
    }
}
