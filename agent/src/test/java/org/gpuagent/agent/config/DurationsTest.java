package org.gpuagent.agent.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class DurationsTest {

    @ParameterizedTest
    @CsvSource({"30s, 30000", "2m, 120000", "500ms, 500", "1h, 3600000", "1m30s, 90000", "0, 0", "1d, 86400000"})
    void parses(String text, long millis) {
        assertEquals(Duration.ofMillis(millis), Durations.parse(text));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "30", "-5s", "5 minutes", "s", "1.5s", "99999999999999999999h", "1e3s", "5x",
        "1s2", "0x10s", "１s", "NaNs", "+5s", "1s1s1s1s1s1s1s1s1s", "106751991167301d", "999999999999999999h"})
    void refuses(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Durations.parse(text));
        assertTrue(e.getMessage().length() < 200, e.getMessage());
    }

    /** Hostile texts are refused by length, part count or digit count before any arithmetic. */
    @Test
    void boundsEveryTextBeforeArithmetic() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Durations.parse("1s".repeat(500_000)));
        assertTrue(e.getMessage().contains("characters is not a duration"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Durations.parse("9".repeat(40) + "ms"));
        assertTrue(e.getMessage().contains("too long a duration"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Durations.parse("9".repeat(1_000_000) + "ms"));
        assertTrue(e.getMessage().contains("characters is not a duration"), e.getMessage());
        assertEquals(Duration.ofMillis(1), Durations.parse("0".repeat(Durations.MAX_TEXT_LENGTH - 3) + "1ms"));
        assertEquals(Duration.ofHours(1).plusMinutes(2).plusSeconds(3).plusMillis(4), Durations.parse("1h2m3s4ms"));
    }

    @ParameterizedTest
    @CsvSource({"90000, 1m30s", "500, 500ms", "0, 0s", "3600000, 1h"})
    void formatsBackToParseableText(long millis, String text) {
        assertEquals(text, Durations.format(Duration.ofMillis(millis)));
        assertEquals(Duration.ofMillis(millis), Durations.parse(text));
    }
}
