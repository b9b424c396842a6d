package org.gpuagent.agent.notify;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/** What a sink's receiver understands; {@link #label()} is the configuration's {@code format}. */
public enum SinkFormat {
    /** The agent's own JSON ({@code {"event", "at", "message", ...}}), as before there were formats. */
    JSON,
    /** Alertmanager's API v2: {@code POST /api/v2/alerts} with a list of postable alerts. */
    ALERTMANAGER,
    /** ntfy's JSON publishing: {@code POST} to the server's root with the topic in the body. */
    NTFY,
    /** Gotify's {@code POST /message} with title, message and priority; the app token in {@code X-Gotify-Key}. */
    GOTIFY,
    /** A Discord webhook: {@code content} and one embed. */
    DISCORD;

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Optional<SinkFormat> parse(String text) {
        return Arrays.stream(values()).filter(f -> f.label().equals(text.strip().toLowerCase(Locale.ROOT)))
                .findFirst();
    }
}
