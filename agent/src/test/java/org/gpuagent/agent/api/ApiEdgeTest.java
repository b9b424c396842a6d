package org.gpuagent.agent.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The API's HTTP edge (issue 14): whatever bytes arrive, the answer is the API's JSON error with a
 * 4xx status, never the JDK server's HTML page, an empty reply or a 5xx; slow clients cannot hold
 * the API; the connection limit sheds idle and slow connections first.
 */
class ApiEdgeTest {
    @TempDir
    Path dir;
    ApiRig rig;

    @AfterEach
    void close() throws IOException {
        if (rig != null) {
            rig.close();
        }
    }

    static Stream<Arguments> malformedRequests() {
        String auth = "Host: x\r\nAuthorization: Bearer TOKEN\r\n";
        return Stream.of(
                Arguments.of("GET /v1/leases?holder=%zz HTTP/1.1\r\n" + auth + "\r\n", 400, "malformed request target"),
                Arguments.of("DELETE /v1/leases?holder=% HTTP/1.1\r\n" + auth + "\r\n", 400, "malformed request target"),
                Arguments.of("GET /v1/le|ases HTTP/1.1\r\n" + auth + "\r\n", 400, "malformed request target"),
                Arguments.of("GET /v1/[ HTTP/1.1\r\n" + auth + "\r\n", 400, "malformed request target"),
                Arguments.of("GET /v1/status%00 HTTP/1.1\r\n" + auth + "\r\n", 404, "no such endpoint"),
                Arguments.of("GET mailto:x HTTP/1.1\r\n" + auth + "\r\n", 400, "must be a path"),
                Arguments.of("GET * HTTP/1.1\r\n" + auth + "\r\n", 400, "must be a path"),
                Arguments.of("GARBAGE\r\n\r\n", 400, "malformed request line"),
                Arguments.of("GET /v1/status\r\n\r\n", 400, "malformed request line"),
                Arguments.of("GET  /v1/status HTTP/1.1\r\n\r\n", 400, "malformed request line"),
                Arguments.of("G(T /v1/status HTTP/1.1\r\n\r\n", 400, "malformed request line"),
                Arguments.of("GET /v1/status HTTP/2.0\r\n" + auth + "\r\n", 400, "unsupported protocol version"),
                Arguments.of("GET /v1/status HTTP/1.1\r\nBad Header\r\n\r\n", 400, "malformed header line"),
                Arguments.of("GET /v1/status HTTP/1.1\r\nBad Name: x\r\n\r\n", 400, "malformed header line"),
                Arguments.of("GET /v1/status HTTP/1.1\r\n folded: x\r\n\r\n", 400, "malformed header line"),
                Arguments.of("GET /v1/status HTTP/1.1\r\nX: a\u0000b\r\n\r\n", 400, "NUL"),
                Arguments.of("POST /v1/leases HTTP/1.1\r\n" + auth + "Transfer-Encoding: gzip\r\n\r\n", 400,
                        "unsupported Transfer-Encoding"),
                Arguments.of("POST /v1/leases HTTP/1.1\r\n" + auth + "Transfer-Encoding: chunked\r\nContent-Length: 3"
                        + "\r\n\r\n", 400, "both Content-Length and Transfer-Encoding"),
                Arguments.of("POST /v1/leases HTTP/1.1\r\n" + auth + "Content-Length: 5\r\nContent-Length: 6\r\n\r\n",
                        400, "conflicting Content-Length"),
                Arguments.of("POST /v1/leases HTTP/1.1\r\n" + auth + "Content-Length: -1\r\n\r\n", 400,
                        "Content-Length is not a number"),
                Arguments.of("POST /v1/leases HTTP/1.1\r\n" + auth + "Content-Length: 99999999999999999999\r\n\r\n", 400,
                        "Content-Length is not a number"),
                Arguments.of("POST /v1/leases HTTP/1.1\r\n" + auth + "Content-Length: 9999999\r\n\r\n", 413,
                        "larger than"),
                Arguments.of("POST /v1/leases HTTP/1.1\r\n" + auth + "Transfer-Encoding: chunked\r\n\r\nzz\r\n", 400,
                        "malformed chunk size"),
                Arguments.of("POST /v1/leases HTTP/1.1\r\n" + auth + "Transfer-Encoding: chunked\r\n\r\n"
                        + "20000\r\n", 413, "larger than"),
                Arguments.of("GET /v1/" + "a".repeat(RequestReader.MAX_REQUEST_LINE) + " HTTP/1.1\r\n\r\n", 414,
                        "request line is longer"),
                Arguments.of("GET /v1/status HTTP/1.1\r\nX: " + "a".repeat(RequestReader.MAX_HEAD_BYTES) + "\r\n\r\n",
                        431, "headers are larger"),
                Arguments.of("GET /v1/status HTTP/1.1\r\n" + "X: a\r\n".repeat(RequestReader.MAX_HEADERS + 1)
                        + "\r\n", 431, "fields"),
                Arguments.of("PUT /v1/leases/1 HTTP/1.1\r\n" + auth + "\r\n", 405, "not allowed"),
                Arguments.of("GET /v1/leases/99999999999999999999999 HTTP/1.1\r\n" + auth + "\r\n", 400,
                        "not a lease id"),
                Arguments.of("DELETE /v1/leases?holder=systemd%3A..%2Fetc HTTP/1.1\r\n" + auth + "\r\n", 400,
                        "does not name a systemd unit"),
                Arguments.of("DELETE /v1/leases?holder=a%00b HTTP/1.1\r\n" + auth + "\r\n", 400, "control characters"),
                Arguments.of("POST /v1/leases HTTP/1.1\r\n" + auth + "Content-Length: 42\r\n\r\n"
                        + "{\"service\":\"jellyfin\",\"bytes\":1e999999999}", 400, "beyond 2^63-1"),
                Arguments.of("POST /v1/leases HTTP/1.1\r\n" + auth + "Content-Length: 804\r\n\r\n"
                        + "[".repeat(402) + "]".repeat(402), 400, "nesting depth"));
    }

    /** Issue 14: malformed URIs got the JDK server's HTML; a 400-deep body got an empty reply. */
    @ParameterizedTest
    @MethodSource("malformedRequests")
    void everyMalformedRequestGetsTheApisJsonError(String raw, int status, String reason) throws Exception {
        rig = ApiRig.start(dir);
        ApiRig.Reply r = rig.send(raw.replace("TOKEN", rig.token));
        assertEquals(status, r.status(), r.body());
        assertEquals("application/json", r.headers().get("content-type"), r.toString());
        Map<String, Object> m = r.json();
        assertTrue(m.get("error") instanceof String, r.body());
        assertTrue(((String) m.get("message")).contains(reason), r.body());
        assertFalse(r.body().contains("<h1>") || r.body().contains("Exception"), r.body());
        assertEquals(0, rig.leaseCount());
        assertEquals(200, rig.call("GET", "/v1/status", null).status(), "the API still answers");
    }

    /**
     * Found by the HTTP fuzzer: a request cut short by the end of the stream (here after a 100
     * Continue) was closed without an answer; a client that half-closes still reads its 400. A
     * refusal is written to a half-closed client too; only a grant is withheld (it goes back).
     */
    @Test
    void aRequestCutShortIsAnsweredAndAHalfClosedClientStillGetsErrors() throws Exception {
        rig = ApiRig.start(dir);
        for (String raw : List.of(
                "POST /v1/leases HTTP/1.1\r\nAuthorization: Bearer TOKEN\r\nContent-Length: 30\r\n\r\n{\"serv",
                "POST /v1/leases HTTP/1.1\r\nAuthorization: Bearer TOKEN\r\nTransfer-Encoding: chunked\r\n"
                        + "Expect: 100-continue\r\n\r\n11\r\n{\"ser",
                "GET /v1/status HTTP/1.1\r\nAuthorization: Bear",
                "DELETE /v1/leases?holder=systemd%3Aollama.service HTTP/1.0\r\nAuthorization: Bearer TOKEN\r\n\r\n")) {
            try (Socket s = new Socket("127.0.0.1", rig.port())) {
                s.setSoTimeout(10_000);
                s.getOutputStream().write(raw.replace("TOKEN", rig.token).getBytes(StandardCharsets.US_ASCII));
                s.shutdownOutput();
                ApiRig.Reply r = ApiRig.Reply.read(s.getInputStream());
                if (r.status() == 100) {
                    r = ApiRig.Reply.read(s.getInputStream());
                }
                if (raw.startsWith("DELETE")) {
                    assertEquals(204, r.status(), r.body());
                } else {
                    assertEquals(400, r.status(), r.body());
                    assertTrue(((String) r.json().get("message")).contains("ended before it was complete"), r.body());
                }
            }
        }
        assertEquals(0, rig.leaseCount());
    }

    @Test
    void chunkedBodiesContinueAndKeepAliveWork() throws Exception {
        rig = ApiRig.start(dir);
        String body = "{\"service\":\"jellyfin\"}";
        String raw = "POST /v1/leases HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + rig.token
                + "\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n"
                + Integer.toHexString(5) + "\r\n" + body.substring(0, 5) + "\r\n"
                + Integer.toHexString(body.length() - 5) + ";ext=1\r\n" + body.substring(5) + "\r\n0\r\n\r\n"
                + "GET /v1/leases HTTP/1.1\r\nAuthorization: Bearer " + rig.token + "\r\nConnection: close\r\n\r\n";
        try (Socket s = new Socket("127.0.0.1", rig.port())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(raw.getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            assertEquals(100, ApiRig.Reply.read(in).status());
            ApiRig.Reply created = ApiRig.Reply.read(in);
            assertEquals(201, created.status(), created.body());
            ApiRig.Reply list = ApiRig.Reply.read(in);
            assertEquals(200, list.status());
            assertTrue(list.body().contains("\"id\":" + created.leaseId()), list.body());
            assertEquals(-1, in.read(), "Connection: close is honoured");
        }
    }

    /**
     * Issue 14: 16 connections sending their headers slowly stalled the API for 30 s. Here 40 of
     * them trickle a byte every 50 ms for longer than the request deadline; the API answers others
     * throughout, and each slow one ends with 408 at its deadline.
     */
    @Test
    void slowClientsCannotStallTheApi() throws Exception {
        rig = new ApiRig(dir, new HttpListener.Limits(Duration.ofMillis(1500), Duration.ofSeconds(5), 256),
                new Semaphore(ApiServer.MAX_WAITING));
        AtomicBoolean stop = new AtomicBoolean();
        List<Socket> slow = new ArrayList<>();
        List<Thread> tricklers = new ArrayList<>();
        try {
            for (int i = 0; i < 40; i++) {
                Socket s = new Socket("127.0.0.1", rig.port());
                slow.add(s);
                Thread t = new Thread(() -> trickle(s, stop), "trickle-" + i);
                t.setDaemon(true);
                t.start();
                tricklers.add(t);
            }
            for (int i = 0; i < 20; i++) {
                ApiRig.Reply r = rig.call("GET", "/v1/status", null);
                assertEquals(200, r.status(), r.body());
                Thread.sleep(50);
            }
            for (Socket s : slow) {
                s.setSoTimeout(10_000);
                ApiRig.Reply r = ApiRig.Reply.read(s.getInputStream());
                assertEquals(408, r.status(), r.body());
                assertEquals("request_timeout", r.json().get("error"));
            }
        } finally {
            stop.set(true);
            for (Socket s : slow) {
                s.close();
            }
            for (Thread t : tricklers) {
                t.join(5000);
            }
        }
    }

    private static void trickle(Socket s, AtomicBoolean stop) {
        try {
            OutputStream out = s.getOutputStream();
            out.write("GET /v1/status HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII));
            while (!stop.get()) {
                out.write('X');
                out.flush();
                Thread.sleep(50);
            }
        } catch (IOException | InterruptedException e) {
            // closed by the server at its deadline, or by the test
        }
    }

    /** At the connection limit a new client closes the longest-idle connection and is answered. */
    @Test
    void theConnectionLimitShedsIdleConnectionsFirst() throws Exception {
        rig = new ApiRig(dir, new HttpListener.Limits(Duration.ofSeconds(30), Duration.ofSeconds(30), 4),
                new Semaphore(ApiServer.MAX_WAITING));
        List<Socket> silent = new ArrayList<>();
        try {
            for (int i = 0; i < 4; i++) {
                Socket s = new Socket("127.0.0.1", rig.port());
                s.setSoTimeout(10_000);
                silent.add(s);
            }
            awaitConnections(4);
            assertEquals(200, rig.call("GET", "/v1/status", null).status());
            assertEquals(-1, silent.get(0).getInputStream().read(), "the longest-idle connection was closed for room");
            for (int i = 0; i < 10; i++) {
                assertEquals(200, rig.call("GET", "/v1/status", null).status());
            }
        } finally {
            for (Socket s : silent) {
                s.close();
            }
        }
    }

    /** When every connection is being answered (here: waiting admissions), a new one gets 429 JSON. */
    @Test
    void whenEveryConnectionIsBusyANewOneGets429() throws Exception {
        rig = new ApiRig(dir, new HttpListener.Limits(Duration.ofSeconds(30), Duration.ofSeconds(30), 2),
                new Semaphore(ApiServer.MAX_WAITING));
        assertEquals(201, rig.call("POST", "/v1/leases", "{\"service\":\"frigate\",\"bytes\":\"4GiB\"}").status());
        List<Socket> waiting = new ArrayList<>();
        try {
            for (int i = 0; i < 2; i++) {
                int queued = i + 1;
                GiveUpPathTest.await(() -> rig.api.openConnections() == queued - 1, "earlier connections settled");
                Socket s = new Socket("127.0.0.1", rig.port());
                s.getOutputStream().write(rig.request("POST", "/v1/leases",
                        "{\"service\":\"jellyfin\",\"waitMs\":60000}").getBytes(StandardCharsets.UTF_8));
                waiting.add(s);
                GiveUpPathTest.await(() -> rig.ledger.view().queue().size() == queued, queued + " queued");
            }
            ApiRig.Reply r = rig.call("GET", "/v1/status", null);
            assertEquals(429, r.status(), r.body());
            assertEquals("too_many_connections", r.json().get("error"));
        } finally {
            for (Socket s : waiting) {
                s.close();
            }
        }
    }

    private void awaitConnections(int n) throws InterruptedException {
        long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (rig.api.openConnections() < n) {
            if (System.nanoTime() > end) {
                throw new AssertionError("never saw " + n + " connections");
            }
            Thread.sleep(10);
        }
    }

    static void assertNoReply(Socket s) throws IOException {
        try {
            assertEquals(-1, s.getInputStream().read());
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the connection stayed open", e);
        }
    }
}
