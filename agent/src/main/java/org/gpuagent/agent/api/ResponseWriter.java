package org.gpuagent.agent.api;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Writes the API's answers as HTTP/1.1: the status line, the answer's headers plus
 * {@code Content-Type}, {@code Cache-Control: no-store} (an answer describes the ledger at one
 * moment), {@code Connection: close} when the connection ends after it, and
 * {@code Content-Length} (none for 204).
 */
final class ResponseWriter {
    private ResponseWriter() {
    }

    /** Writes {@code r} (its head only for {@code HEAD}); false when the connection failed. */
    static boolean write(OutputStream out, ApiExchange.Response r, boolean keepAlive, boolean headOnly) {
        Map<String, String> h = new LinkedHashMap<>(r.headers());
        if (r.contentType() != null) {
            h.put("Content-Type", r.contentType());
        }
        h.put("Cache-Control", "no-store");
        if (!keepAlive) {
            h.put("Connection", "close");
        }
        try {
            out.write(head(r.status(), h, r.status() == 204 ? -1 : r.body().length));
            if (!headOnly && r.status() != 204) {
                out.write(r.body());
            }
            out.flush();
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /** {@code 100 Continue}: the client may send the body it announced. */
    static void writeContinue(OutputStream out) throws IOException {
        out.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    /** Answers a connection the listener cannot take (every connection busy being answered) with 429, and closes it. */
    static void refuse(Socket s) {
        try (s) {
            s.setSoTimeout(1000);
            ApiError e = new ApiError(429, "too_many_connections",
                    "every connection is busy being answered; ask again later");
            OutputStream out = s.getOutputStream();
            byte[] body = ApiExchange.json(e.body());
            out.write(head(429, Map.of("Content-Type", "application/json", "Connection", "close"), body.length));
            out.write(body);
            out.flush();
        } catch (IOException ignored) {
            // a refused client that is also gone
        }
    }

    /** The status line and headers; {@code length} −1 writes no Content-Length. */
    static byte[] head(int status, Map<String, String> headers, int length) {
        StringBuilder b = new StringBuilder(160);
        b.append("HTTP/1.1 ").append(status).append(' ').append(reason(status)).append("\r\n");
        headers.forEach((k, v) -> b.append(k).append(": ").append(v).append("\r\n"));
        if (length >= 0) {
            b.append("Content-Length: ").append(length).append("\r\n");
        }
        b.append("\r\n");
        return b.toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    private static String reason(int status) {
        return switch (status) {
            case 200 -> "OK";
            case 201 -> "Created";
            case 204 -> "No Content";
            case 400 -> "Bad Request";
            case 401 -> "Unauthorized";
            case 404 -> "Not Found";
            case 405 -> "Method Not Allowed";
            case 408 -> "Request Timeout";
            case 409 -> "Conflict";
            case 413 -> "Content Too Large";
            case 414 -> "URI Too Long";
            case 429 -> "Too Many Requests";
            case 431 -> "Request Header Fields Too Large";
            case 500 -> "Internal Server Error";
            case 503 -> "Service Unavailable";
            default -> "Status";
        };
    }
}
