package org.gpuagent.scheduler;

import static org.gpuagent.scheduler.Homelab.GIB;
import static org.gpuagent.scheduler.Homelab.MIB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The rules the scheduler owns for the whole project: headroom, budget, priority classes and the fit check. */
class FitCheckTest {
    private static Service critical(String name, long bytes) {
        return Service.of(name, PriorityClass.CRITICAL, bytes, false);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
        # headroom  | total MiB | expected bytes
        auto        | 4096      | 214748364
        auto        | 2048      | 201326592
        auto        | 100       | 201326592
        fixed 0     | 4096      | 0
        fixed 512   | 4096      | 536870912
        percent 10  | 4096      | 429496730
        percent 0   | 4096      | 0
        """)
    void headroomOnADevice(String kind, long totalMib, long expected) {
        String[] k = kind.split(" ");
        Headroom h = switch (k[0]) {
            case "auto" -> Headroom.auto();
            case "fixed" -> Headroom.fixed(Long.parseLong(k[1]) * MIB);
            default -> Headroom.percent(Double.parseDouble(k[1]));
        };
        assertEquals(expected, h.bytesFor(totalMib * MIB));
    }

    @Test
    void headroomRefusesWhatIsNoHeadroom() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Headroom.fixed(-1)).getMessage()
                .contains("must not be negative"));
        for (double p : new double[] {-1, 100, Double.NaN, Double.POSITIVE_INFINITY}) {
            assertTrue(assertThrows(IllegalArgumentException.class, () -> Headroom.percent(p)).getMessage()
                    .contains("is outside 0-99%"), "" + p);
        }
        assertEquals("auto", Headroom.auto().toString());
        assertEquals("512 MiB", Headroom.fixed(512 * MIB).toString());
        assertEquals("5.0%", Headroom.percent(5).toString());
    }

    @Test
    void budgetIsTheTotalLessTheHeadroomCappedAtTheTotal() {
        Budget b = Budget.on(4 * GIB, Headroom.auto());
        assertEquals(new Budget(4 * GIB, 214748364), b);
        assertEquals(4 * GIB - 214748364, b.bytes());
        assertEquals("3.8 GiB (4 GiB device minus 204.8 MiB headroom)", Sentences.budget(b));
        assertTrue(b.exceededBy(b.bytes() + 1));
        assertFalse(b.exceededBy(b.bytes()));
        Budget none = Budget.on(GIB, Headroom.fixed(2 * GIB));
        assertEquals(GIB, none.headroomBytes());
        assertEquals(0, none.bytes());
        assertThrows(IllegalArgumentException.class, () -> new Budget(GIB, GIB + 1));
        assertThrows(IllegalArgumentException.class, () -> new Budget(GIB, -1));
    }

    @Test
    void everyMisfitInConfigurationOrder() {
        List<Service> services = List.of(critical("frigate", 3 * GIB), Service.of("ollama", PriorityClass.OPPORTUNISTIC,
                5 * GIB, true), critical("nvr", GIB));
        assertEquals(List.of(
                new Misfit(Misfit.Kind.REQUEST_EXCEEDS_BUDGET, Optional.of("ollama"), "5 GiB alone exceeds the budget"
                        + " of 3.8 GiB (4 GiB device minus 204.8 MiB headroom): it could never be admitted"),
                new Misfit(Misfit.Kind.CRITICAL_EXCEED_BUDGET, Optional.empty(), "critical services together request"
                        + " 4 GiB, more than the budget of 3.8 GiB (4 GiB device minus 204.8 MiB headroom); critical"
                        + " leases are never preempted, so they cannot all run")),
                Misfit.of(4 * GIB, Headroom.auto(), services));
    }

    @Test
    void servicesThatFitExactlyAreNoMisfit() {
        assertEquals(List.of(), Misfit.of(4 * GIB, Headroom.fixed(0), List.of(critical("a", 2 * GIB),
                critical("b", 2 * GIB), Service.of("c", PriorityClass.BATCH, 4 * GIB, true))));
    }

    @Test
    void aHeadroomThatLeavesNoBudgetIsTheOnlyMisfit() {
        assertEquals(List.of(new Misfit(Misfit.Kind.NO_BUDGET, Optional.empty(),
                "headroom 5 GiB leaves no budget on a 4 GiB device")),
                Misfit.of(4 * GIB, Headroom.fixed(5 * GIB), List.of(critical("frigate", 8 * GIB))));
        assertEquals(Misfit.Kind.NO_BUDGET, Misfit.of(4 * GIB, Headroom.fixed(4 * GIB), List.of()).get(0).kind());
        assertEquals(List.of(), Misfit.of(4 * GIB, Headroom.fixed(4 * GIB - 1), List.of()));
    }

    /** Two critical requests near 2^63 bytes add up to more than any budget, not to a negative number. */
    @Test
    void criticalRequestsAddUpWithoutOverflow() {
        List<Misfit> m = Misfit.of(4 * GIB, Headroom.fixed(0), List.of(critical("a", Long.MAX_VALUE - 1),
                critical("b", Long.MAX_VALUE - 1)));
        assertEquals(List.of(Misfit.Kind.REQUEST_EXCEEDS_BUDGET, Misfit.Kind.REQUEST_EXCEEDS_BUDGET,
                Misfit.Kind.CRITICAL_EXCEED_BUDGET), m.stream().map(Misfit::kind).toList());
    }

    @Test
    void aMisfitNamesAServiceExactlyWhenItIsAboutOne() {
        assertThrows(IllegalArgumentException.class, () -> new Misfit(Misfit.Kind.REQUEST_EXCEEDS_BUDGET,
                Optional.empty(), "s"));
        assertThrows(IllegalArgumentException.class, () -> new Misfit(Misfit.Kind.NO_BUDGET, Optional.of("a"), "s"));
    }

    @Test
    void theConfigurationRefusesOnlyAHeadroomWithoutBudget() {
        SchedulerConfig c = new SchedulerConfig(4 * GIB, Headroom.fixed(0), List.of(critical("a", 5 * GIB)));
        assertEquals(List.of(Misfit.Kind.REQUEST_EXCEEDS_BUDGET, Misfit.Kind.CRITICAL_EXCEED_BUDGET),
                c.misfits().stream().map(Misfit::kind).toList());
        assertEquals(new Budget(8 * GIB, 0), c.budgetOn(8 * GIB), "the budget follows the observed total");
    }

    @Test
    void priorityClassesInConfigurationWords() {
        assertEquals("critical, interactive, batch or opportunistic", PriorityClass.choices());
        assertEquals(PriorityClass.BATCH, PriorityClass.parse(" Batch "));
    }
}
