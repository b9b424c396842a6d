package org.gpuagent.agent.ollama;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One request of a {@link ProxyListener} connection and its answer: the request as
 * {@link ProxyRequestReader} read it, and the answer's status line, headers and body, framed by a
 * known length ({@link FixedOutput}) or chunked ({@link ChunkedOutput}). Headers are looked up
 * case-insensitively.
 */
final class ProxyExchange {
    private final Socket socket;
    private final String method;
    private final URI uri;
    private final Map<String, List<String>> requestHeaders;
    private final InputStream body;
    private final OutputStream out;
    private final Map<String, List<String>> responseHeaders = new LinkedHashMap<>();
    private final boolean keepAlive;
    private int status = -1;
    private OutputStream responseBody;
    private boolean closeAfter;

    ProxyExchange(Socket socket, String method, URI uri, Map<String, List<String>> headers, InputStream body,
            OutputStream out, boolean keepAlive) {
        this.socket = socket;
        this.method = method;
        this.uri = uri;
        this.requestHeaders = headers;
        this.body = body;
        this.out = out;
        this.keepAlive = keepAlive;
    }

    static String first(Map<String, List<String>> h, String name) {
        List<String> v = h.get(name);
        return v == null || v.isEmpty() ? null : v.get(0);
    }

    String method() {
        return method;
    }

    URI uri() {
        return uri;
    }

    Map<String, List<String>> requestHeaders() {
        return requestHeaders;
    }

    String requestHeader(String name) {
        return first(requestHeaders, name);
    }

    InputStream requestBody() {
        return body;
    }

    /** Headers of the answer, set before {@link #send}. */
    Map<String, List<String>> responseHeaders() {
        return responseHeaders;
    }

    void header(String name, String value) {
        responseHeaders.put(name, new ArrayList<>(List.of(value)));
    }

    /** The status sent; -1 before {@link #send}. */
    int status() {
        return status;
    }

    /**
     * Sends the status line and headers. {@code length} ≥ 0: a body of exactly that many bytes
     * follows; -1: chunked, each write of {@link #body()} one chunk sent at once; no body for
     * HEAD, 1xx, 204 and 304.
     */
    void send(int status, long length) throws IOException {
        if (this.status != -1) {
            throw new IllegalStateException("the answer has begun");
        }
        this.status = status;
        boolean none = method.equals("HEAD") || status == 204 || status == 304 || status < 200;
        StringBuilder h = new StringBuilder("HTTP/1.1 ").append(status).append(' ').append(reason(status))
                .append("\r\n");
        for (Map.Entry<String, List<String>> e : responseHeaders.entrySet()) {
            for (String v : e.getValue()) {
                if (v.indexOf('\r') < 0 && v.indexOf('\n') < 0) {
                    h.append(e.getKey()).append(": ").append(v).append("\r\n");
                }
            }
        }
        closeAfter = !keepAlive || responseHeaders.keySet().stream().anyMatch(k -> k.equalsIgnoreCase("Connection")
                && responseHeaders.get(k).contains("close"));
        if (!keepAlive) {
            h.append("Connection: close\r\n");
        }
        if (none) {
            responseBody = OutputStream.nullOutputStream();
            if (!method.equals("HEAD") && status >= 200 && status != 204 && status != 304) {
                h.append("Content-Length: 0\r\n");
            }
        } else if (length >= 0) {
            h.append("Content-Length: ").append(length).append("\r\n");
            responseBody = new FixedOutput(out, length);
        } else {
            h.append("Transfer-Encoding: chunked\r\n");
            responseBody = new ChunkedOutput(out);
        }
        h.append("\r\n");
        out.write(h.toString().getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
    }

    OutputStream body() {
        if (responseBody == null) {
            throw new IllegalStateException("send the status first");
        }
        return responseBody;
    }

    /** Ends the connection now (a client too slow with its body). */
    void abort() {
        closeAfter = true;
        ProxyListener.quietClose(socket);
    }

    /**
     * Completes the answer (a 500 if none was sent) and says whether the connection can carry
     * another request: the answer was complete and the request body read to its end.
     */
    boolean finish() throws IOException {
        if (status == -1) {
            OllamaError.answerRaw(out, 500, "the proxy gave no answer");
            return false;
        }
        responseBody.close();
        out.flush();
        if (closeAfter) {
            return false;
        }
        // what the handler left of the request body is skipped, a little at most
        long skipped = 0;
        byte[] b = new byte[8192];
        int n;
        while ((n = body.read(b)) >= 0) {
            skipped += n;
            if (skipped > 64 * 1024) {
                return false;
            }
        }
        return !(responseBody instanceof FixedOutput f) || f.complete();
    }

    static String reason(int status) {
        return switch (status) {
            case 200 -> "OK";
            case 201 -> "Created";
            case 204 -> "No Content";
            case 304 -> "Not Modified";
            case 400 -> "Bad Request";
            case 404 -> "Not Found";
            case 408 -> "Request Timeout";
            case 413 -> "Content Too Large";
            case 431 -> "Request Header Fields Too Large";
            case 500 -> "Internal Server Error";
            case 501 -> "Not Implemented";
            case 502 -> "Bad Gateway";
            case 503 -> "Service Unavailable";
            default -> "Status";
        };
    }
}
