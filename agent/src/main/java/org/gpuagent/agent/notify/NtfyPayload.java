package org.gpuagent.agent.notify;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * ntfy's JSON publishing: the configured URL is the topic's ({@code https://ntfy.example/gpu}, what
 * a subscriber uses); the message goes to the server's root with the topic in the body, which
 * keeps a title like "41 °C" intact (ntfy's header form would need it encoded). Priority: critical
 * 5 (max), warning 4 (high), info 3 (default); tags: an emoji for the severity and the event name.
 */
final class NtfyPayload implements Payload {
    @Override
    public Request render(URI url, Notification n, String instance, Duration resolveAfter) throws IOException {
        String path = url.getRawPath();
        int slash = path.lastIndexOf('/');
        String topic = path.substring(slash + 1);
        URI root = URI.create(url.getScheme() + "://" + url.getRawAuthority() + path.substring(0, slash + 1));
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("topic", topic);
        m.put("title", Payload.titleOn(n, instance));
        m.put("message", n.message());
        m.put("priority", switch (n.severity()) {
            case CRITICAL -> 5;
            case WARNING -> 4;
            case INFO -> 3;
        });
        m.put("tags", List.of(switch (n.severity()) {
            case CRITICAL -> "rotating_light";
            case WARNING -> "warning";
            case INFO -> "information_source";
        }, n.event().label()));
        return new Request(root, "application/json", JSON.std.asString(m));
    }
}
