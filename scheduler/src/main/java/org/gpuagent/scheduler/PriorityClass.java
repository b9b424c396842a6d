package org.gpuagent.scheduler;

import java.util.Locale;

/**
 * How much a service matters when VRAM is short, most important first. A request may preempt
 * only leases of a strictly lower class, and only when their service is preemptible.
 */
public enum PriorityClass {
    /** Must never be starved or evicted (Frigate). Never preemptible. */
    CRITICAL,
    /** A person is waiting on it (Jellyfin transcodes). */
    INTERACTIVE,
    /** Deferrable work (Immich machine learning). */
    BATCH,
    /** Runs when the card is otherwise idle (Ollama model loads). */
    OPPORTUNISTIC;

    /** True when this class may preempt leases of {@code other}: strictly more important. */
    public boolean outranks(PriorityClass other) {
        return ordinal() < other.ordinal();
    }

    /** The lower-case name used in configuration, sentences and metric labels. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Parses a configuration name such as {@code "critical"}, case-insensitively, surrounding
     * blanks ignored.
     */
    public static PriorityClass parse(String text) {
        for (PriorityClass c : values()) {
            if (c.name().equalsIgnoreCase(text.strip())) {
                return c;
            }
        }
        throw new IllegalArgumentException("unknown priority class '" + text + "' (expected " + choices() + ")");
    }

    /** "critical, interactive, batch or opportunistic": the labels, most important first. */
    public static String choices() {
        PriorityClass[] all = values();
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < all.length; i++) {
            b.append(i == 0 ? "" : i == all.length - 1 ? " or " : ", ").append(all[i].label());
        }
        return b.toString();
    }
}
