package org.gpuagent.agent.api;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import org.gpuagent.agent.attribution.HolderNames;
import org.gpuagent.scheduler.AdmissionRequest;
import org.gpuagent.scheduler.ByteSize;

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
 *   <li>{@code holder}: optional string, 1-512 printable characters (no control characters, no
 *       lone surrogates); a {@code systemd:} holder must name a unit and an {@code oci:} holder a
 *       container id (they become paths under cgroupfs), see {@link HolderNames#problem}.</li>
 *   <li>{@code waitMs}: optional whole number ≥ 0; above {@code maxWait} it is cut to
 *       {@code maxWait}.</li>
 *   <li>{@code pids}: optional array of positive whole numbers: processes that will use the lease
 *       (reconciliation keeps the lease while any lives), at most {@value #MAX_PIDS}.</li>
 * </ul>
 * Any other field, a duplicate field, or anything that is not one JSON object is a 400.
 *
 * <p>Limits, all decided while reading and before any arithmetic (each a 400 with its reason):
 * nesting deeper than {@value #MAX_DEPTH}, a string longer than the body limit, a name longer than
 * {@value #MAX_NAME_CHARS} characters, a number token longer than {@value WholeNumber#MAX_TOKEN_CHARS}
 * characters, a number whose exponent alone puts it out of range ({@code 1e999999999}), and bytes
 * that are not UTF-8.
 */
public final class LeaseRequestParser {
    static final Set<String> FIELDS = Set.of("service", "bytes", "holder", "waitMs", "pids");
    /** Deepest nesting read; a request body is two levels deep (the object and {@code pids}). */
    static final int MAX_DEPTH = 8;
    static final int MAX_NAME_CHARS = 256;
    static final int MAX_PIDS = 1024;
    private static final JsonFactory FACTORY = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder()
                    .maxNestingDepth(MAX_DEPTH)
                    .maxStringLength(ApiServer.MAX_BODY_BYTES)
                    .maxNameLength(MAX_NAME_CHARS)
                    .maxNumberLength(WholeNumber.MAX_TOKEN_CHARS)
                    .maxDocumentLength(ApiServer.MAX_BODY_BYTES)
                    .build())
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();

    /** A number as written in the body: read into a value only by {@link WholeNumber}. */
    record NumberToken(String text) {
    }

    private LeaseRequestParser() {
    }

    public static AdmissionRequest parse(byte[] body, Duration maxWait) throws ApiError {
        Map<String, Object> m = object(body);
        for (String k : m.keySet()) {
            if (!FIELDS.contains(k)) {
                throw ApiError.badRequest("unknown field '" + printable(k) + "' (known: service, bytes, holder, waitMs, pids)");
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
        if (holder != null) {
            Optional<String> problem = HolderNames.problem((String) holder);
            if (problem.isPresent()) {
                throw ApiError.badRequest("'holder' " + problem.get());
            }
        }
        Duration wait = waitOf(m, maxWait);
        List<Long> pids = new ArrayList<>();
        if (m.get("pids") != null) {
            if (!(m.get("pids") instanceof List<?> list)) {
                throw ApiError.badRequest("'pids' must be an array of process ids");
            }
            if (list.size() > MAX_PIDS) {
                throw ApiError.badRequest("'pids' lists " + list.size() + " processes; at most " + MAX_PIDS);
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
            return new AdmissionRequest(s.strip(), bytes, Optional.ofNullable((String) holder), pids, wait);
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest(printable(e.getMessage()));
        }
    }

    /** A {@code PATCH /v1/leases/{id}} body: the new size, and how long a growth may wait. */
    public record ResizeRequest(long bytes, Duration maxWait) {
    }

    static final Set<String> RESIZE_FIELDS = Set.of("bytes", "waitMs");

    /**
     * {@code {"bytes": N, "waitMs": W}}: {@code bytes} required, parsed and limited as in
     * {@link #parse}; {@code waitMs} optional, capped at {@code maxWait}.
     */
    public static ResizeRequest parseResize(byte[] body, Duration maxWait) throws ApiError {
        Map<String, Object> m = object(body);
        for (String k : m.keySet()) {
            if (!RESIZE_FIELDS.contains(k)) {
                throw ApiError.badRequest("unknown field '" + printable(k) + "' (known: bytes, waitMs)");
            }
        }
        if (m.get("bytes") == null) {
            throw ApiError.badRequest("'bytes' is required: the lease's new size");
        }
        return new ResizeRequest(bytes(m.get("bytes")), waitOf(m, maxWait));
    }

    private static Duration waitOf(Map<String, Object> m, Duration maxWait) throws ApiError {
        if (m.get("waitMs") == null) {
            return Duration.ZERO;
        }
        long ms = wholeNumber(m.get("waitMs"), "waitMs");
        if (ms < 0) {
            throw ApiError.badRequest("'waitMs' must not be negative, got " + ms);
        }
        return Duration.ofMillis(ms).compareTo(maxWait) > 0 ? maxWait : Duration.ofMillis(ms);
    }

    /**
     * The body as one JSON object: strings, booleans, nulls, lists, maps and {@link NumberToken}s.
     * Jackson reads the bytes (UTF-8 checked) under the limits above; this builds the tree.
     */
    static Map<String, Object> object(byte[] body) throws ApiError {
        if (isBlank(body)) {
            throw ApiError.badRequest("the body is empty; send a JSON object such as {\"service\":\"ollama\"}");
        }
        Object parsed;
        try (JsonParser p = FACTORY.createParser(body)) {
            JsonToken first = p.nextToken();
            parsed = value(p, first);
            if (p.nextToken() != null) {
                throw ApiError.badRequest("malformed JSON: something follows the object");
            }
        } catch (StreamConstraintsException e) {
            // Jackson names its own setting ("from `StreamReadConstraints...`"): keep the limit, drop that
            String why = firstLine(e.getOriginalMessage()).replaceAll(",? from `[^`]*`", "");
            throw ApiError.badRequest("the body is beyond the API's limits: " + printable(why));
        } catch (JsonProcessingException e) {
            throw ApiError.badRequest("malformed JSON: " + printable(firstLine(e.getOriginalMessage())));
        } catch (IOException e) {
            throw ApiError.badRequest("malformed JSON: " + printable(firstLine(e.getMessage())));
        }
        if (!(parsed instanceof Map<?, ?> map)) {
            throw ApiError.badRequest("the body must be a JSON object such as {\"service\":\"ollama\"}");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> m = (Map<String, Object>) map;
        return m;
    }

    /** One value starting at {@code t}; recursion is bounded by the parser's nesting limit. */
    private static Object value(JsonParser p, JsonToken t) throws IOException, ApiError {
        if (t == null) {
            throw ApiError.badRequest("malformed JSON: the body ends before a value");
        }
        switch (t) {
            case START_OBJECT -> {
                Map<String, Object> m = new LinkedHashMap<>();
                for (JsonToken k = p.nextToken(); k != JsonToken.END_OBJECT; k = p.nextToken()) {
                    if (k != JsonToken.FIELD_NAME) {
                        throw ApiError.badRequest("malformed JSON: expected a field name");
                    }
                    String name = p.currentName();
                    m.put(name, value(p, p.nextToken()));
                }
                return m;
            }
            case START_ARRAY -> {
                List<Object> l = new ArrayList<>();
                for (JsonToken v = p.nextToken(); v != JsonToken.END_ARRAY; v = p.nextToken()) {
                    l.add(value(p, v));
                }
                return l;
            }
            case VALUE_STRING -> {
                return p.getText();
            }
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> {
                return new NumberToken(p.getText());
            }
            case VALUE_TRUE -> {
                return Boolean.TRUE;
            }
            case VALUE_FALSE -> {
                return Boolean.FALSE;
            }
            case VALUE_NULL -> {
                return null;
            }
            default -> throw ApiError.badRequest("malformed JSON: unexpected " + t);
        }
    }

    /** A request size: a positive whole number of bytes (JSON number) or a size string. */
    static long bytes(Object v) throws ApiError {
        if (v instanceof String s) {
            try {
                return ByteSize.parse(s);
            } catch (IllegalArgumentException e) {
                throw ApiError.badRequest("'bytes': " + printable(e.getMessage()));
            }
        }
        if (!(v instanceof NumberToken)) {
            throw ApiError.badRequest("'bytes' must be a positive number of bytes or a size such as \"2.5GiB\"");
        }
        long b = wholeNumber(v, "bytes");
        if (b <= 0) {
            throw ApiError.badRequest("'bytes' must be positive, got " + b);
        }
        return b;
    }

    private static long wholeNumber(Object v, String field) throws ApiError {
        if (!(v instanceof NumberToken n)) {
            throw ApiError.badRequest("'" + field + "' must be a number");
        }
        try {
            return WholeNumber.parse(n.text());
        } catch (WholeNumber.NotALong e) {
            throw ApiError.badRequest("'" + field + "' " + e.getMessage());
        }
    }

    private static boolean isBlank(byte[] body) {
        for (byte b : body) {
            if (b != ' ' && b != '\t' && b != '\n' && b != '\r') {
                return false;
            }
        }
        return true;
    }

    /**
     * {@code s} safe to echo in a message: control characters and lone surrogates written as
     * escapes, cut at 120 characters.
     */
    static String printable(String s) {
        if (s == null) {
            return "";
        }
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length() && b.length() < 120; i++) {
            char c = s.charAt(i);
            boolean pairedHigh = Character.isHighSurrogate(c) && i + 1 < s.length()
                    && Character.isLowSurrogate(s.charAt(i + 1));
            if (pairedHigh) {
                b.append(c).append(s.charAt(++i));
            } else if (Character.isISOControl(c) || Character.isSurrogate(c)) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.length() >= 120 && s.length() > 120 ? b + "..." : b.toString();
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "unreadable";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
