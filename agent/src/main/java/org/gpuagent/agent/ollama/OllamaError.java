package org.gpuagent.agent.ollama;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * The proxy's own error answers, in Ollama's shape ({@code {"error": message}}) so that Ollama's
 * clients show the sentence: to a request the proxy refuses or cannot forward, and to a connection
 * whose request cannot be read at all.
 */
final class OllamaError {
    private OllamaError() {
    }

    /** {@code {"error": message}}, UTF-8. */
    static byte[] body(String message) throws IOException {
        return JSON.std.asBytes(Map.of("error", message));
    }

    /** {@code {"error": message}} with {@code status}; does nothing when the answer has already begun. */
    static void answer(ProxyExchange ex, int status, String message, Optional<Duration> retryAfter) {
        if (ex.status() != -1) {
            return;
        }
        try {
            byte[] body = body(message);
            ex.header("Content-Type", "application/json; charset=utf-8");
            if (status == 408 || status == 413) {
                // the rest of the body is not worth reading: end the connection after this answer
                ex.header("Connection", "close");
            }
            retryAfter.ifPresent(d -> ex.header("Retry-After", Long.toString(Math.max(1, (d.toMillis() + 999) / 1000))));
            ex.send(status, body.length);
            ex.body().write(body);
        } catch (IOException e) {
            // the client is gone: nobody to tell
        }
    }

    /**
     * The error written straight to the connection, outside any {@link ProxyExchange} (a request
     * that could not be read, a connection over the limit, a handler that gave no answer); the
     * connection closes after it.
     */
    static void answerRaw(OutputStream out, int status, String message) throws IOException {
        byte[] body = body(message);
        out.write(("HTTP/1.1 " + status + " " + ProxyExchange.reason(status) + "\r\nContent-Type: application/json; "
                + "charset=utf-8\r\nConnection: close\r\nContent-Length: " + body.length + "\r\n\r\n")
                .getBytes(StandardCharsets.ISO_8859_1));
        out.write(body);
        out.flush();
    }
}
