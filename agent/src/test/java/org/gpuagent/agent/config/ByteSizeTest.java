package org.gpuagent.agent.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
        "lots|not a size",
        "1.5|whole number",
        "''|empty",
    })
    void refusesNonsenseWithAReason(String text, String reason) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ByteSize.parse(text));
        assertTrue(e.getMessage().contains(reason), e.getMessage());
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
}
