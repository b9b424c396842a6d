package org.gpuagent.exporter;

/** What a workload is, as the agent attributed its processes; {@link #label()} is the {@code kind} label value. */
public enum WorkloadKind {
    /** A configured service (Frigate, Jellyfin, ...), matched by its rules. */
    SERVICE("service"),
    /** A systemd unit that no configured service matches. */
    UNIT("unit"),
    /** A Podman container that no configured service matches. */
    CONTAINER("container");

    private final String label;

    WorkloadKind(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }
}
