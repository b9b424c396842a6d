package org.gpuagent.bench.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.sun.net.httpserver.HttpServer;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The capacity client against the JDK's server: methods, bodies, the token, both body framings, one connection. */
class KeepAliveClientTest {
    HttpServer server;
    final List<String> seen = new ArrayList<>();

    @BeforeEach
    void start() throws Exception {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", ex -> {
            String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            synchronized (seen) {
                seen.add(ex.getRequestMethod() + " " + ex.getRequestURI() + " " + ex.getRequestHeaders().getFirst("Authorization")
                        + " " + body + " from " + ex.getRemoteAddress().getPort());
            }
            byte[] answer = ("{\"lease\":{\"id\":7},\"echo\":" + body.length() + "}").getBytes(StandardCharsets.UTF_8);
            if (ex.getRequestMethod().equals("DELETE")) {
                ex.sendResponseHeaders(204, -1);
            } else if (ex.getRequestURI().getPath().equals("/chunked")) {
                ex.sendResponseHeaders(200, 0);
                try (OutputStream out = ex.getResponseBody()) {
                    out.write(answer, 0, 5);
                    out.flush();
                    out.write(answer, 5, answer.length - 5);
                }
            } else {
                ex.sendResponseHeaders(201, answer.length);
                try (OutputStream out = ex.getResponseBody()) {
                    out.write(answer);
                }
            }
            ex.close();
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    @Test
    void sendsAndReadsOnOneKeepAliveConnection() throws Exception {
        try (KeepAliveClient c = new KeepAliveClient(server.getAddress(), "t0ken")) {
            assertEquals(new KeepAliveClient.Response(201, "{\"lease\":{\"id\":7},\"echo\":2}"),
                    c.send("POST", "/v1/leases", "{}"));
            assertEquals(new KeepAliveClient.Response(204, ""), c.send("DELETE", "/v1/leases/7", null));
            assertEquals(new KeepAliveClient.Response(200, "{\"lease\":{\"id\":7},\"echo\":0}"), c.send("GET", "/chunked", null));
        }
        assertEquals(3, seen.size());
        assertEquals("POST /v1/leases Bearer t0ken {}", seen.get(0).substring(0, seen.get(0).indexOf(" from")));
        String port = seen.get(0).substring(seen.get(0).indexOf(" from"));
        for (String s : seen) {
            assertEquals(port, s.substring(s.indexOf(" from")), "one connection for all three: " + seen);
        }
    }
}
