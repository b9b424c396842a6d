package org.gpuagent.agent.notify;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The agent's own JSON, the shape webhooks had before formats existed: {@code event}, {@code at},
 * {@code message} and the event's fields ({@code service}, {@code lease}, ...), unchanged for the
 * receivers written against it; {@code severity} and {@code title} are added at the end.
 */
final class JsonPayload implements Payload {
    @Override
    public Request render(URI url, Notification n, String instance, Duration resolveAfter) throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("event", n.event().label());
        m.put("at", n.at().toString());
        m.put("message", n.message());
        m.putAll(n.details());
        m.put("severity", n.severity().label());
        m.put("title", n.title());
        return new Request(url, "application/json", JSON.std.asString(m));
    }
}
