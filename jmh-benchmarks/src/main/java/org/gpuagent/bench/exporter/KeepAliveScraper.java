package org.gpuagent.bench.exporter;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A minimal HTTP/1.1 client on one keep-alive connection, as a Prometheus server scrapes: it sends
 * one fixed request and reads the status, the headers and the body (by Content-Length, or chunked
 * as the JDK server sends a compressed one, trailers ignored). Kept this small so
 * that the benchmark measures the server and not a heavyweight client on the same two cores.
 */
final class KeepAliveScraper implements AutoCloseable {
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private final byte[] request;
    private byte[] body = new byte[64 * 1024];

    KeepAliveScraper(InetSocketAddress server, String path, String... headers) throws IOException {
        socket = new Socket();
        socket.setTcpNoDelay(true);
        socket.connect(server, 5_000);
        socket.setSoTimeout(10_000);
        in = new BufferedInputStream(socket.getInputStream(), 64 * 1024);
        out = socket.getOutputStream();
        StringBuilder r = new StringBuilder("GET ").append(path).append(" HTTP/1.1\r\nHost: ")
                .append(server.getHostString()).append(':').append(server.getPort()).append("\r\n");
        for (int i = 0; i + 1 < headers.length; i += 2) {
            r.append(headers[i]).append(": ").append(headers[i + 1]).append("\r\n");
        }
        request = r.append("\r\n").toString().getBytes(StandardCharsets.US_ASCII);
    }

    /** One request; returns the body length (a chunked body's, summed). */
    int get() throws IOException {
        out.write(request);
        out.flush();
        String status = line();
        if (!status.startsWith("HTTP/1.1 200")) {
            throw new IOException("unexpected status: " + status);
        }
        int length = -1;
        boolean chunked = false;
        for (String h = line(); !h.isEmpty(); h = line()) {
            if (h.regionMatches(true, 0, "content-length:", 0, 15)) {
                length = Integer.parseInt(h.substring(15).trim());
            } else if (h.regionMatches(true, 0, "transfer-encoding:", 0, 18)) {
                chunked = h.substring(18).trim().equalsIgnoreCase("chunked");
            }
        }
        if (chunked) {
            int total = 0;
            for (int size = Integer.parseInt(line().trim(), 16); size > 0; size = Integer.parseInt(line().trim(), 16)) {
                read(size);
                total += size;
                line();
            }
            line();
            return total;
        }
        if (length < 0) {
            throw new IOException("neither Content-Length nor chunked in the response");
        }
        read(length);
        return length;
    }

    private void read(int length) throws IOException {
        if (body.length < length) {
            body = new byte[length];
        }
        int read = 0;
        while (read < length) {
            int n = in.read(body, read, length - read);
            if (n < 0) {
                throw new IOException("connection closed after " + read + " of " + length + " bytes");
            }
            read += n;
        }
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
        throw new IOException("connection closed while reading headers");
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    @Override
    public String toString() {
        return "KeepAliveScraper[" + socket.getRemoteSocketAddress() + "]";
    }
}
