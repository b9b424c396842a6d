package org.gpuagent.scheduler;

import static org.gpuagent.scheduler.Homelab.GIB;
import static org.gpuagent.scheduler.Homelab.MIB;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Seeded random operation sequences against the controller in virtual time, checked after every
 * step against a reference model: Σ counted leases ≤ budget, no lease lost or doubled, every
 * release idempotent, queue order kept, committed bytes equal to an independent computation, and
 * every request decided exactly once. Rerun a failure with {@code -Dledger.seed=<seed>}.
 */
class LedgerInvariantTest {
    /** Operations per run; the mutation-testing profile runs fewer (-Dledger.operations), once per mutant. */
    private static final int OPERATIONS = Integer.getInteger("ledger.operations", 100_000);
    private static final List<String> SERVICES = List.of("frigate", "jellyfin", "immich", "ollama", "backup");

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {0x6A7E_5EEDL})
    void randomOperationsKeepTheInvariants(long defaultSeed) {
        long seed = Long.getLong("ledger.seed", defaultSeed);
        Run run = new Run(seed);
        try {
            run.go();
        } catch (AssertionError | RuntimeException e) {
            throw new AssertionError("ledger invariant broken with seed " + seed + " at operation " + run.step
                    + " (" + run.lastOp + "); rerun with -Dledger.seed=" + seed + ": " + e.getMessage(), e);
        }
    }

    /** One seeded run; the model is fed by the controller's events, on the writer (this thread). */
    private static final class Run {
        final long seed;
        final SplittableRandom random;
        final Homelab.Rig rig;
        int step;
        Object lastOp = "start";

        /** The counted leases as the events tell them. */
        final Map<LeaseId, Lease> live = new LinkedHashMap<>();
        final Set<LeaseId> everReleased = new HashSet<>();
        final List<LeaseId> everGranted = new ArrayList<>();
        /** Requests decided Queued and not yet final, by request id (= arrival order here). */
        final Map<Long, PriorityClass> waiting = new LinkedHashMap<>();
        final Map<Long, PriorityClass> priorityOf = new HashMap<>();
        final Map<Long, Admission> admissions = new HashMap<>();
        final Set<Long> finals = new HashSet<>();
        final List<String> violations = new CopyOnWriteArrayList<>();
        Observation last;

        Run(long seed) {
            this.seed = seed;
            this.random = new SplittableRandom(seed);
            this.rig = Homelab.rig();
            rig.controller.addListener(this::onEvent);
        }

        void onEvent(LedgerEvent e) {
            if (e instanceof LedgerEvent.Admitted a) {
                if (live.put(a.lease().id(), a.lease()) != null) {
                    violations.add("lease " + a.lease().id() + " admitted twice");
                }
                everGranted.add(a.lease().id());
                long sum = live.values().stream().mapToLong(Lease::bytes).sum();
                if (sum > rig.controller.view().budgetBytes()) {
                    violations.add("Σ leases " + sum + " over the budget after admitting " + a.lease().id());
                }
                PriorityClass p = priorityOf.get(a.requestId());
                for (Map.Entry<Long, PriorityClass> w : waiting.entrySet()) {
                    boolean ahead = w.getValue().outranks(p) || (w.getValue() == p && w.getKey() < a.requestId());
                    if (ahead && w.getKey() != a.requestId()) {
                        violations.add("request " + a.requestId() + " (" + p + ") admitted while request " + w.getKey()
                                + " (" + w.getValue() + ") waited ahead of it");
                    }
                }
                decided(a.requestId());
            } else if (e instanceof LedgerEvent.Resized r) {
                Lease before = live.get(r.lease().id());
                Lease expected = before == null ? null : new Lease(before.id(), before.service(), r.lease().bytes(),
                        before.holder(), before.pids(), before.grantedAt(), before.state(), before.evictingSince());
                if (before == null || before.bytes() != r.fromBytes() || !r.lease().equals(expected)) {
                    violations.add("resize of " + r.lease().id() + " from " + before + " to " + r.lease());
                }
                live.put(r.lease().id(), r.lease());
                long sum = live.values().stream().mapToLong(Lease::bytes).sum();
                if (r.lease().bytes() > r.fromBytes() && sum > rig.controller.view().budgetBytes()) {
                    violations.add("Σ leases " + sum + " over the budget after growing " + r.lease().id());
                }
                PriorityClass p = priorityOf.get(r.requestId());
                for (Map.Entry<Long, PriorityClass> w : waiting.entrySet()) {
                    boolean ahead = w.getValue().outranks(p) || (w.getValue() == p && w.getKey() < r.requestId());
                    if (ahead && w.getKey() != r.requestId() && r.lease().bytes() > r.fromBytes()) {
                        violations.add("growth " + r.requestId() + " (" + p + ") admitted while request " + w.getKey()
                                + " (" + w.getValue() + ") waited ahead of it");
                    }
                }
                stats.merge(r.lease().bytes() > r.fromBytes() ? "grown" : "shrunk", 1, Integer::sum);
                decided(r.requestId());
            } else if (e instanceof LedgerEvent.Denied d) {
                stats.merge(d.reason().label(), 1, Integer::sum);
                decided(d.requestId());
            } else if (e instanceof LedgerEvent.Queued q) {
                waiting.put(q.requestId(), priorityOf.get(q.requestId()));
            } else if (e instanceof LedgerEvent.Released r) {
                gone(r.lease());
            } else if (e instanceof LedgerEvent.Evicted r) {
                gone(r.lease());
            } else if (e instanceof LedgerEvent.Reclaimed r) {
                gone(r.lease());
            } else if (e instanceof LedgerEvent.RolledBack r) {
                gone(r.lease());
            } else if (e instanceof LedgerEvent.Preempted p) {
                Lease before = live.get(p.victim().id());
                if (before == null || before.state() != LeaseState.ACTIVE) {
                    violations.add("preempted lease " + p.victim().id() + " was not active: " + before);
                }
                live.put(p.victim().id(), p.victim());
            }
        }

        final Map<String, Integer> stats = new java.util.TreeMap<>();
        long queueSum;

        void decided(long requestId) {
            if (!finals.add(requestId)) {
                violations.add("request " + requestId + " decided twice");
            }
            waiting.remove(requestId);
        }

        void gone(Lease l) {
            if (live.remove(l.id()) == null) {
                violations.add("lease " + l.id() + " released but not counted");
            }
            if (l.state() != LeaseState.RELEASED) {
                violations.add("released lease " + l.id() + " reported as " + l.state());
            }
            everReleased.add(l.id());
        }

        void go() {
            for (step = 0; step < OPERATIONS; step++) {
                int op = random.nextInt(100);
                if (op < 34) {
                    request();
                } else if (op < 40) {
                    resize();
                } else if (op < 55) {
                    releaseById();
                } else if (op < 62) {
                    releaseByHolder();
                } else if (op < 80) {
                    observe();
                } else if (op < 95) {
                    long ms = random.nextLong(0, 20_000);
                    lastOp = Duration.ofMillis(ms);
                    rig.time.advance(Duration.ofMillis(ms));
                } else {
                    cancel();
                }
                check();
            }
            lastOp = "drain at the end";
            rig.time.advance(Duration.ofHours(1));
            check();
            for (Map.Entry<Long, Admission> a : admissions.entrySet()) {
                if (!a.getValue().outcome().isDone()) {
                    throw new AssertionError("request " + a.getKey() + " never got a final decision");
                }
            }
            if (!rig.view().queue().isEmpty() || !waiting.isEmpty()) {
                throw new AssertionError("requests still waiting after an hour: " + rig.view().queue());
            }
            System.out.println("seed " + seed + ": " + everGranted.size() + " admitted, " + stats);
            if (everGranted.size() < OPERATIONS / 20) {
                throw new AssertionError("too few admissions to mean anything: " + everGranted.size());
            }
        }

        String holder(String service) {
            int n = random.nextInt(10);
            return n == 0 ? null : service + "-" + (n % 4);
        }

        void request() {
            String service = SERVICES.get(random.nextInt(SERVICES.size()));
            long bytes = random.nextInt(50) == 0 ? random.nextLong(4 * GIB, 6 * GIB)
                    : random.nextLong(32, 1536) * MIB;
            String holder = holder(service);
            Duration wait = random.nextBoolean() ? Duration.ZERO : Duration.ofSeconds(random.nextLong(1, 60));
            AdmissionRequest r = AdmissionRequest.of(service).withBytes(bytes).withWait(wait);
            if (holder != null) {
                r = r.withHolder(holder);
            }
            if (random.nextInt(8) == 0) {
                r = r.withPids(List.of(random.nextLong(1, 50)));
            }
            lastOp = r;
            long freeBefore = rig.view().budgetBytes() - rig.view().committedBytes();
            boolean queueEmpty = rig.view().queue().isEmpty();
            boolean noneEvicting = rig.view().leases().stream().allMatch(l -> l.state() == LeaseState.ACTIVE);
            long expectedId = nextRequestId();
            priorityOf.put(expectedId, Homelab.SERVICES.stream().filter(s -> s.name().equals(service)).findFirst()
                    .orElseThrow().priority());
            Admission a = rig.controller.request(r);
            if (a.requestId() != expectedId) {
                throw new AssertionError("request ids are not sequential");
            }
            admissions.put(a.requestId(), a);
            Decision first = Homelab.now(a.firstDecision());
            // Reference: with nobody waiting and nothing evicting, it is admitted on arrival iff it fits.
            if (queueEmpty && noneEvicting && bytes <= rig.view().budgetBytes()) {
                boolean admittedNow = first instanceof Decision.Admitted;
                if (admittedNow != (bytes <= freeBefore)) {
                    throw new AssertionError("free " + freeBefore + ", asked " + bytes + ", got " + first.sentence());
                }
            }
            if (first instanceof Decision.Denied d && d.reason() == Decision.Reason.INSUFFICIENT_VRAM) {
                long canFree = candidateBytes(priorityOf.get(a.requestId()));
                if (freeBefore + canFree >= bytes && noneEvicting) {
                    throw new AssertionError("denied although preemption could free enough: " + d.sentence());
                }
            }
        }

        /**
         * A resize of a counted lease (sometimes of a released one). Reference: a released lease is
         * not found; a shrink is applied at once; with nobody waiting and nothing evicting, a growth
         * is admitted on arrival iff the difference fits.
         */
        void resize() {
            if (everGranted.isEmpty()) {
                return;
            }
            List<LeaseId> liveIds = new ArrayList<>(live.keySet());
            LeaseId id = liveIds.isEmpty() || random.nextInt(8) == 0
                    ? everGranted.get(random.nextInt(everGranted.size()))
                    : liveIds.get(random.nextInt(liveIds.size()));
            Lease before = live.get(id);
            long bytes = random.nextLong(32, 2048) * MIB;
            Duration wait = random.nextBoolean() ? Duration.ZERO : Duration.ofSeconds(random.nextLong(1, 60));
            lastOp = "resize " + id + " to " + bytes + " waiting " + wait + (before == null ? " (released)" : "");
            long freeBefore = rig.view().budgetBytes() - rig.view().committedBytes();
            boolean queueEmpty = rig.view().queue().isEmpty();
            boolean noneEvicting = rig.view().leases().stream().allMatch(l -> l.state() == LeaseState.ACTIVE);
            long expectedId = nextRequestId();
            if (before != null) {
                priorityOf.put(expectedId, service(before.service()).priority());
            }
            Admission a = rig.controller.resize(id, bytes, wait);
            if (a.requestId() != expectedId) {
                throw new AssertionError("request ids are not sequential");
            }
            admissions.put(a.requestId(), a);
            Decision first = Homelab.now(a.firstDecision());
            if (before == null) {
                if (!(first instanceof Decision.Denied d) || d.reason() != Decision.Reason.LEASE_NOT_FOUND) {
                    throw new AssertionError("resize of a released lease: " + first);
                }
                return;
            }
            if (bytes <= before.bytes()) {
                Decision.Admitted d = (Decision.Admitted) first;
                // The shrink may admit a waiting request that preempts this very lease at once.
                if (d.lease().bytes() != bytes || live.get(id).bytes() != bytes) {
                    throw new AssertionError("shrink not applied: " + d.sentence());
                }
                return;
            }
            if (queueEmpty && noneEvicting) {
                boolean admittedNow = first instanceof Decision.Admitted;
                if (admittedNow != (bytes - before.bytes() <= freeBefore)) {
                    throw new AssertionError("free " + freeBefore + ", growing " + before.bytes() + " to " + bytes
                            + ", got " + first.sentence());
                }
            }
        }

        long requestIds;

        long nextRequestId() {
            return ++requestIds;
        }

        /** What evicting every lower-priority preemptible holder group would free (reference). */
        long candidateBytes(PriorityClass requester) {
            Map<String, Long> leasedByGroup = new HashMap<>();
            Map<String, Service> serviceOfGroup = new HashMap<>();
            for (Lease l : rig.view().leases()) {
                Service s = service(l.service());
                if (requester.outranks(s.priority()) && s.preemptible()) {
                    String key = l.service() + "/" + l.holder().orElse("");
                    leasedByGroup.merge(key, l.bytes(), Long::sum);
                    serviceOfGroup.put(key, s);
                }
            }
            long sum = 0;
            for (Map.Entry<String, Long> g : leasedByGroup.entrySet()) {
                sum += Math.max(g.getValue(), observedOfGroup(g.getKey()));
            }
            return sum;
        }

        long observedOfGroup(String key) {
            if (last == null) {
                return 0;
            }
            String[] f = key.split("/", -1);
            if (!f[1].isEmpty()) {
                return last.holderBytes(f[1]);
            }
            return residual(f[0]);
        }

        long residual(String service) {
            Set<String> holders = new HashSet<>();
            for (Lease l : rig.view().leases()) {
                if (l.service().equals(service) && l.holder().isPresent()) {
                    holders.add(l.holder().get());
                }
            }
            long sum = 0;
            for (String h : holders) {
                sum += last.holderBytes(h);
            }
            return Math.max(0, last.serviceBytes(service) - sum);
        }

        static Service service(String name) {
            return Homelab.SERVICES.stream().filter(s -> s.name().equals(name)).findFirst().orElseThrow();
        }

        /** C computed from the published view and the last observation, independently of the ledger. */
        long referenceCommitted(LedgerView v) {
            Map<String, Long> groupLeased = new LinkedHashMap<>();
            Map<String, Long> holderlessLeased = new HashMap<>();
            for (Lease l : v.leases()) {
                if (l.holder().isPresent()) {
                    groupLeased.merge(l.service() + "/" + l.holder().get(), l.bytes(), Long::sum);
                } else {
                    holderlessLeased.merge(l.service(), l.bytes(), Long::sum);
                }
            }
            long c = last == null ? 0 : last.unattributedBytes();
            for (Map.Entry<String, Long> g : groupLeased.entrySet()) {
                c += Math.max(g.getValue(), observedOfGroup(g.getKey()));
            }
            for (String s : SERVICES) {
                long res = last == null ? 0 : residual(s);
                c += Math.max(holderlessLeased.getOrDefault(s, 0L), res);
            }
            if (last != null) {
                for (Map.Entry<String, Long> e : last.bytesByService().entrySet()) {
                    if (!SERVICES.contains(e.getKey())) {
                        c += e.getValue();
                    }
                }
            }
            return c;
        }

        void releaseById() {
            if (everGranted.isEmpty()) {
                return;
            }
            List<LeaseId> liveIds = new ArrayList<>(live.keySet());
            LeaseId id = liveIds.isEmpty() || random.nextInt(5) == 0
                    ? everGranted.get(random.nextInt(everGranted.size()))
                    : liveIds.get(random.nextInt(liveIds.size()));
            boolean counted = live.containsKey(id);
            lastOp = "release " + id + (counted ? "" : " (already released)");
            boolean first = Homelab.now(rig.controller.release(id));
            if (first != counted) {
                throw new AssertionError("release of " + id + " returned " + first + " but counted=" + counted);
            }
            if (Homelab.now(rig.controller.release(id))) {
                throw new AssertionError("second release of " + id + " changed something");
            }
        }

        void releaseByHolder() {
            String service = SERVICES.get(random.nextInt(SERVICES.size()));
            String holder = service + "-" + random.nextInt(4);
            long expected = live.values().stream().filter(l -> l.holder().equals(Optional.of(holder))).count();
            lastOp = "release holder " + holder;
            int n = Homelab.now(rig.controller.releaseHolder(holder));
            if (n != expected) {
                throw new AssertionError("released " + n + " leases of " + holder + ", expected " + expected);
            }
            if (Homelab.now(rig.controller.releaseHolder(holder)) != 0) {
                throw new AssertionError("second release of holder " + holder + " changed something");
            }
        }

        void observe() {
            Observation.Builder o = Observation.builder(rig.time.instant(), 4 * GIB);
            Set<String> holders = new HashSet<>();
            for (Lease l : live.values()) {
                l.holder().ifPresent(holders::add);
            }
            for (String h : holders) {
                Lease any = live.values().stream().filter(l -> l.holder().equals(Optional.of(h))).findFirst()
                        .orElseThrow();
                boolean evicting = live.values().stream()
                        .anyMatch(l -> l.holder().equals(Optional.of(h)) && l.state() == LeaseState.EVICTING);
                long bytes;
                int pick = random.nextInt(6);
                if (evicting && pick < 3) {
                    bytes = 0;
                } else if (pick == 0) {
                    bytes = 0;
                } else if (pick == 1) {
                    bytes = any.bytes() + random.nextLong(0, 512) * MIB;
                } else {
                    bytes = random.nextLong(0, any.bytes() + 1);
                }
                o.holder(any.service(), h, bytes);
            }
            if (random.nextInt(4) == 0) {
                o.service(SERVICES.get(random.nextInt(SERVICES.size())), random.nextLong(0, 512) * MIB);
            }
            if (random.nextInt(4) == 0) {
                o.unattributed(random.nextLong(0, 300) * MIB);
            }
            if (random.nextInt(20) == 0) {
                o.service("plex", random.nextLong(1, 256) * MIB);
            }
            if (random.nextInt(3) > 0) {
                o.livenessKnown();
                for (String h : holders) {
                    if (random.nextInt(10) > 0) {
                        o.alive(h);
                    }
                }
                for (long pid = 1; pid < 50; pid++) {
                    if (random.nextInt(3) > 0) {
                        o.alivePid(pid);
                    }
                }
            }
            Observation obs = o.build();
            lastOp = obs;
            last = obs;
            Homelab.now(rig.controller.observe(obs));
        }

        void cancel() {
            if (waiting.isEmpty()) {
                return;
            }
            List<Long> ids = new ArrayList<>(waiting.keySet());
            long id = ids.get(random.nextInt(ids.size()));
            lastOp = "cancel request " + id;
            admissions.get(id).cancel();
            Decision.Final d = Homelab.now(admissions.get(id).outcome());
            if (!(d instanceof Decision.Denied denied) || denied.reason() != Decision.Reason.CANCELLED) {
                throw new AssertionError("cancelled request ended " + d);
            }
        }

        void check() {
            if (!violations.isEmpty()) {
                throw new AssertionError(String.join("; ", violations));
            }
            LedgerView v = rig.controller.view();
            long sum = 0;
            Set<LeaseId> ids = new HashSet<>();
            for (Lease l : v.leases()) {
                sum += l.bytes();
                if (!ids.add(l.id())) {
                    throw new AssertionError("lease " + l.id() + " listed twice");
                }
                if (l.state() == LeaseState.RELEASED) {
                    throw new AssertionError("released lease " + l.id() + " still listed");
                }
            }
            if (sum > v.budgetBytes()) {
                throw new AssertionError("Σ leases " + sum + " > budget " + v.budgetBytes());
            }
            if (sum != v.leasedBytes()) {
                throw new AssertionError("leasedBytes " + v.leasedBytes() + " != Σ " + sum);
            }
            if (!ids.equals(live.keySet())) {
                throw new AssertionError("ledger leases " + ids + " but events say " + live.keySet());
            }
            for (Lease l : v.leases()) {
                if (!l.equals(live.get(l.id()))) {
                    throw new AssertionError("lease " + l.id() + " differs from its events: " + l + " vs " + live.get(l.id()));
                }
            }
            long reference = referenceCommitted(v);
            if (v.committedBytes() != reference) {
                throw new AssertionError("committed " + v.committedBytes() + " but the reference computes " + reference);
            }
            long[] both = Homelab.now(rig.controller.committedCheck());
            if (both[0] != both[1]) {
                throw new AssertionError("incremental committed " + both[0] + " != recomputed " + both[1]);
            }
            PriorityClass previous = null;
            long previousId = -1;
            for (int i = 0; i < v.queue().size(); i++) {
                LedgerView.QueuedRequest q = v.queue().get(i);
                if (q.position() != i + 1) {
                    throw new AssertionError("queue positions out of order: " + v.queue());
                }
                if (previous != null && (q.priority().compareTo(previous) < 0
                        || (q.priority() == previous && q.requestId() < previousId))) {
                    throw new AssertionError("queue order broken: " + v.queue());
                }
                previous = q.priority();
                previousId = q.requestId();
            }
            if (v.queue().size() != waiting.size()) {
                throw new AssertionError("queue " + v.queue().size() + " but " + waiting.size() + " waiting by events");
            }
        }
    }
}
