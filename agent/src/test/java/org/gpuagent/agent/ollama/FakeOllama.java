package org.gpuagent.agent.ollama;

import com.fasterxml.jackson.jr.ob.JSON;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.gpuagent.nvml.sim.SimProcess;
import org.gpuagent.nvml.sim.SimulatedDevice;

/**
 * An Ollama for the tests, written from Ollama's {@code docs/api.md}: {@code GET /api/ps},
 * {@code POST /api/show}, {@code GET /api/tags}, {@code POST /api/generate} and
 * {@code POST /api/chat} streaming NDJSON (or one object with {@code "stream": false}), unload by
 * {@code {"model": M, "keep_alive": 0}}, {@code POST /v1/chat/completions} streaming SSE. A model
 * loads {@code loadDelay} after its first request as a process on the simulated GPU that takes its
 * {@code size_vram}, so a sampler of that GPU sees it; an unload ends the process.
 */
final class FakeOllama implements AutoCloseable {
    /** A model it knows: its VRAM once loaded, its file size, its architecture for {@code /api/show}. */
    record Model(String name, long sizeVram, long fileSize, int blocks, int embedding, int heads, int kvHeads) {
    }

    private final HttpServer server;
    private final ExecutorService workers = Executors.newCachedThreadPool();
    private final SimulatedDevice gpu;
    private final Duration loadDelay;
    private final Map<String, Model> models = new ConcurrentHashMap<>();
    private final Map<String, SimProcess> loaded = new ConcurrentHashMap<>();
    private final Map<Integer, String> pidModel = new ConcurrentHashMap<>();
    private final AtomicInteger nextPid = new AtomicInteger(7_000_000);
    final List<String> requests = new CopyOnWriteArrayList<>();
    final List<String> unloads = new CopyOnWriteArrayList<>();
    /** Unloads wait on this before freeing the model's memory, while it is set. */
    volatile CountDownLatch holdUnload;
    /** Streams wait on this before their last chunk, while it is set. */
    volatile CountDownLatch holdLastChunk;
    /** The chunks each stream sends, in order (set per test). */
    volatile List<String> tokens = List.of("Hel", "lo", ", ", "wor", "ld");

    FakeOllama(SimulatedDevice gpu, Duration loadDelay) throws IOException {
        this.gpu = gpu;
        this.loadDelay = loadDelay;
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
        server.createContext("/", this::handle);
        server.setExecutor(workers);
        server.start();
    }

    FakeOllama add(Model m) {
        models.put(m.name(), m);
        return this;
    }

    URI base() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    /** Which model a pid on the simulated GPU is loaded as; null for other processes. */
    String modelOf(int pid) {
        return pidModel.get(pid);
    }

    boolean isLoaded(String model) {
        return loaded.containsKey(model);
    }

    private void handle(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath();
        requests.add(ex.getRequestMethod() + " " + path);
        try {
            switch (path) {
                case "/api/ps" -> json(ex, 200, Map.of("models", ps()));
                case "/api/tags" -> json(ex, 200, Map.of("models", tags()));
                case "/api/show" -> show(ex);
                case "/api/generate", "/api/chat" -> generate(ex, path.equals("/api/chat"));
                case "/v1/chat/completions" -> sse(ex);
                case "/" -> text(ex, 200, "Ollama is running");
                default -> json(ex, 404, Map.of("error", "404 page not found"));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            ex.close();
        }
    }

    private List<Map<String, Object>> ps() {
        List<Map<String, Object>> out = new ArrayList<>();
        loaded.forEach((name, p) -> {
            Model m = models.get(name);
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("name", name);
            e.put("model", name);
            e.put("size", m.sizeVram());
            e.put("digest", "2af3b81862c6be03c769683af18efdadb2c33f60ff32ab6f83e42c043d6c7816");
            e.put("details", Map.of("format", "gguf", "family", "llama"));
            e.put("expires_at", "2099-01-01T00:00:00Z");
            e.put("size_vram", m.sizeVram());
            out.add(e);
        });
        return out;
    }

    private List<Map<String, Object>> tags() {
        List<Map<String, Object>> out = new ArrayList<>();
        models.values().forEach(m -> out.add(Map.of("name", m.name(), "model", m.name(), "size", m.fileSize(),
                "modified_at", "2024-05-01T00:00:00Z")));
        return out;
    }

    private void show(HttpExchange ex) throws IOException {
        Map<String, Object> body = JSON.std.mapFrom(ex.getRequestBody());
        Model m = models.get(String.valueOf(body.get("model")));
        if (m == null) {
            json(ex, 404, Map.of("error", "model '" + body.get("model") + "' not found"));
            return;
        }
        Map<String, Object> info = new LinkedHashMap<>();
        info.put("general.architecture", "llama");
        info.put("general.parameter_count", m.fileSize() * 2);
        info.put("llama.block_count", m.blocks());
        info.put("llama.embedding_length", m.embedding());
        info.put("llama.attention.head_count", m.heads());
        info.put("llama.attention.head_count_kv", m.kvHeads());
        info.put("llama.context_length", 131072);
        json(ex, 200, Map.of("details", Map.of("format", "gguf", "family", "llama", "quantization_level", "Q4_K_M"),
                "model_info", info));
    }

    private void generate(HttpExchange ex, boolean chat) throws IOException, InterruptedException {
        Map<String, Object> body = JSON.std.mapFrom(ex.getRequestBody());
        String name = String.valueOf(body.get("model"));
        Model m = models.get(name);
        if (m == null) {
            json(ex, 404, Map.of("error", "model '" + name + "' not found, try pulling it first"));
            return;
        }
        Object keepAlive = body.get("keep_alive");
        if (keepAlive instanceof Number n && n.intValue() == 0 && body.get("prompt") == null
                && body.get("messages") == null) {
            CountDownLatch hold = holdUnload;
            if (hold != null) {
                hold.await(30, TimeUnit.SECONDS);
            }
            unload(name);
            json(ex, 200, Map.of("model", name, "created_at", "2024-05-01T00:00:00Z", "response", "", "done", true,
                    "done_reason", "unload"));
            return;
        }
        load(m);
        boolean stream = !Boolean.FALSE.equals(body.get("stream"));
        if (!stream) {
            json(ex, 200, chunk(name, chat, String.join("", tokens), true));
            return;
        }
        ex.getResponseHeaders().set("Content-Type", "application/x-ndjson");
        ex.sendResponseHeaders(200, 0);
        OutputStream o = ex.getResponseBody();
        List<String> t = tokens;
        for (int i = 0; i < t.size(); i++) {
            if (i == t.size() - 1 && holdLastChunk != null) {
                holdLastChunk.await(30, TimeUnit.SECONDS);
            }
            o.write((JSON.std.asString(chunk(name, chat, t.get(i), false)) + "\n").getBytes(StandardCharsets.UTF_8));
            o.flush();
        }
        o.write((JSON.std.asString(chunk(name, chat, "", true)) + "\n").getBytes(StandardCharsets.UTF_8));
        o.close();
    }

    private static Map<String, Object> chunk(String model, boolean chat, String text, boolean done) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("model", model);
        c.put("created_at", "2024-05-01T00:00:00Z");
        if (chat) {
            c.put("message", Map.of("role", "assistant", "content", text));
        } else {
            c.put("response", text);
        }
        c.put("done", done);
        return c;
    }

    private void sse(HttpExchange ex) throws IOException, InterruptedException {
        Map<String, Object> body = JSON.std.mapFrom(ex.getRequestBody());
        String name = String.valueOf(body.get("model"));
        Model m = models.get(name);
        if (m == null) {
            json(ex, 404, Map.of("error", Map.of("message", "model \"" + name + "\" not found")));
            return;
        }
        load(m);
        ex.getResponseHeaders().set("Content-Type", "text/event-stream");
        ex.sendResponseHeaders(200, 0);
        OutputStream o = ex.getResponseBody();
        for (String t : tokens) {
            Map<String, Object> c = Map.of("id", "chatcmpl-1", "object", "chat.completion.chunk", "model", name,
                    "choices", List.of(Map.of("index", 0, "delta", Map.of("role", "assistant", "content", t))));
            o.write(("data: " + JSON.std.asString(c) + "\n\n").getBytes(StandardCharsets.UTF_8));
            o.flush();
        }
        o.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
        o.close();
    }

    /** Loads {@code m} (once): after the delay, a process on the simulated GPU takes its size_vram. */
    private synchronized void load(Model m) throws InterruptedException {
        if (loaded.containsKey(m.name())) {
            return;
        }
        Thread.sleep(loadDelay.toMillis());
        int pid = nextPid.incrementAndGet();
        // known as the model's before it takes memory, and until it has given it back: the
        // observer must never see the model's memory as nobody's
        pidModel.put(pid, m.name());
        SimProcess p = gpu.startProcess(pid, "ollama");
        long rest = m.sizeVram() - p.usedBytes();
        if (rest > 0) {
            p.allocate(rest);
        }
        loaded.put(m.name(), p);
    }

    synchronized void unload(String name) {
        unloads.add(name);
        SimProcess p = loaded.remove(name);
        if (p != null) {
            p.exit();
            pidModel.remove(p.pid());
        }
    }

    private static void json(HttpExchange ex, int status, Object body) throws IOException {
        byte[] b = JSON.std.asBytes(body);
        ex.getResponseHeaders().set("Content-Type", "application/json; charset=utf-8");
        ex.sendResponseHeaders(status, b.length);
        ex.getResponseBody().write(b);
    }

    private static void text(HttpExchange ex, int status, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
        ex.sendResponseHeaders(status, b.length);
        ex.getResponseBody().write(b);
    }

    @Override
    public void close() {
        server.stop(0);
        workers.shutdownNow();
        loaded.values().forEach(SimProcess::exit);
    }
}
