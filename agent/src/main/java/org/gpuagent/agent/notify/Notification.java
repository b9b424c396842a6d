package org.gpuagent.agent.notify;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One event as every sink sees it.
 *
 * @param event    which event
 * @param severity its severity (see {@link NotificationEvent})
 * @param title    a short headline for a phone's notification ("ollama denied VRAM")
 * @param message  the full sentence, as the agent's log line says it
 * @param at       when it happened
 * @param service  the service it concerns; empty for the GPU's own events
 * @param labels   identifying details that become Alertmanager labels (gpu, uuid, xid); small, stable
 * @param details  the {@code json} sink's event fields beyond event/at/message (lease, bytes, ...)
 */
public record Notification(NotificationEvent event, Severity severity, String title, String message, Instant at,
                           Optional<String> service, Map<String, String> labels, Map<String, Object> details) {
    public Notification {
        Objects.requireNonNull(event, "event");
        Objects.requireNonNull(severity, "severity");
        Objects.requireNonNull(title, "title");
        Objects.requireNonNull(message, "message");
        Objects.requireNonNull(at, "at");
        Objects.requireNonNull(service, "service");
        labels = Map.copyOf(labels);
        // Insertion order is the JSON's field order; values may be null (JSON null), so no Map.copyOf.
        details = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(details));
    }

    /** The severity a sink's threshold is compared with: a resolution counts as much as what it resolves. */
    Severity routingSeverity() {
        return event.resolves().map(NotificationEvent::severity).orElse(severity);
    }
}
