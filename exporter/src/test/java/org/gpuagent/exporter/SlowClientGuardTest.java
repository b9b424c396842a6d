package org.gpuagent.exporter;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The guard in front of a bare JDK HttpServer whose handler answers "ok". */
class SlowClientGuardTest {
    private HttpServer server;
    private SlowClientGuard guard;
    private final AtomicBoolean stop = new AtomicBoolean();
    private final List<Socket> sockets = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();

    private void start(SlowClientGuard.Limits limits) throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
        guard = SlowClientGuard.install(server, limits, "guarded");
        guard.protect(server.createContext("/", ex -> {
            byte[] b = "ok\n".getBytes(StandardCharsets.US_ASCII);
            ex.sendResponseHeaders(200, b.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(b);
            }
        }));
        server.start();
    }

    @AfterEach
    void close() throws Exception {
        stop.set(true);
        for (Socket s : sockets) {
            s.close();
        }
        for (Thread t : threads) {
            t.join(5000);
        }
        server.stop(0);
        guard.close();
    }

    /** A client that sends {@code head} then one more byte every 50 ms until stopped or closed. */
    private Socket trickle(String head) throws IOException {
        Socket s = new Socket(InetAddress.getLoopbackAddress(), server.getAddress().getPort());
        s.setSoTimeout(20_000);
        sockets.add(s);
        Thread t = new Thread(() -> {
            try {
                OutputStream out = s.getOutputStream();
                out.write(head.getBytes(StandardCharsets.US_ASCII));
                while (!stop.get()) {
                    out.write('x');
                    out.flush();
                    Thread.sleep(50);
                }
            } catch (IOException | InterruptedException e) {
                // closed
            }
        });
        t.setDaemon(true);
        t.start();
        threads.add(t);
        return s;
    }

    private String get() throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), server.getAddress().getPort())) {
            s.setSoTimeout(20_000);
            s.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        }
    }

    private static void assertClosedByServer(Socket s) {
        try {
            InputStream in = s.getInputStream();
            while (in.read() >= 0) {
                // whatever came before the close
            }
        } catch (java.net.SocketTimeoutException stillOpen) {
            throw new AssertionError("the server kept the connection open", stillOpen);
        } catch (IOException reset) {
            // closed with unread bytes: a reset
        }
    }

    @Test
    void aRequestWhoseHeadersTrickleIsClosedAtItsDeadlineAndOthersAreAnswered() throws Exception {
        start(new SlowClientGuard.Limits(Duration.ofMillis(500), 8, 2));
        List<Socket> slow = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            slow.add(trickle("GET / HTTP/1.1\r\nX-Slow: "));
        }
        for (int i = 0; i < 10; i++) {
            assertTrue(get().endsWith("ok\n"));
        }
        for (Socket s : slow) {
            assertClosedByServer(s);
        }
        awaitReading(0);
    }

    @Test
    void beyondMaxReadingTheLongestReadingRequestIsShed() throws Exception {
        start(new SlowClientGuard.Limits(Duration.ofSeconds(60), 3, 2));
        List<Socket> slow = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            slow.add(trickle("GET / HTTP/1.1\r\nX-Slow: "));
            awaitReading(i + 1);
        }
        assertTrue(get().endsWith("ok\n"), "answered although three requests were being read");
        assertClosedByServer(slow.get(0));
        awaitReading(2);
    }

    @Test
    void aBodyThatTricklesStaysUnderTheDeadline() throws Exception {
        start(new SlowClientGuard.Limits(Duration.ofMillis(500), 8, 1));
        Socket s = trickle("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n");
        assertClosedByServer(s);
        assertTrue(get().endsWith("ok\n"), "the only handler is free again");
    }

    private void awaitReading(int n) throws InterruptedException {
        long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (guard.reading() != n) {
            if (System.nanoTime() > end) {
                throw new AssertionError("reading " + guard.reading() + ", expected " + n);
            }
            Thread.sleep(10);
        }
    }
}
