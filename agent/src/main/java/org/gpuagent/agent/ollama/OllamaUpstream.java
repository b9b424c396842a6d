package org.gpuagent.agent.ollama;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * The few Ollama calls the proxy makes itself (the facts are in {@code docs/ollama.md}, from
 * Ollama's {@code docs/api.md}): {@code GET /api/ps} (loaded models and their {@code size_vram}),
 * {@code POST /api/show} (a model's architecture), {@code GET /api/tags} (a model's file size),
 * and the unload {@code POST /api/generate {"model": M, "keep_alive": 0}}.
 */
public final class OllamaUpstream {
    /** A call's answer bodies are small JSON; more than this is not Ollama. */
    static final int MAX_ANSWER_BYTES = 8 << 20;

    private final URI base;
    private final HttpClient http;
    private final Duration timeout;

    public OllamaUpstream(URI base, HttpClient http, Duration timeout) {
        String s = base.toString();
        this.base = URI.create(s.endsWith("/") ? s : s + "/");
        this.http = http;
        this.timeout = timeout;
    }

    public URI base() {
        return base;
    }

    public HttpClient client() {
        return http;
    }

    /** Loaded models by name ({@code model}, else {@code name}) with their {@code size_vram} (0 if absent). */
    public Map<String, Long> loaded() throws IOException, InterruptedException {
        Map<String, Object> m = getJson("api/ps");
        Map<String, Long> out = new LinkedHashMap<>();
        if (m.get("models") instanceof List<?> l) {
            for (Object o : l) {
                if (o instanceof Map<?, ?> model) {
                    Object name = model.get("model") != null ? model.get("model") : model.get("name");
                    if (name instanceof String s && ModelName.problem(s).isEmpty()) {
                        long vram = model.get("size_vram") instanceof Number n ? Math.max(0, n.longValue()) : 0;
                        out.put(ModelName.canonical(s), vram);
                    }
                }
            }
        }
        return out;
    }

    /** Ollama answered 404: it has no such model. */
    public static final class NoSuchModel extends IOException {
        private static final long serialVersionUID = 1L;

        NoSuchModel(String model) {
            super("Ollama has no model " + model);
        }
    }

    /**
     * {@code POST /api/show {"model": M}}: the model's details and {@code model_info}.
     *
     * @throws NoSuchModel when Ollama answers 404
     */
    public Map<String, Object> show(String model) throws IOException, InterruptedException {
        HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(base.resolve("api/show")).timeout(timeout)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JSON.std.asString(Map.of("model", model)))).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        if (r.statusCode() == 404) {
            throw new NoSuchModel(model);
        }
        return answer("api/show", r);
    }

    /** The model's file size from {@code GET /api/tags}; empty when it is not listed. */
    public OptionalLong fileSize(String model) throws IOException, InterruptedException {
        Map<String, Object> m = getJson("api/tags");
        if (m.get("models") instanceof List<?> l) {
            for (Object o : l) {
                if (o instanceof Map<?, ?> entry) {
                    Object name = entry.get("model") != null ? entry.get("model") : entry.get("name");
                    if (name instanceof String s && ModelName.canonical(s).equals(ModelName.canonical(model))
                            && entry.get("size") instanceof Number n && n.longValue() > 0) {
                        return OptionalLong.of(n.longValue());
                    }
                }
            }
        }
        return OptionalLong.empty();
    }

    /** Unloads {@code model} at once: {@code keep_alive: 0}, Ollama's documented way. */
    public String unload(String model, Duration within) throws IOException, InterruptedException {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("model", model);
        body.put("keep_alive", 0);
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(base.resolve("api/generate")).timeout(within)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JSON.std.asString(body))).build(),
                HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        if (r.statusCode() != 200) {
            throw new IOException("Ollama answered " + r.statusCode() + " to unloading " + model);
        }
        return "unloaded " + model;
    }

    private Map<String, Object> getJson(String path) throws IOException, InterruptedException {
        return answer(path, http.send(HttpRequest.newBuilder(base.resolve(path)).timeout(timeout).GET().build(),
                HttpResponse.BodyHandlers.ofByteArray()));
    }

    private Map<String, Object> answer(String path, HttpResponse<byte[]> r) throws IOException {
        if (r.statusCode() != 200) {
            throw new IOException(path + " answered " + r.statusCode());
        }
        if (r.body().length > MAX_ANSWER_BYTES) {
            throw new IOException(path + " answered more than " + (MAX_ANSWER_BYTES >> 20) + " MiB");
        }
        try {
            return JSON.std.mapFrom(r.body());
        } catch (IOException | RuntimeException e) {
            throw new IOException(path + " answered something that is not a JSON object");
        }
    }
}
