package org.gpuagent.agent.notify;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** A local HTTP receiver standing in for Alertmanager, ntfy, Gotify or Discord: it records every request. */
final class Receiver implements AutoCloseable {
    /** One request as received. */
    record Received(String method, String path, Map<String, List<String>> headers, String body) {
        String header(String name) {
            for (Map.Entry<String, List<String>> h : headers.entrySet()) {
                if (h.getKey().equalsIgnoreCase(name)) {
                    return h.getValue().get(0);
                }
            }
            return null;
        }
    }

    private final HttpServer server;
    private final LinkedBlockingQueue<Received> received = new LinkedBlockingQueue<>();
    /** The status the next requests get. */
    final AtomicInteger status = new AtomicInteger(200);

    private Receiver(HttpServer server) {
        this.server = server;
        server.createContext("/", ex -> {
            String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            String query = ex.getRequestURI().getRawQuery();
            // The status is fixed before the test can see the request, so a test that changes it
            // after taking a request changes only the requests after that one.
            int answer = status.get();
            received.add(new Received(ex.getRequestMethod(), ex.getRequestURI().getRawPath()
                    + (query == null ? "" : "?" + query), Map.copyOf(ex.getRequestHeaders()), body));
            ex.sendResponseHeaders(answer, -1);
            ex.close();
        });
        server.start();
    }

    static Receiver start() throws IOException {
        return on(0);
    }

    /** On a given port: for a receiver that "comes back" where a dead one was. */
    static Receiver on(int port) throws IOException {
        return new Receiver(HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 0));
    }

    int port() {
        return server.getAddress().getPort();
    }

    String base() {
        return "http://127.0.0.1:" + port();
    }

    /** The next request; fails after 30 s (a delivery is a real asynchronous HTTP request). */
    Received next() throws InterruptedException {
        Received r = received.poll(30, TimeUnit.SECONDS);
        if (r == null) {
            throw new AssertionError("no request arrived within 30 s");
        }
        return r;
    }

    /** Whether a request is waiting, without waiting. */
    boolean idle() {
        return received.isEmpty();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
