package org.gpuagent.bench.agent;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A minimal HTTP/1.1 client on one keep-alive connection: any method, an optional JSON body, a
 * bearer token; reads the status and a Content-Length or chunked body. Small on purpose, so the
 * capacity figures measure the agent, not a client sharing its cores. It reads responses the way
 * {@code bench.exporter.KeepAliveScraper} does, but is not that class: the scraper answers only
 * GET 200s into one reused buffer (no allocation on the scrape benchmark's measured path), while
 * this one needs methods, bodies, any status and the body as text; bending one into the other
 * would change what the existing scrape figures measure.
 */
final class KeepAliveClient implements AutoCloseable {
    /** A status and its body as text. */
    record Response(int status, String body) {
    }

    private final InetSocketAddress server;
    private final String token;
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    KeepAliveClient(InetSocketAddress server, String token) throws IOException {
        this.server = server;
        this.token = token;
        socket = new Socket();
        socket.setTcpNoDelay(true);
        socket.connect(server, 5_000);
        socket.setSoTimeout(30_000);
        in = new BufferedInputStream(socket.getInputStream(), 64 * 1024);
        out = socket.getOutputStream();
    }

    Response send(String method, String path, String jsonBody) throws IOException {
        StringBuilder r = new StringBuilder(256).append(method).append(' ').append(path).append(" HTTP/1.1\r\nHost: ")
                .append(server.getHostString()).append(':').append(server.getPort()).append("\r\n");
        if (token != null) {
            r.append("Authorization: Bearer ").append(token).append("\r\n");
        }
        byte[] body = jsonBody == null ? new byte[0] : jsonBody.getBytes(StandardCharsets.UTF_8);
        if (jsonBody != null) {
            r.append("Content-Type: application/json\r\nContent-Length: ").append(body.length).append("\r\n");
        }
        out.write(r.append("\r\n").toString().getBytes(StandardCharsets.US_ASCII));
        out.write(body);
        out.flush();
        String status = line();
        if (!status.startsWith("HTTP/1.1 ") || status.length() < 12) {
            throw new IOException("not an HTTP/1.1 status line: " + status);
        }
        int code = Integer.parseInt(status.substring(9, 12));
        int length = 0;
        boolean chunked = false;
        for (String h = line(); !h.isEmpty(); h = line()) {
            if (h.regionMatches(true, 0, "content-length:", 0, 15)) {
                length = Integer.parseInt(h.substring(15).trim());
            } else if (h.regionMatches(true, 0, "transfer-encoding:", 0, 18)) {
                chunked = h.substring(18).trim().equalsIgnoreCase("chunked");
            }
        }
        if (!chunked) {
            return new Response(code, new String(read(length), StandardCharsets.UTF_8));
        }
        StringBuilder text = new StringBuilder();
        for (int size = Integer.parseInt(line().trim(), 16); size > 0; size = Integer.parseInt(line().trim(), 16)) {
            text.append(new String(read(size), StandardCharsets.UTF_8));
            line();
        }
        line();
        return new Response(code, text.toString());
    }

    private byte[] read(int length) throws IOException {
        byte[] b = new byte[length];
        int read = 0;
        while (read < length) {
            int n = in.read(b, read, length - read);
            if (n < 0) {
                throw new IOException("connection closed after " + read + " of " + length + " bytes");
            }
            read += n;
        }
        return b;
    }

    private String line() throws IOException {
        StringBuilder b = new StringBuilder(64);
        int c;
        while ((c = in.read()) >= 0) {
            if (c == '\n') {
                int len = b.length();
                if (len > 0 && b.charAt(len - 1) == '\r') {
                    b.setLength(len - 1);
                }
                return b.toString();
            }
            b.append((char) c);
        }
        throw new IOException("connection closed while reading the response");
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
