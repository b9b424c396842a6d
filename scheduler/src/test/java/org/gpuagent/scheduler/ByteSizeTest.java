package org.gpuagent.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ByteSizeTest {
    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
        0            | 0 bytes
        1            | 1 byte
        1023         | 1023 bytes
        1024         | 1 KiB
        1536         | 1.5 KiB
        1048576      | 1 MiB
        1572864      | 1.5 MiB
        10485760     | 10 MiB
        201326592    | 192 MiB
        214748364    | 205 MiB
        1073741824   | 1 GiB
        1181116006   | 1.1 GiB
        2684354560   | 2.5 GiB
        4294967296   | 4 GiB
        10737418240  | 10 GiB
        -536870912   | -512 MiB
        """)
    void formatsReadably(long bytes, String expected) {
        assertEquals(expected, ByteSize.format(bytes));
    }
}
