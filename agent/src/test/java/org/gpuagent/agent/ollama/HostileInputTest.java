package org.gpuagent.agent.ollama;

import static org.gpuagent.agent.ollama.ProxyRig.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What the proxy answers to bad requests and a missing Ollama: a clear answer, no leaked lease. */
class HostileInputTest {
    private ProxyRig rig;

    @BeforeEach
    void start() throws Exception {
        rig = new ProxyRig(Duration.ofSeconds(5), Duration.ofMillis(400));
    }

    @AfterEach
    void stop() throws Exception {
        rig.close();
    }

    private void assertError(HttpResponse<String> r, int status, String contains) throws IOException {
        assertEquals(status, r.statusCode(), r.body());
        Map<String, Object> body = JSON.std.mapFrom(r.body());
        assertEquals(List.of("error"), List.copyOf(body.keySet()), r.body());
        assertTrue(((String) body.get("error")).contains(contains), r.body());
        assertFalse(r.body().contains("Exception") || r.body().contains("\tat "), r.body());
        assertTrue(rig.modelLeases().isEmpty(), "no lease was taken");
    }

    @Test
    void malformedJsonIs400() throws Exception {
        assertError(rig.post(rig.proxyUri("/api/generate"), "{\"model\": \"small:1b\","), 400, "not valid JSON");
        assertError(rig.post(rig.proxyUri("/api/chat"), "[1, 2]"), 400, "JSON object");
        assertError(rig.post(rig.proxyUri("/v1/chat/completions"), ""), 400, "not valid JSON");
    }

    @Test
    void aMissingOrAbsurdModelNameIs400() throws Exception {
        assertError(rig.post(rig.proxyUri("/api/generate"), "{\"prompt\":\"hi\"}"), 400, "model is required");
        assertError(rig.post(rig.proxyUri("/api/generate"), "{\"model\":42}"), 400, "model is required");
        assertError(rig.post(rig.proxyUri("/api/embed"), "{\"model\":\"a\\u0000b\"}"), 400, "not a model name");
        assertError(rig.post(rig.proxyUri("/api/embed"), "{\"model\":\"" + "x".repeat(300) + "\"}"), 400,
                "1-256 characters");
        assertError(rig.post(rig.proxyUri("/api/chat"), "{\"model\":\"../../etc/passwd\"}"), 400,
                "not a model name");
        assertError(rig.post(rig.proxyUri("/api/chat"), "{\"model\":\"\"}"), 400, "1-256 characters");
    }

    @Test
    void aModelOllamaDoesNotHaveTakesNoLease() throws Exception {
        HttpResponse<String> r = rig.generate("nope:1b");
        assertEquals(404, r.statusCode(), r.body());
        assertTrue(r.body().contains("not found"), r.body());
        assertTrue(rig.granted.isEmpty(), "no lease was ever granted: " + rig.granted);
    }

    @Test
    void aBodyOverTheLimitIs413() throws Exception {
        String huge = "{\"model\":\"small:1b\",\"prompt\":\"" + "a".repeat(70 * 1024) + "\"}";
        assertError(rig.post(rig.proxyUri("/api/generate"), huge), 413, "larger than");
    }

    @Test
    void aBodyWithoutDeclaredLengthOverTheLimitIs413() throws Exception {
        String head = "POST /api/generate HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
        String answer = raw(head, out -> {
            byte[] chunk = ("a".repeat(8192)).getBytes(StandardCharsets.US_ASCII);
            for (int i = 0; i < 10; i++) {
                out.write(("2000\r\n").getBytes(StandardCharsets.US_ASCII));
                out.write(chunk);
                out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
            }
            out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        });
        assertTrue(answer.startsWith("HTTP/1.1 413"), answer);
        assertTrue(rig.modelLeases().isEmpty());
    }

    @Test
    void aClientThatSendsItsBodyTooSlowlyIsCutOff() throws Exception {
        String head = "POST /api/generate HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n";
        String answer = raw(head, out -> out.write("{\"model\":".getBytes(StandardCharsets.US_ASCII)));
        // the proxy answers 408 when it still can, else closes: either way the connection ends
        assertTrue(answer.isEmpty() || answer.startsWith("HTTP/1.1 408"), answer);
        assertTrue(rig.modelLeases().isEmpty());
    }

    @Test
    void aClientThatLeavesMidStreamLeavesNoRequestCountedInFlight() throws Exception {
        java.util.concurrent.CountDownLatch hold = new java.util.concurrent.CountDownLatch(1);
        rig.ollama.holdLastChunk = hold;
        URI u = rig.proxyUri("/");
        String body = "{\"model\":\"small:1b\",\"prompt\":\"hi\"}";
        try (Socket s = new Socket(u.getHost(), u.getPort())) {
            s.getOutputStream().write(("POST /api/generate HTTP/1.1\r\nHost: x\r\nContent-Length: " + body.length()
                    + "\r\n\r\n" + body).getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            String head = new String(in.readNBytes(12), StandardCharsets.US_ASCII);
            assertEquals("HTTP/1.1 200", head);
        } // the client is gone while Ollama still streams
        hold.countDown();
        assertTrue(rig.modelLease("small:1b").isPresent());
        rig.ollama.unload("small:1b");
        await("the lease of the unloaded model is released: no request still counts as in flight",
                () -> rig.modelLease("small:1b").isEmpty());
    }

    @Test
    void ollamaDownIs502InOllamasShapeAndTheLeaseIsGivenBack() throws Exception {
        rig.ollama.close();
        HttpResponse<String> r = rig.generate("small:1b");
        assertEquals(502, r.statusCode(), r.body());
        Map<String, Object> body = JSON.std.mapFrom(r.body());
        assertTrue(((String) body.get("error")).contains("cannot be reached"), r.body());
        // the lease taken before forwarding: an Ollama that refuses connections has nothing loaded
        await("the lease of the model that never loaded is released", () -> rig.modelLeases().isEmpty());
    }

    @FunctionalInterface
    interface BodyWriter {
        void write(OutputStream out) throws IOException;
    }

    /** Sends {@code head} and what {@code body} writes on a raw socket; returns the answer's status line (empty if closed). */
    private String raw(String head, BodyWriter body) throws IOException {
        URI u = rig.proxyUri("/");
        try (Socket s = new Socket(u.getHost(), u.getPort())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(head.getBytes(StandardCharsets.US_ASCII));
            try {
                body.write(out);
                out.flush();
            } catch (IOException e) {
                // the proxy may close while the body is still being sent
            }
            InputStream in = s.getInputStream();
            StringBuilder line = new StringBuilder();
            try {
                int c;
                while ((c = in.read()) >= 0 && c != '\n') {
                    line.append((char) c);
                }
            } catch (IOException e) {
                // closed by the proxy
            }
            return line.toString().strip();
        }
    }
}
