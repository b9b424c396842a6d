package org.gpuagent.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PreemptionPlannerTest {

    record Unit(String name, PriorityClass priority, boolean preemptible, long releasableBytes, long age,
            Instant lastUsed) implements PreemptionPlanner.Candidate {
        Unit(String name, PriorityClass priority, boolean preemptible, long releasableBytes, long age) {
            this(name, priority, preemptible, releasableBytes, age, Instant.MIN);
        }
    }

    /** "name:class:p|n:MiB:age[:last use, seconds after START] ..." */
    static List<Unit> units(String spec) {
        List<Unit> out = new ArrayList<>();
        if (spec == null || spec.isBlank()) {
            return out;
        }
        for (String u : spec.trim().split("\\s+")) {
            String[] f = u.split(":");
            out.add(new Unit(f[0], PriorityClass.parse(f[1]), f[2].equals("p"), Long.parseLong(f[3]) * Homelab.MIB,
                    Long.parseLong(f[4]), f.length > 5 ? Homelab.START.plusSeconds(Long.parseLong(f[5])) : Instant.MIN));
        }
        return out;
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', textBlock = """
        # rule                                          | requester     | MiB  | free | units                                                                         | outcome     | victims | short
        fits without preemption                         | critical      | 1024 | 1024 | o:opportunistic:p:2048:1                                                      | FITS        |         | 0
        never critical                                  | interactive   | 1024 | 0    | f:critical:n:2048:1                                                           | CANNOT_HELP |         | 1024
        never equal priority                            | batch         | 1024 | 0    | i:batch:p:2048:1                                                              | CANNOT_HELP |         | 1024
        never a non-preemptible lower service           | critical      | 1024 | 0    | b:opportunistic:n:2048:1                                                      | CANNOT_HELP |         | 1024
        never higher priority                           | batch         | 1024 | 0    | j:interactive:p:2048:1                                                        | CANNOT_HELP |         | 1024
        opportunistic preempts nobody                   | opportunistic | 512  | 0    | o:opportunistic:p:1024:1                                                      | CANNOT_HELP |         | 512
        all candidates gone still too little            | critical      | 3072 | 512  | o:opportunistic:p:1024:1 i:batch:p:1024:2                                     | CANNOT_HELP |         | 512
        exact fit after eviction                        | critical      | 1024 | 0    | o:opportunistic:p:1024:1                                                      | PREEMPT     | o       | 0
        over-committed ledger (negative free)           | critical      | 512  | -512 | o:opportunistic:p:1024:1                                                      | PREEMPT     | o       | 0
        most important reprieved first                  | critical      | 1024 | 0    | j:interactive:p:1024:1 i:batch:p:1024:2 o:opportunistic:p:1024:3              | PREEMPT     | o       | 0
        same class: newest evicted first                | critical      | 1024 | 0    | a:batch:p:1024:1 b:batch:p:1024:2                                             | PREEMPT     | b       | 0
        same class, input order does not matter         | critical      | 1024 | 0    | b:batch:p:1024:2 a:batch:p:1024:1                                             | PREEMPT     | b       | 0
        same class, three of them                       | critical      | 2048 | 0    | c:batch:p:1024:7 a:batch:p:1024:3 b:batch:p:1024:5                            | PREEMPT     | b c     | 0
        a reprieve that does not fit does not stop walk | critical      | 1024 | 200  | j:interactive:p:2048:1 i:batch:p:512:2                                        | PREEMPT     | j       | 0
        less important small unit reprieved             | critical      | 2048 | 0    | i1:batch:p:1024:1 i2:batch:p:1024:2 o:opportunistic:p:512:3                   | PREEMPT     | i1 i2   | 0
        interactive ignores critical and equal          | interactive   | 1536 | 512  | i:batch:p:1024:1 o:opportunistic:p:1024:2 f:critical:n:1024:3 j:interactive:p:1024:4 | PREEMPT | o  | 0
        class beats age                                 | critical      | 1024 | 0    | o:opportunistic:p:1024:1 i:batch:p:1024:9                                     | PREEMPT     | o       | 0
        every candidate needed                          | critical      | 3072 | 0    | j:interactive:p:1024:1 i:batch:p:1024:2 o:opportunistic:p:1024:3              | PREEMPT     | j i o   | 0
        least recently used evicted first, oldest too   | critical      | 1024 | 0    | a:batch:p:1024:1:5 b:batch:p:1024:2:10                                        | PREEMPT     | a       | 0
        least recently used evicted first, newest too   | critical      | 1024 | 0    | a:batch:p:1024:1:10 b:batch:p:1024:2:5                                        | PREEMPT     | b       | 0
        never used counts as least recent               | critical      | 1024 | 0    | a:batch:p:1024:1 b:batch:p:1024:2:5                                           | PREEMPT     | a       | 0
        equally recent: newest evicted first            | critical      | 1024 | 0    | a:batch:p:1024:1:5 b:batch:p:1024:2:5                                         | PREEMPT     | b       | 0
        only as many as needed, least recent first      | critical      | 2048 | 0    | m1:batch:p:1024:1:30 m2:batch:p:1024:2:10 m3:batch:p:1024:3:20                | PREEMPT     | m3 m2   | 0
        class beats last use                            | critical      | 1024 | 0    | o:opportunistic:p:1024:1:50 i:batch:p:1024:2:1                                | PREEMPT     | o       | 0
        """)
    void plansVictims(String rule, String requester, long requestMib, long freeMib, String unitSpec, String outcome,
            String victims, long shortMib) {
        List<Unit> units = units(unitSpec);
        PreemptionPlanner.Plan<Unit> plan = PreemptionPlanner.plan(PriorityClass.parse(requester),
                requestMib * Homelab.MIB, freeMib * Homelab.MIB, units);
        assertEquals(PreemptionPlanner.Outcome.valueOf(outcome), plan.outcome(), rule);
        String got = plan.victims().stream().map(Unit::name).collect(Collectors.joining(" "));
        assertEquals(victims == null ? "" : victims, got, rule);
        assertEquals(shortMib * Homelab.MIB, plan.shortfallBytes(), rule);
    }

    /**
     * Properties on random inputs: victims are candidates, the request fits once they are gone,
     * and no victim could have been reprieved when the walk reached it.
     */
    @Test
    void randomPlansAreSoundAndLocallyMinimal() {
        long seed = 0x5EED_0001L;
        SplittableRandom random = new SplittableRandom(seed);
        PriorityClass[] classes = PriorityClass.values();
        for (int round = 0; round < 2000; round++) {
            List<Unit> units = new ArrayList<>();
            int n = random.nextInt(0, 12);
            for (int i = 0; i < n; i++) {
                PriorityClass c = classes[random.nextInt(classes.length)];
                Instant used = random.nextBoolean() ? Instant.MIN : Homelab.START.plusSeconds(random.nextInt(0, 5));
                units.add(new Unit("u" + i, c, c != PriorityClass.CRITICAL && random.nextInt(4) > 0,
                        random.nextLong(1, 2048) * Homelab.MIB, random.nextLong(1, 1_000_000), used));
            }
            PriorityClass requester = classes[random.nextInt(classes.length)];
            long request = random.nextLong(1, 4096) * Homelab.MIB;
            long free = random.nextLong(-1024, 2048) * Homelab.MIB;
            PreemptionPlanner.Plan<Unit> plan = PreemptionPlanner.plan(requester, request, free, units);
            String ctx = "seed " + seed + " round " + round + " requester " + requester + " request " + request
                    + " free " + free + " units " + units;
            for (Unit v : plan.victims()) {
                assertTrue(requester.outranks(v.priority()) && v.preemptible(), "victim not a candidate: " + ctx);
            }
            switch (plan.outcome()) {
                case FITS -> assertTrue(request <= free, ctx);
                case CANNOT_HELP -> {
                    long all = free + plan.candidates().stream().mapToLong(Unit::releasableBytes).sum();
                    assertTrue(all < request, ctx);
                    assertEquals(request - all, plan.shortfallBytes(), ctx);
                }
                case PREEMPT -> {
                    assertTrue(request > free, ctx);
                    long after = free + plan.victimBytes();
                    assertTrue(after >= request, "request does not fit after eviction: " + ctx);
                    for (Unit v : plan.victims()) {
                        long stillOutWhenConsidered = after + reprievedAfter(plan, v);
                        assertTrue(stillOutWhenConsidered - v.releasableBytes() < request,
                                "victim " + v + " could have been reprieved: " + ctx);
                    }
                }
            }
        }
    }

    /** Bytes of units reprieved after {@code victim} in the walk: still out when it was considered. */
    private static long reprievedAfter(PreemptionPlanner.Plan<Unit> plan, Unit victim) {
        List<Unit> order = new ArrayList<>(plan.candidates());
        order.sort(java.util.Comparator.comparing(Unit::priority)
                .thenComparing(Unit::lastUsed, java.util.Comparator.reverseOrder()).thenComparingLong(Unit::age));
        int at = order.indexOf(victim);
        return order.subList(at + 1, order.size()).stream().filter(u -> !plan.victims().contains(u))
                .mapToLong(Unit::releasableBytes).sum();
    }

    /** The packed primitive sort and its comparator fallback agree with a stable comparator sort. */
    @Test
    void sortingByAgeIsStableOnEveryPath() {
        SplittableRandom random = new SplittableRandom(7);
        for (int round = 0; round < 500; round++) {
            List<Unit> units = new ArrayList<>();
            int n = random.nextInt(0, 300);
            boolean hugeSpread = round % 5 == 0;
            for (int i = 0; i < n; i++) {
                long age = hugeSpread && i % 7 == 0 ? Long.MAX_VALUE - random.nextLong(0, 3) : random.nextLong(1, 40);
                units.add(new Unit("u" + i, PriorityClass.BATCH, true, Homelab.MIB, age));
            }
            List<Unit> expected = new ArrayList<>(units);
            expected.sort(java.util.Comparator.comparingLong(Unit::age));
            List<Unit> got = new ArrayList<>(units);
            PreemptionPlanner.sortReprieveOrder(got);
            assertEquals(expected, got, "round " + round);
        }
    }

    /** With last-use times: most recently used first, then oldest, then input order. */
    @Test
    void sortingByLastUseIsStable() {
        SplittableRandom random = new SplittableRandom(11);
        for (int round = 0; round < 300; round++) {
            List<Unit> units = new ArrayList<>();
            int n = random.nextInt(2, 60);
            for (int i = 0; i < n; i++) {
                Instant used = random.nextInt(3) == 0 ? Instant.MIN : Homelab.START.plusSeconds(random.nextInt(0, 4));
                units.add(new Unit("u" + i, PriorityClass.BATCH, true, Homelab.MIB, random.nextLong(1, 10), used));
            }
            List<Unit> expected = new ArrayList<>(units);
            expected.sort(java.util.Comparator.comparing(Unit::lastUsed, java.util.Comparator.reverseOrder())
                    .thenComparingLong(Unit::age));
            List<Unit> got = new ArrayList<>(units);
            PreemptionPlanner.sortReprieveOrder(got);
            assertEquals(expected, got, "round " + round);
        }
    }

    @Test
    void deterministic() {
        List<Unit> units = units("a:batch:p:1024:1 b:batch:p:1024:1 c:opportunistic:p:1024:1");
        List<String> first = null;
        for (int i = 0; i < 5; i++) {
            List<String> names = PreemptionPlanner.plan(PriorityClass.CRITICAL, 2048 * Homelab.MIB, 0, units)
                    .victims().stream().map(Unit::name).toList();
            if (first == null) {
                first = names;
            }
            assertEquals(first, names);
        }
        // Equal class and age keep input order: a is reprieved first, so b and c go.
        assertEquals(Arrays.asList("b", "c"), first);
    }
}
