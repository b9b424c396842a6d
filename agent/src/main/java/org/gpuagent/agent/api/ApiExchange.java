package org.gpuagent.agent.api;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * One API request as {@link HttpListener} read it, wholly (head and body), and the answer to it.
 * The handler runs on the connection's own thread, so it may block (an admission that waits) and
 * may ask {@link Request#clientGone()} meanwhile.
 */
final class ApiExchange {
    private static final JSON WRITER = JSON.std;

    private ApiExchange() {
    }

    /** {@code body} as the API's JSON. */
    static byte[] json(Map<String, Object> body) {
        try {
            return WRITER.asBytes(body);
        } catch (IOException e) {
            throw new IllegalStateException("writing JSON to memory failed", e);
        }
    }

    /**
     * @param method   the request method as sent (a token)
     * @param rawPath  the path, still percent-encoded, never empty
     * @param rawQuery the query, still percent-encoded; null when there is none
     * @param headers  header values by lower-case name, in the order received
     * @param body     the body, at most {@link ApiServer#MAX_BODY_BYTES}
     */
    record Request(String method, String rawPath, String rawQuery, Map<String, List<String>> headers, byte[] body,
            BooleanSupplier goneProbe) {

        /** The first value of a header (any case), or null. */
        String header(String name) {
            List<String> v = headers.get(name.toLowerCase(Locale.ROOT));
            return v == null || v.isEmpty() ? null : v.get(0);
        }

        /**
         * Whether the client has closed the connection or reset it: the answer would reach no one.
         * Reads nothing the next request needs (pipelined bytes are kept).
         */
        boolean clientGone() {
            return goneProbe.getAsBoolean();
        }
    }

    /**
     * @param undelivered null, or what to run when the answer cannot be delivered (the client left
     *                    first): the handler hands back what the answer gives (a granted lease). An
     *                    answer with such an action is withheld from a client that has closed its
     *                    side; any other answer is written regardless.
     */
    record Response(int status, Map<String, String> headers, byte[] body, String contentType, Runnable undelivered) {
        static Response noContent() {
            return new Response(204, Map.of(), new byte[0], null, null);
        }

        static Response json(int status, byte[] body) {
            return new Response(status, Map.of(), body, "application/json", null);
        }

        static Response json(int status, Map<String, Object> body) {
            return json(status, ApiExchange.json(body));
        }

        /** {@code {"error": code, "message": text, ...}} with the error's status and headers. */
        static Response error(ApiError e) {
            Response r = json(e.status(), e.body());
            for (Map.Entry<String, String> h : e.headers().entrySet()) {
                r = r.withHeader(h.getKey(), h.getValue());
            }
            return r;
        }

        Response withHeader(String name, String value) {
            Map<String, String> h = new LinkedHashMap<>(headers);
            h.put(name, value);
            return new Response(status, h, body, contentType, undelivered);
        }

        Response onUndelivered(Runnable r) {
            return new Response(status, headers, body, contentType, r);
        }
    }
}
