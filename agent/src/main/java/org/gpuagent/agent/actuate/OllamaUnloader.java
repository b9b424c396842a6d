package org.gpuagent.agent.actuate;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.gpuagent.scheduler.Evictor;

/**
 * Asks Ollama to unload every loaded model: {@code GET /api/ps} lists them, then
 * {@code POST /api/generate {"model": M, "keep_alive": 0}} for each, which unloads M at once and
 * frees its VRAM (Ollama's documented way; the server itself keeps running).
 */
public final class OllamaUnloader implements Actuator {
    private final URI base;
    private final Supplier<HttpClient> client;

    /** @param base Ollama's URL, e.g. {@code http://127.0.0.1:11434} */
    public OllamaUnloader(URI base, Supplier<HttpClient> client) {
        String s = base.toString();
        this.base = URI.create(s.endsWith("/") ? s : s + "/");
        this.client = client;
    }

    @Override
    public String describe() {
        return "ollama-unload via " + base;
    }

    @Override
    public String act(Evictor.Order order, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        HttpClient http = client.get();
        HttpResponse<String> ps = http.send(HttpRequest.newBuilder(base.resolve("api/ps")).GET()
                .timeout(remaining(deadline)).build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        if (ps.statusCode() != 200) {
            throw new IOException("GET " + base.resolve("api/ps") + " answered " + ps.statusCode());
        }
        List<String> models = loadedModels(ps.body());
        if (models.isEmpty()) {
            return "no model was loaded";
        }
        List<String> failed = new ArrayList<>();
        for (String m : models) {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("model", m);
            body.put("keep_alive", 0);
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(base.resolve("api/generate"))
                    .timeout(remaining(deadline)).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(JSON.std.asString(body))).build(),
                    HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            if (r.statusCode() != 200) {
                failed.add(m + " (" + r.statusCode() + ")");
            }
        }
        if (!failed.isEmpty()) {
            throw new IOException("Ollama did not unload " + String.join(", ", failed));
        }
        return "unloaded " + String.join(", ", models);
    }

    /** The model names in an {@code /api/ps} answer: {@code {"models":[{"name":..,"model":..},..]}}. */
    static List<String> loadedModels(String psJson) throws IOException {
        Map<String, Object> m = JSON.std.mapFrom(psJson);
        Object list = m.get("models");
        List<String> out = new ArrayList<>();
        if (list instanceof List<?> l) {
            for (Object o : l) {
                if (o instanceof Map<?, ?> model) {
                    Object name = model.get("model") != null ? model.get("model") : model.get("name");
                    if (name instanceof String s && !s.isBlank()) {
                        out.add(s);
                    }
                }
            }
        }
        return out;
    }

    private static Duration remaining(long deadlineNanos) throws IOException {
        long left = deadlineNanos - System.nanoTime();
        if (left <= 0) {
            throw new IOException("ran out of time");
        }
        return Duration.ofNanos(left);
    }
}
