package org.gpuagent.agent.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
}
