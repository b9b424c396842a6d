package org.gpuagent.agent.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Number tokens decided from their text: issue 14's {@code 1e999999999} ran the daemon out of
 * memory, {@code 1e99999999} held a core for a minute and {@code 1e2147483647} answered 500.
 */
class WholeNumberTest {

    @ParameterizedTest
    @CsvSource({
        "0,0", "1,1", "-1,-1", "1e9,1000000000", "1E+9,1000000000", "2.0,2", "2.50e1,25", "1000e-3,1",
        "9223372036854775807,9223372036854775807", "-9223372036854775808,-9223372036854775808",
        "9.223372036854775807e18,9223372036854775807", "0e999999999,0", "-0.0e-2147483648,0",
        "100000000000000000000e-20,1",
    })
    void wholeNumbersInRange(String token, long expected) throws Exception {
        assertEquals(expected, WholeNumber.parse(token));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "1e999999999|beyond 2^63-1",
        "1e99999999|beyond 2^63-1",
        "1e2147483647|beyond 2^63-1",
        "1e2147483648|beyond 2^63-1",
        "-1e999999999|beyond 2^63-1",
        "1e129|beyond 2^63-1",
        "1e19|beyond 2^63-1",
        "9223372036854775808|beyond 2^63-1",
        "-9223372036854775809|beyond 2^63-1",
        "99999999999999999999999999999999999999999999999999999999999999|beyond 2^63-1",
        "1e-999999999|whole number",
        "1.5|whole number",
        "1500e-3|whole number",
        "1e-1|whole number",
        "0.1e1000|beyond 2^63-1",
        "1.0000000000000000000000000001|whole number",
    })
    void refusedFromTheTextWithAReason(String token, String reason) {
        WholeNumber.NotALong e = assertThrows(WholeNumber.NotALong.class, () -> WholeNumber.parse(token));
        assertTrue(e.getMessage().contains(reason), e.getMessage());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {"''", "1e", "e5", "1.e5", "--1", "0x10", "1e+-5", "NaN", "Infinity"})
    void whatIsNoNumberIsRefused(String token) {
        assertThrows(WholeNumber.NotALong.class, () -> WholeNumber.parse(token));
    }

    @org.junit.jupiter.api.Test
    void aTokenLongerThanTheLimitIsRefusedUnread() {
        String longest = "1" + "0".repeat(WholeNumber.MAX_TOKEN_CHARS);
        WholeNumber.NotALong e = assertThrows(WholeNumber.NotALong.class, () -> WholeNumber.parse(longest));
        assertTrue(e.getMessage().contains("at most " + WholeNumber.MAX_TOKEN_CHARS), e.getMessage());
    }
}
