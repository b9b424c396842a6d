package org.gpuagent.agent.api;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;

/**
 * What every API answer must be, whatever was asked (issue 14's fuzz oracle): one of the documented
 * statuses, never a 5xx; an error is a JSON object with a string {@code error} and {@code message}
 * and nothing that looks like a stack trace; a success is a JSON object (or nothing, for 204).
 */
final class FuzzOracle {
    static final Set<Integer> DOCUMENTED = Set.of(100, 200, 201, 204, 400, 401, 404, 405, 408, 409, 413, 414, 429, 431);
    /** The API's error codes (docs/http-api.md). */
    static final Set<String> CODES = Set.of("bad_request", "unauthorized", "not_found", "no_such_lease",
            "unknown_service", "method_not_allowed", "request_timeout", "insufficient_vram", "lease_evicting", "body_too_large",
            "request_line_too_long", "too_many_waiting", "too_many_connections", "headers_too_large");

    private FuzzOracle() {
    }

    static void check(int status, byte[] body, String context) {
        if (!DOCUMENTED.contains(status)) {
            throw new AssertionError("status " + status + " is not a documented answer: " + context);
        }
        if (status == 204 || status == 100) {
            if (body.length != 0) {
                throw new AssertionError(status + " with a body: " + context);
            }
            return;
        }
        String text = new String(body, StandardCharsets.UTF_8);
        Map<String, Object> m;
        try {
            m = JSON.std.mapFrom(text);
        } catch (IOException | RuntimeException e) {
            throw new AssertionError("status " + status + " without a JSON object body: " + text + " (" + context + ")");
        }
        if (m == null) {
            throw new AssertionError("status " + status + " with a null body: " + context);
        }
        if (status >= 400) {
            if (!(m.get("error") instanceof String code) || !(m.get("message") instanceof String msg) || msg.isBlank()) {
                throw new AssertionError("error without code and message: " + text + " (" + context + ")");
            }
            if (!CODES.contains(code)) {
                throw new AssertionError("an undocumented error code: " + text + " (" + context + ")");
            }
            // A message may quote the request, but escaped: one line, so never a stack trace.
            if (msg.indexOf('\n') >= 0 || msg.indexOf('\r') >= 0) {
                throw new AssertionError("a message of more than one line: " + text + " (" + context + ")");
            }
        }
    }
}
