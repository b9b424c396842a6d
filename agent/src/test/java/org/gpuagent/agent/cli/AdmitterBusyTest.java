package org.gpuagent.agent.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.gpuagent.agent.FailOpenRecord;
import org.gpuagent.agent.api.ApiToken;
import org.gpuagent.agent.config.HostPort;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An agent that answers 429 (too many requests already waiting) is busy, not gone: the request is
 * asked again within its wait, and never treated as "unreachable" (which would start a fail-open
 * service without a lease, or refuse a fail-closed one).
 */
class AdmitterBusyTest {
    @TempDir
    Path state;
    private HttpServer server;
    private final AtomicInteger busyAnswers = new AtomicInteger();
    private final List<String> bodies = new CopyOnWriteArrayList<>();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private Instant now = Instant.parse("2026-12-06T05:00:00Z");

    @BeforeEach
    void agent() throws Exception {
        ApiToken.loadOrCreate(state, new SecureRandom());
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/v1/leases", ex -> {
            bodies.add(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            boolean busy = busyAnswers.getAndDecrement() > 0;
            byte[] b = (busy ? "{\"error\":\"too_many_waiting\",\"message\":\"12 requests are already waiting; ask again later\"}"
                    : "{\"lease\":{\"id\":\"42\",\"service\":\"jellyfin\"},\"preempted\":[]}").getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(busy ? 429 : 201, b.length);
            ex.getResponseBody().write(b);
            ex.close();
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private Admitter.Result admit(Duration wait, List<Duration> pauses) {
        CliContext ctx = new CliContext(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), new ByteArrayInputStream(new byte[0]), Map.of());
        InstantSource clock = () -> now;
        Admitter a = new Admitter(ctx, "gpu-agent", clock).pausingWith(d -> {
            pauses.add(d);
            now = now.plus(d);
        });
        ApiClient client = new ApiClient(new HostPort("127.0.0.1", server.getAddress().getPort()), state);
        return a.request(client, new Admitter.Request("jellyfin", OptionalLong.of(1 << 20), wait, Optional.empty(),
                List.of()), ClientConfig.load(Optional.empty()));
    }

    @Test
    void aBusyAgentIsAskedAgainWithWhatIsLeftOfTheWait() {
        busyAnswers.set(2);
        List<Duration> pauses = new CopyOnWriteArrayList<>();
        Admitter.Result r = admit(Duration.ofSeconds(10), pauses);
        assertEquals(new Admitter.Result(ExitCodes.OK, Optional.of("42")), r, err.toString(StandardCharsets.UTF_8));
        assertEquals(List.of(Duration.ofMillis(100), Duration.ofMillis(200)), pauses);
        assertEquals(3, bodies.size());
        assertTrue(bodies.get(0).contains("\"waitMs\":10000"), bodies.get(0));
        assertTrue(bodies.get(2).contains("\"waitMs\":9700"), bodies.get(2));
    }

    @Test
    void aBusyAgentPastTheWaitIsADenialNotAFailOpenStart() throws Exception {
        busyAnswers.set(1000);
        List<Duration> pauses = new CopyOnWriteArrayList<>();
        Admitter.Result r = admit(Duration.ofSeconds(3), pauses);
        assertEquals(new Admitter.Result(ExitCodes.DENIED, Optional.empty()), r);
        // 100 + 200 + 400 + 800 ms, then the 1.5 s left, then one last try with no wait
        assertEquals(List.of(Duration.ofMillis(100), Duration.ofMillis(200), Duration.ofMillis(400),
                Duration.ofMillis(800), Duration.ofMillis(1500)), pauses);
        assertEquals(6, bodies.size());
        assertFalse(bodies.get(5).contains("waitMs"), bodies.get(5));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("12 requests are already waiting"), err.toString());
        assertFalse(Files.exists(FailOpenRecord.file(state)), "jellyfin is fail-open, but the agent was there");
    }

    @Test
    void withNoWaitABusyAgentIsAskedOnce() {
        busyAnswers.set(1000);
        List<Duration> pauses = new CopyOnWriteArrayList<>();
        assertEquals(ExitCodes.DENIED, admit(Duration.ZERO, pauses).exit());
        assertEquals(1, bodies.size());
        assertTrue(pauses.isEmpty());
    }
}
