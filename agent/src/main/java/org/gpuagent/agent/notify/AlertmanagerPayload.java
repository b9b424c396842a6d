package org.gpuagent.agent.notify;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Alertmanager's API v2 ({@code POST /api/v2/alerts}, body: a list of {@code postableAlert}s):
 * one alert per event with the labels the homelab's routes key on, {@code alertname},
 * {@code severity}, {@code service} (the service concerned, {@code gpu-agent} for the GPU's own
 * events) and {@code instance}, plus the event's identifying details ({@code gpu}, {@code uuid},
 * {@code xid}); annotations {@code summary} (the title) and {@code description} (the sentence).
 * {@code startsAt} is the event's time and {@code endsAt} that plus {@code resolve-after}: an event
 * has no end of its own, and without {@code endsAt} Alertmanager would keep it for its
 * {@code resolve_timeout}. An event that ends another ({@code gpu-recovered}) is sent as the
 * other's alert, same labels, with {@code endsAt} now: Alertmanager resolves it.
 */
final class AlertmanagerPayload implements Payload {
    static final String PATH = "/api/v2/alerts";
    /** The {@code service} label of events about the GPU itself rather than a service. */
    static final String OWN_SERVICE = "gpu-agent";

    @Override
    public Request render(URI url, Notification n, String instance, Duration resolveAfter) throws IOException {
        NotificationEvent alertOf = n.event().resolves().orElse(n.event());
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put("alertname", alertOf.alertName());
        labels.put("severity", n.event().resolves().isPresent() ? alertOf.severity().label() : n.severity().label());
        labels.put("service", n.service().orElse(OWN_SERVICE));
        labels.put("instance", instance);
        labels.putAll(n.labels());
        Map<String, String> annotations = new LinkedHashMap<>();
        annotations.put("summary", n.title());
        annotations.put("description", n.message());
        Map<String, Object> alert = new LinkedHashMap<>();
        alert.put("labels", labels);
        alert.put("annotations", annotations);
        Instant ends = n.event().resolves().isPresent() ? n.at() : n.at().plus(resolveAfter);
        if (n.event().resolves().isEmpty()) {
            alert.put("startsAt", n.at().toString());
        }
        alert.put("endsAt", ends.toString());
        return new Request(Payload.withDefaultPath(url, PATH), "application/json", JSON.std.asString(List.of(alert)));
    }
}
