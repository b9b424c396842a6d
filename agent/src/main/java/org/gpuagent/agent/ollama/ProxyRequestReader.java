package org.gpuagent.agent.ollama;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reads the next request of a {@link ProxyListener} connection: the request line (at most
 * {@value #MAX_LINE} bytes, as is each header line), at most {@value #MAX_HEADERS} headers of
 * {@value #MAX_HEADER_BYTES} bytes in all, and the body's framing ({@code Content-Length} or
 * chunked). The body itself is left on the connection, streamed as the handler reads it. What
 * cannot be read as HTTP/1.1 is a {@link BadRequest}.
 *
 * <p>Not the agent API's {@code RequestReader}: that one reads whole bodies of at most 64 KiB
 * under other limits and answers in the API's error shape; here bodies stream through to Ollama
 * and errors are answered in Ollama's shape.
 */
final class ProxyRequestReader {
    static final int MAX_LINE = 8 * 1024;
    static final int MAX_HEADER_BYTES = 64 * 1024;
    static final int MAX_HEADERS = 100;

    private ProxyRequestReader() {
    }

    /** The next request on the connection; null when the client closed or idled out before one. */
    static ProxyExchange read(Socket socket, InputStream in, OutputStream out) throws IOException {
        String requestLine;
        try {
            requestLine = line(in, true);
        } catch (SocketTimeoutException e) {
            return null;
        }
        if (requestLine == null) {
            return null;
        }
        String[] parts = requestLine.split(" ", -1);
        if (parts.length != 3 || !parts[2].startsWith("HTTP/1.") || !parts[0].matches("[A-Z]{1,16}")) {
            throw new BadRequest(400, "the request line is not HTTP/1.1");
        }
        URI uri;
        try {
            uri = new URI(parts[1]);
        } catch (URISyntaxException e) {
            throw new BadRequest(400, "the request target is not a valid URI");
        }
        if (uri.getRawPath() == null || !uri.getRawPath().startsWith("/")) {
            throw new BadRequest(400, "the request target must be a path");
        }
        Map<String, List<String>> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        int total = 0;
        int count = 0;
        for (String h = line(in, false); !h.isEmpty(); h = line(in, false)) {
            total += h.length();
            if (++count > MAX_HEADERS || total > MAX_HEADER_BYTES) {
                throw new BadRequest(431, "the request headers are too large");
            }
            int colon = h.indexOf(':');
            if (colon <= 0) {
                throw new BadRequest(400, "a request header has no name");
            }
            headers.computeIfAbsent(h.substring(0, colon).strip(), k -> new ArrayList<>())
                    .add(h.substring(colon + 1).strip());
        }
        String te = ProxyExchange.first(headers, "Transfer-Encoding");
        String cl = ProxyExchange.first(headers, "Content-Length");
        InputStream body;
        if (te != null) {
            if (!te.equalsIgnoreCase("chunked")) {
                throw new BadRequest(501, "only chunked transfer encoding is understood");
            }
            body = new ChunkedInput(in);
        } else if (cl != null) {
            long n;
            try {
                n = Long.parseLong(cl);
            } catch (NumberFormatException e) {
                throw new BadRequest(400, "Content-Length is not a number");
            }
            if (n < 0) {
                throw new BadRequest(400, "Content-Length is negative");
            }
            body = new BoundedInput(in, n);
        } else {
            body = InputStream.nullInputStream();
        }
        String connection = ProxyExchange.first(headers, "Connection");
        boolean keepAlive = parts[2].equals("HTTP/1.1")
                ? connection == null || !connection.equalsIgnoreCase("close")
                : connection != null && connection.equalsIgnoreCase("keep-alive");
        return new ProxyExchange(socket, parts[0], uri, headers, body, out, keepAlive);
    }

    /** A CRLF- (or LF-) terminated line; null at EOF before any byte when {@code eofOk}. */
    static String line(InputStream in, boolean eofOk) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream(128);
        int c;
        while ((c = in.read()) >= 0) {
            if (c == '\n') {
                byte[] bytes = b.toByteArray();
                int n = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
                return new String(bytes, 0, n, StandardCharsets.ISO_8859_1);
            }
            if (b.size() >= MAX_LINE) {
                throw new BadRequest(431, "a request line or header is longer than " + MAX_LINE + " bytes");
            }
            b.write(c);
        }
        if (eofOk && b.size() == 0) {
            return null;
        }
        throw new IOException("the connection closed inside a request");
    }
}
