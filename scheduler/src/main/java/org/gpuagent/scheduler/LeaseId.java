package org.gpuagent.scheduler;

/**
 * A lease's identity: a positive number, unique within one state directory (the journal keeps
 * the counter across restarts). Its printable form is the plain decimal number, which is what
 * the CLI prints and {@link #parse(String)} reads back.
 */
public record LeaseId(long value) implements Comparable<LeaseId> {
    public LeaseId {
        if (value <= 0) {
            throw new IllegalArgumentException("lease id must be positive, got " + value);
        }
    }

    /** Reads the printable form; a clear {@link IllegalArgumentException} for anything else. */
    public static LeaseId parse(String text) {
        String t = text == null ? "" : text.trim();
        try {
            return new LeaseId(Long.parseLong(t));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a lease id: '" + text + "' (expected a positive number)", e);
        }
    }

    @Override
    public int compareTo(LeaseId other) {
        return Long.compare(value, other.value);
    }

    @Override
    public String toString() {
        return Long.toString(value);
    }
}
