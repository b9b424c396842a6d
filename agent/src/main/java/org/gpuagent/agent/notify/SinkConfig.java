package org.gpuagent.agent.notify;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One notification sink as configured ({@code notifications.webhooks[i]}). Built by the
 * configuration loader, which validates it; this record only holds it.
 *
 * @param url          where to post (see {@link SinkFormat} for what each format appends), or empty
 *                     when {@code urlFile} holds it
 * @param urlFile      a file holding the URL, for receivers whose URL is the secret (Discord)
 * @param events       the events this sink gets
 * @param minSeverity  events below it are not sent
 * @param timeout      per request
 * @param headers      extra request headers, in configuration order
 * @param resolveAfter Alertmanager: how long after an event its alert ends ({@code endsAt})
 */
public record SinkConfig(Optional<URI> url, Optional<Path> urlFile, SinkFormat format, List<String> events,
                         Severity minSeverity, Duration timeout, Map<String, HeaderValue> headers,
                         Duration resolveAfter) {
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);
    public static final Duration DEFAULT_RESOLVE_AFTER = Duration.ofHours(1);

    public SinkConfig {
        Objects.requireNonNull(url, "url");
        Objects.requireNonNull(urlFile, "urlFile");
        if (url.isPresent() == urlFile.isPresent()) {
            throw new IllegalArgumentException("exactly one of url and urlFile");
        }
        Objects.requireNonNull(format, "format");
        events = List.copyOf(events);
        Objects.requireNonNull(minSeverity, "minSeverity");
        Objects.requireNonNull(timeout, "timeout");
        headers = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(headers));
        Objects.requireNonNull(resolveAfter, "resolveAfter");
    }

    /** A {@code json} sink of every event, as a configuration from before formats reads. */
    public static SinkConfig json(URI url, List<String> events) {
        return new SinkConfig(Optional.of(url), Optional.empty(), SinkFormat.JSON, events, Severity.INFO,
                DEFAULT_TIMEOUT, Map.of(), DEFAULT_RESOLVE_AFTER);
    }

    public boolean wants(Notification n) {
        return events.contains(n.event().label()) && n.routingSeverity().atLeast(minSeverity);
    }

    /** How logs name this sink: its format and host, never the path or query (a URL may carry a token). */
    public String describe() {
        return format.label() + " sink " + url.map(URI::getHost).orElseGet(() -> "(url from " + urlFile.get() + ")");
    }
}
