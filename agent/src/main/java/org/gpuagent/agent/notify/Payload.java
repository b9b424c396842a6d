package org.gpuagent.agent.notify;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;

/**
 * Turns a notification into the request one kind of receiver understands. Implementations are
 * pure: the same inputs give the same request.
 */
interface Payload {

    /** What to post: the target, the body's media type and the body. */
    record Request(URI target, String contentType, String body) {
    }

    /**
     * @param url          the sink's configured URL
     * @param instance     the host as alerts name it ({@code notifications.instance})
     * @param resolveAfter how long an event's alert lasts, for receivers that resolve alerts
     */
    Request render(URI url, Notification n, String instance, Duration resolveAfter) throws IOException;

    static Payload of(SinkFormat format) {
        return switch (format) {
            case JSON -> new JsonPayload();
            case ALERTMANAGER -> new AlertmanagerPayload();
            case NTFY -> new NtfyPayload();
            case GOTIFY -> new GotifyPayload();
            case DISCORD -> new DiscordPayload();
        };
    }

    /** {@code url} with {@code path} when it has none (a bare {@code http://host:port} or {@code .../}). */
    static URI withDefaultPath(URI url, String path) {
        String p = url.getRawPath();
        if (p != null && !p.isEmpty() && !p.equals("/")) {
            return url;
        }
        return URI.create(url.getScheme() + "://" + url.getRawAuthority() + path
                + (url.getRawQuery() == null ? "" : "?" + url.getRawQuery()));
    }

    /** "ollama denied VRAM on hwc-server:9848": a headline that says which host, for receivers that do not. */
    static String titleOn(Notification n, String instance) {
        return n.title() + " on " + instance;
    }
}
