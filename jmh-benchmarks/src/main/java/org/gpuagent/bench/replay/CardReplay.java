package org.gpuagent.bench.replay;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import org.gpuagent.bench.replay.Scenario.Policy;
import org.gpuagent.bench.replay.Scenario.ServiceSpec;
import org.gpuagent.bench.replay.Scenario.WorkloadSpec;
import org.gpuagent.nvml.sim.CudaOutOfMemoryException;
import org.gpuagent.nvml.sim.SimProcess;
import org.gpuagent.nvml.sim.SimulatedDevice;
import org.gpuagent.nvml.sim.SimulatedGpuHost;
import org.gpuagent.scheduler.Admission;
import org.gpuagent.scheduler.AdmissionController;
import org.gpuagent.scheduler.AdmissionRequest;
import org.gpuagent.scheduler.Decision;
import org.gpuagent.scheduler.Evictor;
import org.gpuagent.scheduler.Headroom;
import org.gpuagent.scheduler.LeaseId;
import org.gpuagent.scheduler.Observation;
import org.gpuagent.scheduler.SchedulerConfig;
import org.gpuagent.scheduler.Service;

/**
 * Replays one scenario's day under one policy: the real {@link AdmissionController} (in-memory
 * journal, its preemption planner and wait queue) decides, a simulated card ({@link SimulatedGpuHost})
 * holds what each admitted workload really allocates, and an evictor stands in for the actuators
 * (the victim's work stops {@code evicts-in} after the order, then its lease is released). Time is
 * virtual ({@link VirtualTime}): a day takes well under a second.
 *
 * <p>Deterministic: arrivals and durations come from the scenario's seed only (every policy sees
 * the same day), the controller runs on this thread (its overflow executor is the caller), and
 * every collection is ordered.
 *
 * <p>Admission, as the agent does it: with per-request admission each workload instance asks for
 * its table size (one lease per transcode, model load, job) and starts only when admitted; without
 * it each service takes one lease of its configured request when its first workload starts and
 * gives it back when its last one ends, and its workloads allocate what they really use inside it
 * (more than the lease is possible; the card then refuses the allocation: out of memory).
 *
 * <p>A request still waiting at midnight is withdrawn and counts as denied. What became of each
 * workload, and the committed VRAM over the day, is counted by a {@link ReplayTally}.
 */
final class CardReplay {
    static final Instant DAY_START = Instant.parse("2026-01-15T00:00:00Z");
    static final Duration DAY = Duration.ofHours(24);

    /** One workload instance of the day. */
    private static final class Instance {
        final int seq;
        final String kind;
        final String service;
        final long bytes;
        final Duration arrives;
        final Duration lasts;
        SimProcess process;
        LeaseId lease;
        boolean ended;

        Instance(int seq, String kind, String service, long bytes, Duration arrives, Duration lasts) {
            this.seq = seq;
            this.kind = kind;
            this.service = service;
            this.bytes = bytes;
            this.arrives = arrives;
            this.lasts = lasts;
        }

        String holder() {
            return kind + "#" + seq;
        }
    }

    /** Without per-request admission: one service's lease and the workloads inside it. */
    private static final class ServiceLease {
        LeaseId lease;
        boolean pending;
        final List<Instance> running = new ArrayList<>();
        final List<Instance> waiting = new ArrayList<>();
    }

    private final Scenario scenario;
    private final Policy policy;
    private final VirtualTime time = new VirtualTime(DAY_START);
    private final SimulatedDevice card;
    private final AdmissionController controller;
    private final ReplayTally tally;
    private final Map<LeaseId, Instance> byLease = new HashMap<>();
    private final Map<String, ServiceLease> serviceLeases = new LinkedHashMap<>();
    private final Map<String, Duration> evictsIn = new HashMap<>();
    /** Requests not yet decided; withdrawn at the end of the day. */
    private final List<Admission> undecided = new ArrayList<>();
    private int nextPid = 1000;

    private CardReplay(Scenario scenario, Policy policy) {
        this.scenario = scenario;
        this.policy = policy;
        this.card = SimulatedGpuHost.create(scenario.seed(), time, scenario.card()).device(0);
        this.tally = new ReplayTally(List.copyOf(scenario.services().keySet()));
        for (ServiceSpec s : scenario.services().values()) {
            serviceLeases.put(s.name(), new ServiceLease());
            evictsIn.put(s.name(), s.evictsIn());
        }
        this.controller = AdmissionController.builder(config(scenario, policy), time, time)
                .zone(ZoneOffset.UTC)
                .overflowExecutor(Runnable::run, Integer.MAX_VALUE)
                .evictor(this::evict)
                .build();
    }

    /** The scheduler configuration a policy gives: the scenario's services with its overrides. */
    static SchedulerConfig config(Scenario scenario, Policy policy) {
        List<Service> services = new ArrayList<>();
        for (ServiceSpec s : scenario.services().values()) {
            services.add(Service.of(s.name(), policy.priorities().getOrDefault(s.name(), s.priority()),
                    policy.requests().getOrDefault(s.name(), s.requestBytes()), s.preemptible())
                    .withEvictionDeadline(s.evictionDeadline()));
        }
        return new SchedulerConfig(scenario.card().memory().totalBytes(), policy.headroom().orElse(Headroom.auto()),
                services);
    }

    static ReplayOutcome replay(Scenario scenario, Policy policy) {
        return new CardReplay(scenario, policy).run();
    }

    /** The day's workload instances, from the seed alone, in arrival order. */
    static List<Instance> instances(Scenario scenario) {
        Random random = new Random(scenario.seed());
        List<Instance> out = new ArrayList<>();
        int seq = 0;
        for (WorkloadSpec w : scenario.workloads()) {
            VramTable.Row row = scenario.table().row(w.kind());
            if (w.every().isEmpty()) {
                for (int i = 0; i < w.count(); i++) {
                    out.add(new Instance(++seq, w.kind(), row.service(), row.bytes(), w.from(), w.to().minus(w.from())));
                }
                continue;
            }
            for (Duration slot = w.from(); slot.compareTo(w.to()) < 0; slot = slot.plus(w.every().get())) {
                for (int i = 0; i < w.count(); i++) {
                    Duration arrives = slot.plus(upTo(random, w.jitter()));
                    Duration lasts = w.lasts().plus(upTo(random, w.lastsJitter()));
                    if (arrives.compareTo(DAY) < 0) {
                        out.add(new Instance(++seq, w.kind(), row.service(), row.bytes(), arrives, lasts));
                    }
                }
            }
        }
        out.sort((a, b) -> a.arrives.equals(b.arrives) ? Integer.compare(a.seq, b.seq) : a.arrives.compareTo(b.arrives));
        return out;
    }

    private static Duration upTo(Random random, Duration max) {
        long seconds = max.toSeconds();
        return seconds <= 0 ? Duration.ZERO : Duration.ofSeconds((long) (random.nextDouble() * seconds));
    }

    private ReplayOutcome run() {
        for (Instance i : instances(scenario)) {
            time.schedule(DAY_START.plus(i.arrives), () -> arrive(i));
        }
        changed();
        time.runUntil(DAY_START.plus(DAY));
        // A request still waiting at midnight is withdrawn (it then counts as denied), so every
        // arrival is admitted or denied exactly once.
        for (Admission a : List.copyOf(undecided)) {
            a.cancel();
        }
        return tally.outcome(policy.name(), controller.view());
    }

    private Duration now() {
        return Duration.between(DAY_START, time.instant());
    }

    private void arrive(Instance i) {
        tally.arrived(i.service);
        if (policy.perRequest()) {
            ServiceSpec spec = scenario.services().get(i.service);
            Admission a = controller.request(AdmissionRequest.of(i.service).withBytes(i.bytes).withHolder(i.holder())
                    .withWait(spec.maxWait()));
            whenDecided(a, d -> {
                if (d instanceof Decision.Denied) {
                    tally.denied(i.service, now());
                } else {
                    i.lease = lease(d);
                    byLease.put(i.lease, i);
                    tally.admitted(i.service, waited(d));
                    start(i);
                }
            });
        } else {
            ServiceLease sl = serviceLeases.get(i.service);
            if (sl.lease != null) {
                tally.admitted(i.service, Duration.ZERO);
                start(i);
            } else {
                sl.waiting.add(i);
                if (!sl.pending) {
                    sl.pending = true;
                    ServiceSpec spec = scenario.services().get(i.service);
                    Admission a = controller.request(AdmissionRequest.of(i.service).withHolder("service:" + i.service)
                            .withWait(spec.maxWait()));
                    whenDecided(a, d -> serviceLeaseDecided(i.service, sl, d));
                }
            }
        }
        changed();
    }

    private void serviceLeaseDecided(String service, ServiceLease sl, Decision.Final d) {
        sl.pending = false;
        List<Instance> waiting = List.copyOf(sl.waiting);
        sl.waiting.clear();
        if (d instanceof Decision.Denied) {
            for (Instance ignored : waiting) {
                tally.denied(service, now());
            }
            return;
        }
        sl.lease = lease(d);
        for (Instance i : waiting) {
            tally.admitted(i.service, now().minus(i.arrives));
            start(i);
        }
    }

    private static LeaseId lease(Decision.Final d) {
        return d instanceof Decision.Admitted a ? a.lease().id() : ((Decision.AdmittedAfterPreemption) d).lease().id();
    }

    private static Duration waited(Decision.Final d) {
        return d instanceof Decision.Admitted a ? a.waited() : ((Decision.AdmittedAfterPreemption) d).waited();
    }

    /**
     * Runs {@code then} when the request is decided: at once when it was, else from the timer or
     * release that decides it (both on this thread).
     */
    private void whenDecided(Admission a, java.util.function.Consumer<Decision.Final> then) {
        CompletableFuture<Decision.Final> outcome = a.outcome();
        if (!outcome.isDone()) {
            undecided.add(a);
        }
        outcome.thenAccept(d -> {
            undecided.remove(a);
            then.accept(d);
            changed();
        });
    }

    /** Starts the workload on the card: a CUDA context, then the rest of its size. */
    private void start(Instance i) {
        try {
            i.process = card.startProcess(nextPid++, i.holder());
            long rest = i.bytes - card.profile().memory().contextCostBytes();
            if (rest > 0) {
                i.process.allocate(rest);
            }
        } catch (CudaOutOfMemoryException e) {
            tally.outOfMemory(i.service, now());
            end(i);
            return;
        }
        if (!policy.perRequest()) {
            serviceLeases.get(i.service).running.add(i);
        }
        // Work still running at midnight stays running: the day ends with it on the card.
        if (now().plus(i.lasts).compareTo(DAY) < 0) {
            time.after(i.lasts, () -> {
                end(i);
                changed();
            });
        }
    }

    /** The workload stops (done, failed or evicted): its memory goes back, then its lease. */
    private void end(Instance i) {
        if (i.ended) {
            return;
        }
        i.ended = true;
        if (i.process != null) {
            i.process.exit();
        }
        if (policy.perRequest()) {
            if (i.lease != null) {
                byLease.remove(i.lease);
                controller.release(i.lease);
            }
            return;
        }
        ServiceLease sl = serviceLeases.get(i.service);
        sl.running.remove(i);
        if (sl.running.isEmpty() && sl.waiting.isEmpty() && sl.lease != null) {
            controller.release(sl.lease);
            sl.lease = null;
        }
    }

    /** The actuator: the victim's work stops {@code evicts-in} later, which frees its lease. */
    private CompletableFuture<Void> evict(Evictor.Order order) {
        String service = order.victim().service();
        LeaseId id = order.victim().id();
        time.after(evictsIn.getOrDefault(service, Duration.ZERO), () -> {
            if (policy.perRequest()) {
                Instance i = byLease.get(id);
                if (i != null && !i.ended) {
                    tally.preempted(i.service, now());
                    end(i);
                }
            } else {
                ServiceLease sl = serviceLeases.get(service);
                if (id.equals(sl.lease)) {
                    for (Instance i : List.copyOf(sl.running)) {
                        tally.preempted(i.service, now());
                        i.ended = true;
                        i.process.exit();
                    }
                    sl.running.clear();
                    sl.lease = null;
                    controller.release(id);
                }
            }
            changed();
        });
        return CompletableFuture.completedFuture(null);
    }

    /** Tells the ledger what the card holds now, and records the moment for the timeline. */
    private void changed() {
        Observation.Builder o = Observation.builder(time.instant(), card.profile().memory().totalBytes());
        for (SimProcess p : card.processes()) {
            String service = serviceOfHolder(p.name());
            o.holder(service, policy.perRequest() ? p.name() : "service:" + service, p.usedBytes());
        }
        controller.observe(o.used(card.usedBytes()).build());
        tally.committed(now(), controller.view());
    }

    private String serviceOfHolder(String holder) {
        return scenario.table().row(holder.substring(0, holder.lastIndexOf('#'))).service();
    }
}
