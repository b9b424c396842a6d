package org.gpuagent.agent.actuate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.jr.ob.JSON;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.gpuagent.scheduler.Evictor;
import org.gpuagent.scheduler.Lease;
import org.gpuagent.scheduler.LeaseId;
import org.gpuagent.scheduler.PriorityClass;
import org.gpuagent.scheduler.Service;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Against a stand-in for Ollama's HTTP API: lists the loaded models, unloads each with keep_alive 0. */
class OllamaUnloaderTest {
    HttpServer ollama;
    final List<Map<String, Object>> generated = new CopyOnWriteArrayList<>();
    volatile String ps;
    volatile int generateStatus = 200;

    @BeforeEach
    void start() throws IOException {
        ollama = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        ollama.createContext("/api/ps", ex -> {
            byte[] b = ps.getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, b.length);
            ex.getResponseBody().write(b);
            ex.close();
        });
        ollama.createContext("/api/generate", ex -> {
            generated.add(JSON.std.mapFrom(ex.getRequestBody()));
            ex.sendResponseHeaders(generateStatus, -1);
            ex.close();
        });
        ollama.start();
    }

    @AfterEach
    void stop() {
        ollama.stop(0);
    }

    private OllamaUnloader unloader() {
        return new OllamaUnloader(URI.create("http://127.0.0.1:" + ollama.getAddress().getPort()),
                HttpClient::newHttpClient);
    }

    private static Evictor.Order order() {
        Lease l = Lease.active(new LeaseId(7), "ollama", 1, Optional.empty(), List.of(), Instant.EPOCH);
        return new Evictor.Order(l, Service.of("ollama", PriorityClass.OPPORTUNISTIC, 1, true), "frigate", 1,
                Instant.EPOCH, "test");
    }

    @Test
    void unloadsEveryLoadedModel() throws Exception {
        ps = """
                {"models":[{"name":"llama3.2:3b","model":"llama3.2:3b","size_vram":2900000000},
                           {"name":"qwen2.5:1.5b","model":"qwen2.5:1.5b","size_vram":1500000000}]}
                """;
        String outcome = unloader().act(order(), Duration.ofSeconds(10));
        assertEquals("unloaded llama3.2:3b, qwen2.5:1.5b", outcome);
        assertEquals(List.of(Map.of("model", "llama3.2:3b", "keep_alive", 0), Map.of("model", "qwen2.5:1.5b",
                "keep_alive", 0)), generated);
    }

    @Test
    void nothingLoadedIsNothingToDo() throws Exception {
        ps = "{\"models\":[]}";
        assertEquals("no model was loaded", unloader().act(order(), Duration.ofSeconds(10)));
        assertTrue(generated.isEmpty());
    }

    @Test
    void aRefusedUnloadIsAFailure() {
        ps = "{\"models\":[{\"model\":\"m\"}]}";
        generateStatus = 500;
        IOException e = assertThrows(IOException.class, () -> unloader().act(order(), Duration.ofSeconds(10)));
        assertTrue(e.getMessage().contains("did not unload m (500)"), e.getMessage());
    }
}
