package org.gpuagent.agent.notify;

import java.util.Locale;
import java.util.Optional;

/**
 * How urgent an event is, in the words alert routing uses (an Alertmanager {@code severity}
 * label, the homelab's routes): critical pages, warning needs a look today, info is for the record.
 */
public enum Severity {
    INFO, WARNING, CRITICAL;

    /** {@code info}, {@code warning}, {@code critical}. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    public boolean atLeast(Severity threshold) {
        return compareTo(threshold) >= 0;
    }

    public static Optional<Severity> parse(String text) {
        for (Severity s : values()) {
            if (s.label().equals(text.strip().toLowerCase(Locale.ROOT))) {
                return Optional.of(s);
            }
        }
        return Optional.empty();
    }
}
