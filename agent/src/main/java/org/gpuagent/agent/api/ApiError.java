package org.gpuagent.agent.api;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * An API error answer: HTTP status, a stable code and a sentence; rendered as
 * {@code {"error": code, "message": text, ...extra}}. Thrown inside the handler and turned into the
 * response; it never carries a stack trace out.
 */
public final class ApiError extends Exception {
    private static final long serialVersionUID = 1L;

    private final int status;
    private final String code;
    private final transient Map<String, Object> extra;
    private final transient Map<String, String> headers;

    public ApiError(int status, String code, String message) {
        this(status, code, message, Map.of());
    }

    public ApiError(int status, String code, String message, Map<String, Object> extra) {
        this(status, code, message, extra, Map.of());
    }

    private ApiError(int status, String code, String message, Map<String, Object> extra, Map<String, String> headers) {
        super(message, null, false, false);
        this.status = status;
        this.code = code;
        this.extra = Map.copyOf(extra);
        this.headers = Map.copyOf(headers);
    }

    /** This error answered with one more response header (Allow, WWW-Authenticate). */
    public ApiError withHeader(String name, String value) {
        Map<String, String> h = new LinkedHashMap<>(headers);
        h.put(name, value);
        return new ApiError(status, code, getMessage(), extra, h);
    }

    /** Response headers that go with the body. */
    public Map<String, String> headers() {
        return headers;
    }

    public static ApiError badRequest(String message) {
        return new ApiError(400, "bad_request", message);
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }

    public Map<String, Object> body() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("error", code);
        m.put("message", getMessage());
        m.putAll(extra);
        return m;
    }
}
