package org.gpuagent.agent.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.gpuagent.scheduler.AdmissionRequest;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class LeaseRequestParserTest {
    private static final Duration CAP = Duration.ofMinutes(10);

    private static AdmissionRequest parse(String json) throws ApiError {
        return LeaseRequestParser.parse(json.getBytes(StandardCharsets.UTF_8), CAP);
    }

    @Test
    void readsEveryField() throws Exception {
        AdmissionRequest r = parse("{\"service\":\"ollama\",\"bytes\":2684354560,\"holder\":\"systemd:ollama.service\","
                + "\"waitMs\":30000,\"pids\":[10,11]}");
        assertEquals("ollama", r.service());
        assertEquals(OptionalLong.of(2684354560L), r.bytes());
        assertEquals(Optional.of("systemd:ollama.service"), r.holder());
        assertEquals(Duration.ofSeconds(30), r.maxWait());
        assertEquals(List.of(10L, 11L), r.pids());
    }

    @Test
    void optionalFieldsDefault() throws Exception {
        AdmissionRequest r = parse("{\"service\":\"frigate\"}");
        assertEquals(OptionalLong.empty(), r.bytes());
        assertEquals(Optional.empty(), r.holder());
        assertEquals(Duration.ZERO, r.maxWait());
        assertEquals(Duration.ZERO, parse("{\"service\":\"frigate\",\"holder\":null,\"waitMs\":null}").maxWait());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "\"2.5GiB\"|2684354560",
        "\"1500MiB\"|1572864000",
        "\"512M\"|536870912",
        "\"1048576\"|1048576",
        "1048576|1048576",
        "1e9|1000000000",
        "9223372036854775807|9223372036854775807",
    })
    void bytesAreANumberOrASizeString(String bytes, long expected) throws Exception {
        assertEquals(OptionalLong.of(expected), parse("{\"service\":\"x\",\"bytes\":" + bytes + "}").bytes());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "-1|must be positive",
        "0|must be positive",
        "9223372036854775808|beyond 2^63-1",
        "-9223372036854775809|beyond 2^63-1",
        "1.5|whole number",
        "\"12 parsecs\"|unknown unit",
        "\"-1GiB\"|negative",
        "\"0\"|zero",
        "\"99999999999TiB\"|too large",
        "true|positive number of bytes",
        "{}|positive number of bytes",
    })
    void impossibleSizesAreRefusedWithAReason(String bytes, String reason) {
        ApiError e = assertThrows(ApiError.class, () -> parse("{\"service\":\"x\",\"bytes\":" + bytes + "}"));
        assertEquals(400, e.status());
        assertEquals("bad_request", e.code());
        assertTrue(e.getMessage().contains(reason), e.getMessage());
    }

    @Test
    void waitIsCappedNotRefused() throws Exception {
        assertEquals(CAP, parse("{\"service\":\"x\",\"waitMs\":86400000}").maxWait());
        assertThrows(ApiError.class, () -> parse("{\"service\":\"x\",\"waitMs\":-5}"));
        assertThrows(ApiError.class, () -> parse("{\"service\":\"x\",\"waitMs\":\"30s\"}"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "|empty",
        "{|malformed JSON",
        "{\"service\":\"x\"} trailing|malformed JSON",
        "[]|must be a JSON object",
        "\"ollama\"|must be a JSON object",
        "{\"service\":\"a\",\"service\":\"b\"}|malformed JSON",
        "{\"service\":\"a\",\"size\":1}|unknown field 'size'",
        "{\"service\":5}|'service' is required",
        "{\"holder\":\"x\"}|'service' is required",
        "{\"service\":\"a\",\"holder\":7}|'holder' must be a string",
        "{\"service\":\"a\",\"pids\":[0]}|not a process id",
        "{\"service\":\"a\",\"pids\":7}|must be an array",
    })
    void malformedBodiesAre400(String body, String reason) {
        ApiError e = assertThrows(ApiError.class, () -> parse(body == null ? "" : body));
        assertEquals(400, e.status());
        assertTrue(e.getMessage().contains(reason), e.getMessage());
    }

    /** Issue 14: a body nested ~400 levels overflowed the stack (an empty reply and 31 KB of trace). */
    @ParameterizedTest
    @ValueSource(ints = {LeaseRequestParser.MAX_DEPTH + 1, 400, 5000, 30000})
    void deepNestingIsA400NotAStackOverflow(int depth) {
        String body = "{\"service\":\"x\",\"pids\":" + "[".repeat(depth) + "]".repeat(depth) + "}";
        ApiError e = assertThrows(ApiError.class, () -> parse(body));
        assertEquals(400, e.status());
        assertTrue(e.getMessage().contains("nesting depth"), e.getMessage());
        int d = Math.min(depth, 5000);
        String objects = "{\"a\":".repeat(d) + "1" + "}".repeat(d);
        assertTrue(assertThrows(ApiError.class, () -> parse(objects)).getMessage().contains("nesting depth"));
    }

    /**
     * The same on a thread with a small stack, where the old reader (jackson-jr's recursive tree,
     * bounded only by Jackson's default of 1,000 levels) overflowed at 999 nested objects.
     */
    @Test
    void deepNestingOnASmallStackIsA400() throws Exception {
        String objects = "{\"service\":\"x\",\"pids\":" + "{\"a\":".repeat(999) + "1" + "}".repeat(999) + "}";
        Object[] outcome = new Object[1];
        Thread t = new Thread(null, () -> {
            try {
                parse(objects);
                outcome[0] = "parsed";
            } catch (Throwable e) {
                outcome[0] = e;
            }
        }, "small-stack", 256 * 1024);
        t.start();
        t.join();
        assertTrue(outcome[0] instanceof ApiError e && e.status() == 400 && e.getMessage().contains("nesting depth"),
                String.valueOf(outcome[0]));
    }

    /** Issue 14: the 44-byte request that ran the daemon out of memory, and its relatives. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "bytes|1e999999999|beyond 2^63-1",
        "bytes|1e99999999|beyond 2^63-1",
        "bytes|1e2147483647|beyond 2^63-1",
        "bytes|-1e999999999|beyond 2^63-1",
        "bytes|1e-999999999|whole number",
        "waitMs|1e999999999|beyond 2^63-1",
        "waitMs|1e2147483647|beyond 2^63-1",
        "pids|[1e999999999]|beyond 2^63-1",
        "bytes|123456789012345678901234567890123456789012345678901234567890123456789|Number value length (69) exceeds the maximum allowed (64)",
    })
    void hugeNumbersAreRefusedFromTheirText(String field, String value, String reason) {
        ApiError e = assertThrows(ApiError.class, () -> parse("{\"service\":\"jellyfin\",\"" + field + "\":" + value + "}"));
        assertEquals(400, e.status());
        assertTrue(e.getMessage().contains(reason), e.getMessage());
        assertFalse(e.getMessage().contains("StreamReadConstraints"), e.getMessage());
    }

    @Test
    void bytesThatAreNotUtf8AreRefused() {
        byte[] body = "{\"service\":\"ollama\",\"holder\":\"a\u00ff\"}".getBytes(StandardCharsets.ISO_8859_1);
        ApiError e = assertThrows(ApiError.class, () -> LeaseRequestParser.parse(body, CAP));
        assertEquals(400, e.status());
        assertTrue(e.getMessage().contains("UTF-8"), e.getMessage());
    }

    @Test
    void tooManyPidsAreRefused() {
        String pids = "1,".repeat(LeaseRequestParser.MAX_PIDS) + "1";
        ApiError e = assertThrows(ApiError.class, () -> parse("{\"service\":\"x\",\"pids\":[" + pids + "]}"));
        assertTrue(e.getMessage().contains("at most " + LeaseRequestParser.MAX_PIDS), e.getMessage());
    }

    /**
     * Issue 14: holders are validated on input. A lone surrogate came back different after a
     * restart; a holder that becomes a cgroupfs path must not hold path separators.
     */
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "a\\u0000b|control characters",
        "a\\u001bb|control characters",
        "a\\u007fb|control characters",
        "a\\ud800b|lone surrogate",
        "\\udc00|lone surrogate",
        "x\\ud83d|lone surrogate",
        "systemd:../../etc|does not name a systemd unit",
        "systemd:foo/bar.service|does not name a systemd unit",
        "systemd:|does not name a systemd unit",
        "oci:../x|does not name a container",
        "oci:a/b|does not name a container",
        "oci:..|does not name a container",
        "pid:12a|does not name a process",
        "' '|must be 1-512 characters",
    })
    void badHoldersAreRefusedWithAReason(String holder, String reason) {
        ApiError e = assertThrows(ApiError.class,
                () -> parse("{\"service\":\"x\",\"holder\":\"" + holder + "\"}"));
        assertEquals(400, e.status());
        assertTrue(e.getMessage().contains(reason), e.getMessage());
        assertFalse(e.getMessage().chars().anyMatch(c -> Character.isISOControl(c) || Character.isSurrogate((char) c)),
                "the message echoes no control character or surrogate: " + e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"systemd:ollama.service", "systemd:ollama", "systemd:user@1000.service",
        "oci:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "oci:my_container-1",
        "pid:4242", "test:a", "Frigate camera \u00e9\ud83d\ude00", "opaque/with/slashes"})
    void goodHoldersPass(String holder) throws Exception {
        String escaped = holder.replace("\\", "\\\\");
        assertEquals(Optional.of(holder), parse("{\"service\":\"x\",\"holder\":\"" + escaped + "\"}").holder());
    }

    @Test
    void autoBytesAndASignatureAreTheAgentsToSize() throws Exception {
        LeaseRequestParser.LeaseRequest r = LeaseRequestParser.parseRequest(("{\"service\":\"jellyfin\",\"bytes\":\"auto\","
                + "\"signature\":\"ffmpeg:dec=gpu,enc=gpu,out=1080p,tonemap=none,outputs=1\",\"pids\":[42]}")
                .getBytes(StandardCharsets.UTF_8), CAP);
        assertTrue(r.autoBytes());
        assertEquals(OptionalLong.empty(), r.request().bytes(), "auto leaves the size to the agent");
        assertEquals(Optional.of("ffmpeg:dec=gpu,enc=gpu,out=1080p,tonemap=none,outputs=1"), r.signature());
        LeaseRequestParser.LeaseRequest plain = LeaseRequestParser.parseRequest(
                "{\"service\":\"jellyfin\",\"bytes\":\"1GiB\"}".getBytes(StandardCharsets.UTF_8), CAP);
        assertFalse(plain.autoBytes());
        assertEquals(Optional.empty(), plain.signature());
    }

    @ParameterizedTest
    @ValueSource(strings = {"\"\"", "\"  \"", "42", "[\"a\"]", "\"a\\nb\""})
    void aSignatureIsPrintableText(String signature) {
        ApiError e = assertThrows(ApiError.class, () -> parse("{\"service\":\"x\",\"signature\":" + signature + "}"));
        assertTrue(e.getMessage().contains("'signature'"), e.getMessage());
    }

    @Test
    void anOverlongSignatureIsRefused() {
        String sig = "x".repeat(LeaseRequestParser.MAX_SIGNATURE_CHARS + 1);
        assertThrows(ApiError.class, () -> parse("{\"service\":\"x\",\"signature\":\"" + sig + "\"}"));
    }
}
