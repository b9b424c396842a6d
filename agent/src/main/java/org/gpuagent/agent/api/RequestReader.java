package org.gpuagent.agent.api;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads one HTTP/1.1 request of a connection, head and body, under the API's limits; anything
 * the limits or the protocol refuse is a {@link Refusal} with the API's error code:
 * <ul>
 *   <li>request line at most {@value #MAX_REQUEST_LINE} bytes (414 {@code request_line_too_long}),
 *       head at most {@value #MAX_HEAD_BYTES} bytes and {@value #MAX_HEADERS} header fields (431
 *       {@code headers_too_large}), body at most {@link ApiServer#MAX_BODY_BYTES} (413
 *       {@code body_too_large});</li>
 *   <li>a malformed request line, target, header, length or chunk, an unsupported transfer coding
 *       or protocol version, a request cut short: 400 {@code bad_request}.</li>
 * </ul>
 * How long the reading may take is the {@link SocketInput}'s deadline, set by the listener.
 */
final class RequestReader {
    static final int MAX_REQUEST_LINE = 8 * 1024;
    static final int MAX_HEAD_BYTES = 16 * 1024;
    static final int MAX_HEADERS = 64;
    /**
     * A declared body over the limit but under this is read and dropped, so the client reads a
     * clean 413 instead of a reset connection; a larger one is refused unread.
     */
    static final int DRAIN_LIMIT = 1024 * 1024;

    /**
     * @param rawPath   the path, still percent-encoded, never empty
     * @param rawQuery  the query, still percent-encoded; null when there is none
     * @param headers   header values by lower-case name, in the order received
     * @param keepAlive whether the connection stays open after the answer (HTTP/1.1 unless
     *                  {@code Connection: close}; HTTP/1.0 only with {@code keep-alive})
     */
    record Head(String method, String rawPath, String rawQuery, Map<String, List<String>> headers,
            boolean keepAlive) {
    }

    private final SocketInput in;
    private final OutputStream out;

    /** @param out the connection's output, for {@code 100 Continue} */
    RequestReader(SocketInput in, OutputStream out) {
        this.in = in;
        this.out = out;
    }

    /** The request line and headers. */
    Head head() throws IOException, Refusal {
        String line = in.line(MAX_REQUEST_LINE, () -> new Refusal(414, "request_line_too_long",
                "the request line is longer than " + MAX_REQUEST_LINE + " bytes"));
        String[] parts = line.split(" ", -1);
        if (parts.length != 3 || !isToken(parts[0])) {
            throw new Refusal(400, "bad_request", "malformed request line (expected METHOD /path HTTP/1.1)");
        }
        String version = parts[2];
        if (!version.equals("HTTP/1.1") && !version.equals("HTTP/1.0")) {
            throw new Refusal(400, "bad_request", "unsupported protocol version '" + printable(version)
                    + "' (HTTP/1.1 or HTTP/1.0)");
        }
        String target = parts[1];
        URI uri;
        try {
            uri = new URI(target);
        } catch (URISyntaxException e) {
            throw new Refusal(400, "bad_request", "malformed request target: " + printable(e.getMessage()));
        }
        String rawPath = uri.getRawPath();
        if (!target.startsWith("/") && !(uri.isAbsolute() && "http".equalsIgnoreCase(uri.getScheme()))
                || rawPath == null || rawPath.isEmpty()) {
            throw new Refusal(400, "bad_request", "the request target must be a path such as /v1/status");
        }
        Map<String, List<String>> headers = new LinkedHashMap<>();
        int headBytes = line.length();
        int count = 0;
        while (true) {
            String h = in.line(MAX_HEAD_BYTES, () -> new Refusal(431, "headers_too_large",
                    "the request's headers are larger than " + MAX_HEAD_BYTES + " bytes"));
            if (h.isEmpty()) {
                break;
            }
            headBytes += h.length() + 2;
            if (headBytes > MAX_HEAD_BYTES || ++count > MAX_HEADERS) {
                throw new Refusal(431, "headers_too_large", "the request's headers are larger than "
                        + MAX_HEAD_BYTES + " bytes or more than " + MAX_HEADERS + " fields");
            }
            int colon = h.indexOf(':');
            if (colon <= 0 || !isToken(h.substring(0, colon))) {
                throw new Refusal(400, "bad_request", "malformed header line");
            }
            String name = h.substring(0, colon).toLowerCase(Locale.ROOT);
            String value = h.substring(colon + 1).strip();
            headers.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
        }
        boolean keepAlive = version.equals("HTTP/1.1") ? !hasToken(headers.get("connection"), "close")
                : hasToken(headers.get("connection"), "keep-alive");
        headers.replaceAll((k, v) -> Collections.unmodifiableList(v));
        return new Head(parts[0], rawPath, uri.getRawQuery(), Collections.unmodifiableMap(headers), keepAlive);
    }

    /**
     * The body {@code head} announces, whole: by Content-Length or chunked, at most
     * {@link ApiServer#MAX_BODY_BYTES}; {@code 100 Continue} first when the client waits for it. A
     * declared body over the limit but within {@link #DRAIN_LIMIT} is read and dropped before the
     * 413, so the client reads a clean answer instead of a reset connection.
     */
    byte[] body(Head head) throws IOException, Refusal {
        List<String> te = head.headers().get("transfer-encoding");
        List<String> cl = head.headers().get("content-length");
        boolean continueExpected = hasToken(head.headers().get("expect"), "100-continue");
        if (te != null) {
            if (cl != null) {
                throw new Refusal(400, "bad_request", "both Content-Length and Transfer-Encoding");
            }
            if (te.size() != 1 || !te.get(0).equalsIgnoreCase("chunked")) {
                throw new Refusal(400, "bad_request", "unsupported Transfer-Encoding '"
                        + printable(String.join(", ", te)) + "' (only chunked)");
            }
            if (continueExpected) {
                ResponseWriter.writeContinue(out);
            }
            return chunked();
        }
        if (cl == null) {
            return new byte[0];
        }
        long length = contentLength(cl);
        if (length > ApiServer.MAX_BODY_BYTES) {
            if (length <= DRAIN_LIMIT && !continueExpected) {
                in.skip(length);
            }
            throw tooLarge();
        }
        if (continueExpected && length > 0) {
            ResponseWriter.writeContinue(out);
        }
        return in.bytes((int) length);
    }

    /** A chunked body, at most {@link ApiServer#MAX_BODY_BYTES} of data; trailers are read and dropped. */
    private byte[] chunked() throws IOException, Refusal {
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        while (true) {
            String sizeLine = in.line(1024, () -> new Refusal(400, "bad_request", "malformed chunk size"));
            int semi = sizeLine.indexOf(';');
            String hex = (semi < 0 ? sizeLine : sizeLine.substring(0, semi)).strip();
            if (!hex.matches("[0-9A-Fa-f]{1,8}")) {
                throw new Refusal(400, "bad_request", "malformed chunk size");
            }
            long size = Long.parseLong(hex, 16);
            if (size == 0) {
                int trailers = 0;
                while (!in.line(MAX_HEAD_BYTES, () -> new Refusal(431, "headers_too_large", "trailer too large"))
                        .isEmpty()) {
                    if (++trailers > MAX_HEADERS) {
                        throw new Refusal(431, "headers_too_large", "too many trailer fields");
                    }
                }
                return data.toByteArray();
            }
            if (data.size() + size > ApiServer.MAX_BODY_BYTES) {
                throw tooLarge();
            }
            data.write(in.bytes((int) size));
            if (!in.line(2, () -> new Refusal(400, "bad_request", "malformed chunk")).isEmpty()) {
                throw new Refusal(400, "bad_request", "malformed chunk");
            }
        }
    }

    private static Refusal tooLarge() {
        return new Refusal(413, "body_too_large", "the request body is larger than " + ApiServer.MAX_BODY_BYTES
                + " bytes");
    }

    private static long contentLength(List<String> values) throws Refusal {
        long length = -1;
        for (String v : values) {
            for (String part : v.split(",", -1)) {
                String p = part.strip();
                if (!p.matches("[0-9]{1,18}")) {
                    throw new Refusal(400, "bad_request", "Content-Length is not a number");
                }
                long n = Long.parseLong(p);
                if (length >= 0 && n != length) {
                    throw new Refusal(400, "bad_request", "conflicting Content-Length values");
                }
                length = n;
            }
        }
        return length;
    }

    private static boolean isToken(String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
                    || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    private static boolean hasToken(List<String> values, String token) {
        if (values == null) {
            return false;
        }
        for (String v : values) {
            for (String part : v.split(",")) {
                if (part.strip().equalsIgnoreCase(token)) {
                    return true;
                }
            }
        }
        return false;
    }

    private static String printable(String s) {
        return LeaseRequestParser.printable(s);
    }
}
