package org.gpuagent.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ByteSizeTest {

    @ParameterizedTest
    @CsvSource({
        "4GiB, 4294967296",
        "1500MiB, 1572864000",
        "512M, 536870912",
        "2.5GiB, 2684354560",
        "1 GiB, 1073741824",
        "1048576, 1048576",
        "1KiB, 1024",
        "1kB, 1000",
        "3GB, 3000000000",
        "1T, 1099511627776",
        "9223372036854775807, 9223372036854775807",
        "1.2GiB, 1288490188",
        "1.2 GiB, 1288490188",
        "0.5KiB, 512",
        "1.5, 1",
        "1.999999999999999999, 1",
        "0.001GB, 1000000",
        "0000000000000000000000000000000000000001MiB, 1048576",
        "8388607.999999999999999999TiB, 9223372036854775807",
    })
    void parsesWhatPeopleWrite(String text, long bytes) {
        assertEquals(bytes, ByteSize.parse(text));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "-1|negative",
        "-4GiB|negative",
        "0|zero",
        "0MiB|zero",
        "9223372036854775808|too large",
        "99999999999999999999999|too large",
        "8388608TiB|too large",
        "12 parsecs|unknown unit",
        "1a|unknown unit \"a\"",
        "1z|unknown unit \"z\"",
        "1A|unknown unit \"A\"",
        "1Z|unknown unit \"Z\"",
        "1@|not a size",
        "1[|not a size",
        "1`|not a size",
        "1{|not a size",
        "lots|not a size",
        "''|empty",
        "0.4|less than one byte",
        "0.0GiB|zero",
        "1.|not a size",
        ".5GiB|not a size",
        "1..5GiB|not a size",
        "1e3|not a size",
        "1e309GiB|not a size",
        "NaN|not a size",
        "Infinity|not a size",
        "0x10|not a size",
        "1_000|not a size",
        "+5|not a size",
        "１２３|not a size",
        "9999999999999999999|too large",
        "18446744073709551616|too large",
        "8388608TiB|too large",
        "8388607.9999999999999999999TiB|digits after the point",
        "1.0000000000000000001GiB|digits after the point",
    })
    void refusesNonsenseWithAReason(String text, String reason) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ByteSize.parse(text));
        assertTrue(e.getMessage().contains(reason), e.getMessage());
    }

    /**
     * Hostile texts are refused by their length or digit count before any arithmetic: a million
     * digits, a huge fraction, a number long enough to overflow many times over.
     */
    @Test
    void boundsEveryTextBeforeArithmetic() {
        String million = "9".repeat(1_000_000);
        assertRefused(million, "characters is not a size");
        assertRefused("1." + "0".repeat(1_000_000) + "1GiB", "characters is not a size");
        assertRefused("9".repeat(ByteSize.MAX_TEXT_LENGTH) , "too large");
        assertRefused("1." + "9".repeat(ByteSize.MAX_TEXT_LENGTH - 2), "digits after the point");
        assertRefused(" ".repeat(ByteSize.MAX_TEXT_LENGTH + 1) + "1", "characters is not a size");
        assertEquals(1L, ByteSize.parse("0".repeat(ByteSize.MAX_TEXT_LENGTH - 1) + "1"));
    }

    /** Seeded random texts from a size's alphabet: each parses or is refused with a reason, never anything else. */
    @Test
    void randomTextsParseOrAreRefused() {
        long seed = 8L;
        java.util.Random random = new java.util.Random(seed);
        String alphabet = "0123456789.  -+eEkKmMgGtTiIbB";
        for (int n = 0; n < 20_000; n++) {
            StringBuilder sb = new StringBuilder();
            int len = 1 + random.nextInt(30);
            for (int c = 0; c < len; c++) {
                sb.append(alphabet.charAt(random.nextInt(alphabet.length())));
            }
            String text = sb.toString();
            try {
                long bytes = ByteSize.parse(text);
                assertTrue(bytes > 0, "seed " + seed + ": " + text + " -> " + bytes);
            } catch (IllegalArgumentException e) {
                assertTrue(e.getMessage() != null && !e.getMessage().isBlank(), "seed " + seed + ": " + text);
            }
        }
    }

    private static void assertRefused(String text, String reason) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ByteSize.parse(text));
        assertTrue(e.getMessage().contains(reason), e.getMessage());
        assertTrue(e.getMessage().length() < 200, "the message stays one short line: " + e.getMessage().length());
    }

    @ParameterizedTest
    @CsvSource({
        "2684354560, 2.5 GiB",
        "314572800, 300 MiB",
        "512, 512 B",
        "1536, 1.5 KiB",
    })
    void formatsReadably(long bytes, String text) {
        assertEquals(text, ByteSize.format(bytes));
    }

    /** Every scale, rounding half up to two decimals with the zeros dropped, and negative amounts. */
    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
        0                    | 0 B
        1                    | 1 B
        1023                 | 1023 B
        1024                 | 1 KiB
        1035                 | 1.01 KiB
        1048575              | 1024 KiB
        1048576              | 1 MiB
        1572864              | 1.5 MiB
        10485760             | 10 MiB
        201326592            | 192 MiB
        214748364            | 204.8 MiB
        1073741824           | 1 GiB
        1181116006           | 1.1 GiB
        1256277934           | 1.17 GiB
        1208033280           | 1.13 GiB
        1207959552           | 1.13 GiB
        1207885824           | 1.12 GiB
        2684354560           | 2.5 GiB
        4294967296           | 4 GiB
        10737418240          | 10 GiB
        9223372036854775807  | 8589934592 GiB
        -536870912           | -512 MiB
        -1288490188          | -1.2 GiB
        -9223372036854775808 | -8589934592 GiB
        """)
    void formatsEveryScale(long bytes, String expected) {
        assertEquals(expected, ByteSize.format(bytes));
    }
}
