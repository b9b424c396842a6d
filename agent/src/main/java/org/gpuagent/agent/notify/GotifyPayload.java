package org.gpuagent.agent.notify;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Gotify's {@code POST /message} (appended to a URL without a path) with {@code title},
 * {@code message} and {@code priority}; the application token travels in the {@code X-Gotify-Key}
 * header, from a file. Priority, on Gotify's Android scale: critical 8 (high), warning 5, info 2
 * (low).
 */
final class GotifyPayload implements Payload {
    static final String PATH = "/message";
    static final String TOKEN_HEADER = "X-Gotify-Key";

    @Override
    public Request render(URI url, Notification n, String instance, Duration resolveAfter) throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("title", Payload.titleOn(n, instance));
        m.put("message", n.message());
        m.put("priority", switch (n.severity()) {
            case CRITICAL -> 8;
            case WARNING -> 5;
            case INFO -> 2;
        });
        return new Request(Payload.withDefaultPath(url, PATH), "application/json", JSON.std.asString(m));
    }
}
