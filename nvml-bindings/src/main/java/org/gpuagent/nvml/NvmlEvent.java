package org.gpuagent.nvml;

/**
 * An event from an {@link NvmlEventSet}: {@code type} is one {@link NvmlEventType} bit and
 * {@code data} its payload (the Xid number for {@link NvmlEventType#XID_CRITICAL_ERROR}).
 */
public record NvmlEvent(int deviceIndex, long type, long data) {
    public boolean isXid() {
        return type == NvmlEventType.XID_CRITICAL_ERROR;
    }
}
