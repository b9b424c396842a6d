package org.gpuagent.agent.notify;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A Discord webhook execution: {@code content} (the headline, so it shows in the notification) and
 * one embed with the sentence, a colour per severity, the time and the host. Discord's limits are
 * kept: 2000 characters of content, 256 of embed title, 4096 of embed description.
 */
final class DiscordPayload implements Payload {
    static final int RED = 0xE5484D;
    static final int ORANGE = 0xF5A524;
    static final int BLUE = 0x3E7BFA;

    @Override
    public Request render(URI url, Notification n, String instance, Duration resolveAfter) throws IOException {
        Map<String, Object> embed = new LinkedHashMap<>();
        embed.put("title", cut(n.title(), 256));
        embed.put("description", cut(n.message(), 4096));
        embed.put("color", switch (n.severity()) {
            case CRITICAL -> RED;
            case WARNING -> ORANGE;
            case INFO -> BLUE;
        });
        embed.put("timestamp", n.at().toString());
        List<Map<String, Object>> fields = new ArrayList<>();
        fields.add(field("severity", n.severity().label()));
        fields.add(field("host", instance));
        n.service().ifPresent(s -> fields.add(field("service", s)));
        embed.put("fields", fields);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("username", "gpu-agent");
        m.put("content", cut("[" + n.severity().label() + "] " + Payload.titleOn(n, instance), 2000));
        m.put("embeds", List.of(embed));
        return new Request(url, "application/json", JSON.std.asString(m));
    }

    private static Map<String, Object> field(String name, String value) {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("name", name);
        f.put("value", cut(value, 1024));
        f.put("inline", true);
        return f;
    }

    private static String cut(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max - 1) + "…";
    }
}
