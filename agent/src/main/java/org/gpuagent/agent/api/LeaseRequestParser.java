package org.gpuagent.agent.api;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import org.gpuagent.agent.config.ByteSize;
import org.gpuagent.scheduler.AdmissionRequest;

/**
 * Reads a {@code POST /v1/leases} body:
 * {@code {"service":"ollama","bytes":2684354560,"holder":"systemd:ollama.service","waitMs":30000,"pids":[1234]}}.
 *
 * <ul>
 *   <li>{@code service}: required, a string.</li>
 *   <li>{@code bytes}: optional (the service's default request); a positive whole JSON number of
 *       bytes up to 2^63−1, or a size string as the CLI takes it ({@code "2.5GiB"},
 *       {@code "1500MiB"}, {@code "512M"}, {@code "1073741824"}). Zero, negative, fractional,
 *       larger than 2^63−1 or unit-less nonsense ({@code "12 parsecs"}) is a 400.</li>
 *   <li>{@code holder}: optional string, 1-512 printable characters.</li>
 *   <li>{@code waitMs}: optional whole number ≥ 0; above {@code maxWait} it is cut to
 *       {@code maxWait}.</li>
 *   <li>{@code pids}: optional array of positive whole numbers: processes that will use the lease
 *       (reconciliation keeps the lease while any lives).</li>
 * </ul>
 * Any other field, a duplicate field, or anything that is not one JSON object is a 400.
 */
public final class LeaseRequestParser {
    static final Set<String> FIELDS = Set.of("service", "bytes", "holder", "waitMs", "pids");
    private static final BigInteger MAX_LONG = BigInteger.valueOf(Long.MAX_VALUE);
    private static final JsonFactory FACTORY = new JsonFactory();
    private static final JSON READER = JSON.builder().enable(JSON.Feature.FAIL_ON_DUPLICATE_MAP_KEYS,
            JSON.Feature.USE_BIG_DECIMAL_FOR_FLOATS).build();

    private LeaseRequestParser() {
    }

    public static AdmissionRequest parse(byte[] body, Duration maxWait) throws ApiError {
        Map<String, Object> m = object(body);
        for (String k : m.keySet()) {
            if (!FIELDS.contains(k)) {
                throw ApiError.badRequest("unknown field '" + k + "' (known: service, bytes, holder, waitMs, pids)");
            }
        }
        Object service = m.get("service");
        if (!(service instanceof String s) || s.isBlank()) {
            throw ApiError.badRequest("'service' is required and must be a service name");
        }
        OptionalLong bytes = m.containsKey("bytes") ? OptionalLong.of(bytes(m.get("bytes"))) : OptionalLong.empty();
        Object holder = m.get("holder");
        if (holder != null && !(holder instanceof String)) {
            throw ApiError.badRequest("'holder' must be a string such as \"systemd:ollama.service\"");
        }
        Duration wait = Duration.ZERO;
        if (m.get("waitMs") != null) {
            long ms = wholeNumber(m.get("waitMs"), "waitMs");
            if (ms < 0) {
                throw ApiError.badRequest("'waitMs' must not be negative, got " + ms);
            }
            wait = Duration.ofMillis(ms).compareTo(maxWait) > 0 ? maxWait : Duration.ofMillis(ms);
        }
        List<Long> pids = new ArrayList<>();
        if (m.get("pids") != null) {
            if (!(m.get("pids") instanceof List<?> list)) {
                throw ApiError.badRequest("'pids' must be an array of process ids");
            }
            for (Object p : list) {
                long pid = wholeNumber(p, "pids");
                if (pid <= 0) {
                    throw ApiError.badRequest("'pids' holds " + pid + ", which is not a process id");
                }
                pids.add(pid);
            }
        }
        try {
            return new AdmissionRequest(s.strip(), bytes, java.util.Optional.ofNullable((String) holder), pids, wait);
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest(e.getMessage());
        }
    }

    /** The body as one JSON object. */
    static Map<String, Object> object(byte[] body) throws ApiError {
        String text = new String(body, StandardCharsets.UTF_8);
        if (text.isBlank()) {
            throw ApiError.badRequest("the body is empty; send a JSON object such as {\"service\":\"ollama\"}");
        }
        Object parsed;
        try (JsonParser p = FACTORY.createParser(text)) {
            parsed = READER.anyFrom(p);
            if (p.nextToken() != null) {
                throw ApiError.badRequest("malformed JSON: something follows the object");
            }
        } catch (JsonProcessingException e) {
            throw ApiError.badRequest("malformed JSON: " + firstLine(e.getOriginalMessage()));
        } catch (IOException e) {
            throw ApiError.badRequest("malformed JSON: " + firstLine(e.getMessage()));
        }
        if (!(parsed instanceof Map<?, ?> map)) {
            throw ApiError.badRequest("the body must be a JSON object such as {\"service\":\"ollama\"}");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> m = (Map<String, Object>) map;
        return m;
    }

    /** A request size: a positive whole number of bytes (JSON number) or a size string. */
    static long bytes(Object v) throws ApiError {
        if (v instanceof String s) {
            try {
                return ByteSize.parse(s);
            } catch (IllegalArgumentException e) {
                throw ApiError.badRequest("'bytes': " + e.getMessage());
            }
        }
        if (v == null || v instanceof Boolean || !(v instanceof Number)) {
            throw ApiError.badRequest("'bytes' must be a positive number of bytes or a size such as \"2.5GiB\"");
        }
        long b = wholeNumber(v, "bytes");
        if (b <= 0) {
            throw ApiError.badRequest("'bytes' must be positive, got " + b);
        }
        return b;
    }

    private static long wholeNumber(Object v, String field) throws ApiError {
        BigInteger n;
        if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte) {
            return ((Number) v).longValue();
        } else if (v instanceof BigInteger b) {
            n = b;
        } else if (v instanceof BigDecimal d) {
            try {
                n = d.toBigIntegerExact();
            } catch (ArithmeticException e) {
                throw ApiError.badRequest("'" + field + "' must be a whole number, got " + d.toPlainString());
            }
        } else if (v instanceof Double || v instanceof Float) {
            double d = ((Number) v).doubleValue();
            if (d != Math.rint(d) || Double.isInfinite(d)) {
                throw ApiError.badRequest("'" + field + "' must be a whole number, got " + d);
            }
            n = BigDecimal.valueOf(d).toBigInteger();
        } else {
            throw ApiError.badRequest("'" + field + "' must be a number");
        }
        if (n.abs().compareTo(MAX_LONG) > 0) {
            throw ApiError.badRequest("'" + field + "' is " + n + ", beyond 2^63-1");
        }
        return n.longValueExact();
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "unreadable";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
