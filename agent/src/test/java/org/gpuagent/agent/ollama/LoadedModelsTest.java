package org.gpuagent.agent.ollama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The {@code /api/ps} look and how long a request trusts it, against a minimal Ollama. */
class LoadedModelsTest {
    private static final Duration TTL = Duration.ofSeconds(2);

    private static OllamaUpstream upstream(int port) {
        return new OllamaUpstream(URI.create("http://127.0.0.1:" + port), HttpClient.newHttpClient(),
                Duration.ofSeconds(5));
    }

    @Test
    void aRequestTrustsTheLastLookForTheTtlThenLooksAfresh() throws Exception {
        AtomicInteger asked = new AtomicInteger();
        HttpServer ollama = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        ollama.createContext("/api/ps", ex -> {
            byte[] b = ("{\"models\":[{\"model\":\"small:1b\",\"size_vram\":" + asked.incrementAndGet() + "}]}")
                    .getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, b.length);
            ex.getResponseBody().write(b);
            ex.close();
        });
        ollama.start();
        try {
            AtomicReference<Instant> now = new AtomicReference<>(Instant.EPOCH);
            InstantSource clock = now::get;
            LoadedModels loaded = new LoadedModels(upstream(ollama.getAddress().getPort()), TTL, clock);
            assertNull(loaded.last());
            assertEquals(Map.of("small:1b", 1L), loaded.recent(() -> 7));
            assertEquals(7, loaded.last().seq());
            now.set(Instant.EPOCH.plus(TTL));
            assertEquals(Map.of("small:1b", 1L), loaded.recent(() -> 8), "within the TTL: the last look");
            now.set(Instant.EPOCH.plus(TTL).plusMillis(1));
            assertEquals(Map.of("small:1b", 2L), loaded.recent(() -> 9), "past it: a fresh look");
            assertEquals(9, loaded.last().seq());
            LoadedModels.Look poll = loaded.look(10);
            assertEquals(Map.of("small:1b", 3L), poll.models(), "the poller always looks afresh");
            assertEquals(poll, loaded.last());
        } finally {
            ollama.stop(0);
        }
    }

    @Test
    void anOllamaThatIsNotRunningHasNothingLoaded() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        LoadedModels loaded = new LoadedModels(upstream(port), TTL, InstantSource.system());
        assertEquals(Map.of(), loaded.look(1).models());
        assertEquals(Map.of(), loaded.recent(() -> 2));
    }
}
