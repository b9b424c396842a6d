package org.gpuagent.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

class SchedulerConfigTest {

    /** B = total − headroom; default headroom = max(5 %, 192 MiB). */
    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
        # total MiB | headroom MiB (-1 = default) | expected headroom bytes | expected budget bytes
        4096        | -1                          | 214748364               | 4080218932
        2048        | -1                          | 201326592               | 1946157056
        3840        | -1                          | 201326592               | 3825205248
        81920       | -1                          | 4294967296              | 81604378624
        4096        | 0                           | 0                       | 4294967296
        4096        | 512                         | 536870912               | 3758096384
        """)
    void budgetIsTotalMinusHeadroom(long totalMib, long headroomMib, long headroom, long budget) {
        long total = totalMib * Homelab.MIB;
        SchedulerConfig c = new SchedulerConfig(total,
                headroomMib < 0 ? Headroom.auto() : Headroom.fixed(headroomMib * Homelab.MIB), Homelab.SERVICES);
        assertEquals(headroom, c.budgetOn(total).headroomBytes());
        assertEquals(budget, c.budgetOn(total).bytes());
    }

    static Stream<Arguments> badConfigurations() {
        return Stream.of(
                Arguments.of("critical and preemptible", (Supplier<Object>) () -> Service.of("frigate",
                        PriorityClass.CRITICAL, Homelab.GIB, true), "a critical service is never preemptible"),
                Arguments.of("zero default request", (Supplier<Object>) () -> Service.of("x", PriorityClass.BATCH, 0,
                        true), "default request must be positive"),
                Arguments.of("bad name", (Supplier<Object>) () -> Service.of("has space", PriorityClass.BATCH, 1,
                        true), "service name 'has space'"),
                Arguments.of("negative grace", (Supplier<Object>) () -> Service.of("x", PriorityClass.BATCH, 1, true)
                        .withReconciliationGrace(Duration.ofSeconds(-1)), "must not be negative"),
                Arguments.of("duplicate service", (Supplier<Object>) () -> new SchedulerConfig(Homelab.GIB,
                        Headroom.auto(), List.of(Homelab.OLLAMA, Homelab.OLLAMA)), "configured twice"),
                Arguments.of("headroom eats the card", (Supplier<Object>) () -> new SchedulerConfig(Homelab.GIB,
                        Headroom.fixed(Homelab.GIB), Homelab.SERVICES), "leaves no budget"),
                Arguments.of("default headroom eats a tiny card", (Supplier<Object>) () -> new SchedulerConfig(
                        100 * Homelab.MIB, Headroom.auto(), Homelab.SERVICES), "leaves no budget"),
                Arguments.of("zero request", (Supplier<Object>) () -> AdmissionRequest.of("ollama").withBytes(0),
                        "requested size must be positive"),
                Arguments.of("negative wait", (Supplier<Object>) () -> AdmissionRequest.of("ollama")
                        .withWait(Duration.ofSeconds(-1)), "wait must not be negative"),
                Arguments.of("control characters in holder", (Supplier<Object>) () -> AdmissionRequest.of("ollama")
                        .withHolder("a\nb"), "holder must be"),
                Arguments.of("lease id text", (Supplier<Object>) () -> LeaseId.parse("abc"), "not a lease id"),
                Arguments.of("priority text", (Supplier<Object>) () -> PriorityClass.parse("urgent"),
                        "unknown priority class 'urgent'"));
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @MethodSource("badConfigurations")
    void rejectsWithAClearMessage(String rule, Supplier<Object> build, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, build::get, rule);
        assertTrue(e.getMessage().contains(message), rule + ": " + e.getMessage());
    }
}
