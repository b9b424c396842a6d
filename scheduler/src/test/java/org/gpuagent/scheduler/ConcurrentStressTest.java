package org.gpuagent.scheduler;

import static org.gpuagent.scheduler.Homelab.GIB;
import static org.gpuagent.scheduler.Homelab.MIB;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.gpuagent.scheduler.journal.FileJournal;
import org.gpuagent.scheduler.journal.Journal;
import org.gpuagent.scheduler.testing.ManualTime;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Eight threads released together by a start latch hammer one controller with requests,
 * resizes (of any thread's leases, so one lease is resized from several threads at once),
 * releases (each twice), observations, cancellations and time steps. A listener, which runs on
 * the single writer, keeps a model and checks at every event: Σ counted leases ≤ budget, no lease
 * admitted twice or released without being counted, nobody admitted past a request waiting ahead
 * of it. At the end every request has exactly one final decision and every release call agrees
 * with the events.
 */
class ConcurrentStressTest {
    private static final int THREADS = 8;
    private static final List<String> SERVICES = List.of("frigate", "jellyfin", "immich", "ollama", "backup");

    @TempDir
    Path dir;

    /** Writer-owned model, fed by events. */
    private static final class Model implements LedgerListener {
        final Map<LeaseId, Lease> live = new HashMap<>();
        final Map<LeaseId, Integer> removals = new HashMap<>();
        final Map<LeaseId, Integer> releasedByRequest = new HashMap<>();
        /** Waiting requests: id → {priority ordinal, arrival sequence}. */
        final Map<Long, long[]> waiting = new HashMap<>();
        final Map<Long, Integer> finals = new HashMap<>();
        final List<String> violations = new CopyOnWriteArrayList<>();
        long arrivals;
        long budget;
        int admitted;
        int resized;

        @Override
        public void onEvent(LedgerEvent e) {
            if (e instanceof LedgerEvent.Admitted a) {
                admitted++;
                if (live.put(a.lease().id(), a.lease()) != null) {
                    violations.add("lease " + a.lease().id() + " admitted twice");
                }
                long sum = live.values().stream().mapToLong(Lease::bytes).sum();
                if (sum > budget) {
                    violations.add("Σ leases " + sum + " > budget " + budget);
                }
                int p = priority(a.lease().service());
                long[] self = waiting.get(a.requestId());
                for (Map.Entry<Long, long[]> w : waiting.entrySet()) {
                    if (w.getKey() == a.requestId()) {
                        continue;
                    }
                    long[] o = w.getValue();
                    boolean ahead = o[0] < p || (o[0] == p && (self == null || o[1] < self[1]));
                    if (ahead) {
                        violations.add("request " + a.requestId() + " admitted past waiting request " + w.getKey());
                    }
                }
                decided(a.requestId());
            } else if (e instanceof LedgerEvent.Resized r) {
                resized++;
                Lease before = live.put(r.lease().id(), r.lease());
                if (before == null || before.bytes() != r.fromBytes()) {
                    violations.add("lease " + r.lease().id() + " resized from " + r.fromBytes() + " but it was " + before);
                }
                long sum = live.values().stream().mapToLong(Lease::bytes).sum();
                if (sum > budget) {
                    violations.add("Σ leases " + sum + " > budget " + budget + " after a resize");
                }
                decided(r.requestId());
            } else if (e instanceof LedgerEvent.Denied d) {
                decided(d.requestId());
            } else if (e instanceof LedgerEvent.Queued q) {
                waiting.put(q.requestId(), new long[] {priority(q.service()), ++arrivals});
            } else if (e instanceof LedgerEvent.Released r) {
                releasedByRequest.merge(r.lease().id(), 1, Integer::sum);
                removed(r.lease());
            } else if (e instanceof LedgerEvent.Evicted r) {
                removed(r.lease());
            } else if (e instanceof LedgerEvent.Reclaimed r) {
                removed(r.lease());
            } else if (e instanceof LedgerEvent.RolledBack r) {
                removed(r.lease());
            } else if (e instanceof LedgerEvent.Preempted p) {
                live.put(p.victim().id(), p.victim());
            }
        }

        void decided(long id) {
            finals.merge(id, 1, Integer::sum);
            waiting.remove(id);
        }

        void removed(Lease l) {
            removals.merge(l.id(), 1, Integer::sum);
            if (live.remove(l.id()) == null) {
                violations.add("lease " + l.id() + " removed but not counted");
            }
        }

        static int priority(String service) {
            return Homelab.SERVICES.stream().filter(s -> s.name().equals(service)).findFirst().orElseThrow()
                    .priority().ordinal();
        }
    }

    @ParameterizedTest(name = "{0} journal, {1} operations per thread")
    @CsvSource({"memory, 4000", "file, 250"})
    void eightThreadsKeepTheInvariants(String journalKind, int operations) throws Exception {
        long seed = Long.getLong("ledger.seed", 0xC0FFEE);
        ManualTime time = new ManualTime(Homelab.START);
        Journal journal = journalKind.equals("file") ? FileJournal.open(dir, time) : Journal.none();
        Model model = new Model();
        ExecutorService overflow = Executors.newSingleThreadExecutor();
        AdmissionController c = AdmissionController.builder(Homelab.config(4 * GIB, 0), time, time)
                .journal(journal)
                .listener(model)
                .overflowExecutor(overflow, 4)
                .build();
        model.budget = c.view().budgetBytes();

        Map<LeaseId, AtomicInteger> trueReleases = new ConcurrentHashMap<>();
        AtomicInteger released = new AtomicInteger();
        List<Admission> all = new CopyOnWriteArrayList<>();
        List<Admission> resizes = new CopyOnWriteArrayList<>();
        List<LeaseId> granted = new CopyOnWriteArrayList<>();
        List<String> readerViolations = new CopyOnWriteArrayList<>();
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        List<Future<?>> workers = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            int thread = t;
            workers.add(pool.submit(() -> {
                SplittableRandom random = new SplittableRandom(seed + thread);
                List<Lease> mine = new ArrayList<>();
                start.await();
                for (int i = 0; i < operations; i++) {
                    int op = random.nextInt(100);
                    if (op < 45) {
                        String service = SERVICES.get(random.nextInt(SERVICES.size()));
                        AdmissionRequest r = AdmissionRequest.of(service).withBytes(random.nextLong(64, 1280) * MIB)
                                .withHolder("t" + thread + "-" + random.nextInt(4))
                                .withWait(random.nextBoolean() ? Duration.ZERO : Duration.ofSeconds(5));
                        Admission a = c.request(r);
                        all.add(a);
                        Decision first = Homelab.await(a.firstDecision());
                        if (first instanceof Decision.Admitted ad) {
                            mine.add(ad.lease());
                            granted.add(ad.lease().id());
                        }
                    } else if (op < 55 && !granted.isEmpty()) {
                        LeaseId id = granted.get(random.nextInt(Math.max(0, granted.size() - 32), granted.size()));
                        resizes.add(c.resize(id, random.nextLong(64, 1536) * MIB,
                                random.nextBoolean() ? Duration.ZERO : Duration.ofSeconds(5)));
                    } else if (op < 75 && !mine.isEmpty()) {
                        Lease l = mine.remove(random.nextInt(mine.size()));
                        CompletableFuture<Boolean> once = c.release(l.id());
                        CompletableFuture<Boolean> twice = c.release(l.id());
                        int trues = (Homelab.await(once) ? 1 : 0) + (Homelab.await(twice) ? 1 : 0);
                        trueReleases.computeIfAbsent(l.id(), k -> new AtomicInteger()).addAndGet(trues);
                        released.addAndGet(trues);
                    } else if (op < 80) {
                        String holder = "t" + thread + "-" + random.nextInt(4);
                        released.addAndGet(Homelab.await(c.releaseHolder(holder)));
                        mine.removeIf(l -> l.holder().equals(Optional.of(holder)));
                    } else if (op < 88) {
                        Observation.Builder o = Observation.builder(time.instant(), 4 * GIB)
                                .unattributed(random.nextLong(0, 256) * MIB);
                        if (random.nextBoolean()) {
                            o.holder("ollama", "t" + thread + "-0", random.nextLong(0, 1024) * MIB);
                        }
                        Homelab.await(c.observe(o.build()));
                    } else if (op < 93) {
                        time.advance(Duration.ofMillis(random.nextLong(0, 3000)));
                    } else if (!all.isEmpty()) {
                        all.get(random.nextInt(all.size())).cancel();
                    }
                    LedgerView v = c.view();
                    long sum = v.leases().stream().mapToLong(Lease::bytes).sum();
                    if (sum > v.budgetBytes() || sum != v.leasedBytes()) {
                        readerViolations.add("view " + v.version() + ": Σ " + sum + ", leased " + v.leasedBytes()
                                + ", budget " + v.budgetBytes());
                    }
                }
                return null;
            }));
        }
        start.countDown();
        for (Future<?> w : workers) {
            w.get(5, TimeUnit.MINUTES);
        }
        pool.shutdown();

        time.advance(Duration.ofHours(1));
        for (Lease l : c.view().leases()) {
            if (Homelab.await(c.release(l.id()))) {
                trueReleases.computeIfAbsent(l.id(), k -> new AtomicInteger()).incrementAndGet();
                released.incrementAndGet();
            }
        }
        for (Admission a : all) {
            Homelab.await(a.outcome());
        }
        List<Decision.Final> resizeOutcomes = new ArrayList<>();
        for (Admission a : resizes) {
            resizeOutcomes.add(Homelab.await(a.outcome()));
        }
        long[] both = Homelab.await(c.committedCheck());
        c.close();
        overflow.shutdown();

        String context = "seed " + seed + " (rerun with -Dledger.seed=" + seed + ")";
        assertEquals(List.of(), model.violations, context);
        assertEquals(List.of(), readerViolations, context);
        assertTrue(model.live.isEmpty(), "leases left after releasing everything: " + model.live + "; " + context);
        assertTrue(c.view().leases().isEmpty() && c.view().queue().isEmpty(), context);
        assertEquals(both[0], both[1], "incremental and recomputed committed differ; " + context);
        for (Admission a : all) {
            assertEquals(1, model.finals.getOrDefault(a.requestId(), 0), "request " + a.requestId()
                    + " final decisions; " + context);
        }
        for (int i = 0; i < resizes.size(); i++) {
            // A resize of a lease gone before it arrived is refused without an event.
            boolean silent = resizeOutcomes.get(i) instanceof Decision.Denied d
                    && d.reason() == Decision.Reason.LEASE_NOT_FOUND && d.service().isEmpty();
            assertEquals(silent ? 0 : 1, model.finals.getOrDefault(resizes.get(i).requestId(), 0), "resize "
                    + resizes.get(i).requestId() + " final decisions; " + context);
        }
        assertTrue(model.resized > 0, "no resize succeeded; " + context);
        for (Map.Entry<LeaseId, Integer> r : model.removals.entrySet()) {
            assertEquals(1, r.getValue(), "lease " + r.getKey() + " removed more than once; " + context);
        }
        for (Map.Entry<LeaseId, AtomicInteger> r : trueReleases.entrySet()) {
            assertTrue(r.getValue().get() <= 1, "lease " + r.getKey() + " released " + r.getValue() + " times; "
                    + context);
        }
        int releasedEvents = model.releasedByRequest.values().stream().mapToInt(Integer::intValue).sum();
        assertEquals(releasedEvents, released.get(), "release calls that changed something versus Released events; "
                + context);
        // A floor that shows the run exercised the ledger; interleavings decide the exact count
        // (a file journal run of 2,000 operations has admitted between 90 and a few hundred).
        assertTrue(model.admitted > THREADS * operations / 50, "too few admissions to mean much: " + model.admitted + "; " + context);
    }
}
