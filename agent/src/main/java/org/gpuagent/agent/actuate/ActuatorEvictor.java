package org.gpuagent.agent.actuate;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import org.gpuagent.agent.logging.DaemonLog;
import org.gpuagent.scheduler.Evictor;
import org.gpuagent.scheduler.LeaseId;
import org.gpuagent.scheduler.LedgerEvent;
import org.gpuagent.scheduler.LedgerListener;

/**
 * The ledger's {@link Evictor}: runs the victim's preemption actions on an actuator thread, in
 * order, escalating while its memory does not come back:
 * <ol>
 * <li>the action registered for that lease in {@link LeaseActions}, if any (the Ollama proxy's
 *     "unload model M"), then the victim service's actions in their configured order (e.g.
 *     {@code [ollama-unload, stop-unit]});</li>
 * <li>each action is bounded by the time left until the preempting request's deadline (at least
 *     5 s); after it, the evictor waits up to the step wait ({@link #stepWait}: by default the
 *     service's eviction deadline divided by the number of steps, at least 1 s) for the ledger to
 *     release the lease (its memory seen free); if it does not, the next action runs;</li>
 * <li>when the last action is done and the memory is still not back, the victim is reported (a
 *     WARN line, and {@code unresponsive}, which the daemon counts in a metric); the lease stays
 *     EVICTING and counted, so its memory is never silently forgotten.</li>
 * </ol>
 * Never blocks the ledger's writer. It learns that a lease is gone as a {@link LedgerListener}:
 * the daemon registers it with the ledger.
 */
public final class ActuatorEvictor implements Evictor, LedgerListener {
    static final Duration MIN_TIMEOUT = Duration.ofSeconds(5);
    static final Duration MIN_STEP_WAIT = Duration.ofSeconds(1);

    private final Map<String, List<Actuator>> byService;
    private final LeaseActions byLease;
    private final ExecutorService executor;
    private final InstantSource clock;
    private final Function<Order, Duration> stepWait;
    private final Consumer<Order> unresponsive;
    private final Map<LeaseId, CompletableFuture<Void>> gone = new ConcurrentHashMap<>();

    /** One action per service, no escalation (the single-action configuration). */
    public ActuatorEvictor(Map<String, Actuator> byService, LeaseActions byLease, ExecutorService executor,
            InstantSource clock) {
        this(single(byService), byLease, executor, clock, null, order -> { });
    }

    /**
     * @param byService    each service's actions, in escalation order
     * @param stepWait     how long to wait for the memory after one action before the next; null
     *                     for the default (eviction deadline / steps, at least 1 s)
     * @param unresponsive told of a victim whose memory is still not back after its last action
     */
    public ActuatorEvictor(Map<String, List<Actuator>> byService, LeaseActions byLease, ExecutorService executor,
            InstantSource clock, Function<Order, Duration> stepWait, Consumer<Order> unresponsive) {
        this.byService = Map.copyOf(byService);
        this.byLease = byLease;
        this.executor = executor;
        this.clock = clock;
        this.stepWait = stepWait;
        this.unresponsive = unresponsive;
    }

    private static Map<String, List<Actuator>> single(Map<String, Actuator> byService) {
        Map<String, List<Actuator>> m = new java.util.HashMap<>();
        byService.forEach((k, v) -> m.put(k, List.of(v)));
        return m;
    }

    @Override
    public void onEvent(LedgerEvent event) {
        LeaseId id = null;
        if (event instanceof LedgerEvent.Evicted e) {
            id = e.lease().id();
        } else if (event instanceof LedgerEvent.Released r) {
            id = r.lease().id();
        } else if (event instanceof LedgerEvent.Reclaimed r) {
            id = r.lease().id();
        } else if (event instanceof LedgerEvent.RolledBack r) {
            id = r.lease().id();
        }
        if (id != null) {
            CompletableFuture<Void> f = gone.remove(id);
            if (f != null) {
                f.complete(null);
            }
        }
    }

    @Override
    public CompletionStage<Void> evict(Order order) {
        List<Actuator> steps = new ArrayList<>();
        byLease.forLease(order.victim().id()).ifPresent(steps::add);
        steps.addAll(byService.getOrDefault(order.service().name(), List.of()));
        String victim = order.victim().describe();
        if (steps.isEmpty()) {
            DaemonLog.warn("preempting " + victim + ": " + order.service().name()
                    + " has no preemption action; waiting for it to be released");
            return CompletableFuture.completedFuture(null);
        }
        // Registered on the writer, before any event that releases the lease can be dispatched.
        CompletableFuture<Void> back = gone.computeIfAbsent(order.victim().id(), k -> new CompletableFuture<>());
        Duration wait = stepWait != null ? stepWait.apply(order) : defaultStepWait(order, steps.size());
        return runFrom(0, order, steps, back, wait).whenComplete((ok, failure) -> gone.remove(order.victim().id(), back));
    }

    /**
     * Runs step {@code i} on the executor, then waits for the memory without holding a thread
     * (so one unresponsive victim does not delay the actuators of others), then escalates.
     */
    private CompletableFuture<Void> runFrom(int i, Order order, List<Actuator> steps, CompletableFuture<Void> back,
            Duration wait) {
        String victim = order.victim().describe();
        return CompletableFuture.runAsync(() -> act(order, steps.get(i), i, steps.size()), executor)
                .thenCompose(done -> back.thenApply(v -> true).completeOnTimeout(false, wait.toNanos(),
                        TimeUnit.NANOSECONDS))
                .thenCompose(isBack -> {
                    if (isBack) {
                        return CompletableFuture.completedFuture(null);
                    }
                    if (i + 1 < steps.size()) {
                        DaemonLog.warn("preemption of " + victim + ": its memory is not back " + wait.toMillis()
                                + " ms after " + steps.get(i).describe() + "; escalating to "
                                + steps.get(i + 1).describe());
                        return runFrom(i + 1, order, steps, back, wait);
                    }
                    DaemonLog.warn("preemption of " + victim + " failed: its memory is still in use after every action ("
                            + String.join(", ", steps.stream().map(Actuator::describe).toList()) + "); the lease stays "
                            + "evicting and counted until the memory shows up free or it is released");
                    unresponsive.accept(order);
                    return CompletableFuture.completedFuture(null);
                });
    }

    private void act(Order order, Actuator a, int step, int steps) {
        String victim = order.victim().describe();
        Duration left = Duration.between(clock.instant(), order.deadline());
        Duration timeout = left.compareTo(MIN_TIMEOUT) < 0 ? MIN_TIMEOUT : left;
        Instant start = clock.instant();
        try {
            String outcome = a.act(order, timeout);
            // The ledger's own Preempted event already has its line; this one says what was done.
            DaemonLog.info("preemption of " + victim + " for " + order.forService() + " via " + a.describe()
                    + (steps > 1 ? " (step " + (step + 1) + " of " + steps + ")" : "")
                    + " done in " + Duration.between(start, clock.instant()).toMillis() + " ms: " + outcome);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            DaemonLog.warn("preemption of " + victim + " interrupted (" + a.describe() + ")");
        } catch (Exception e) {
            DaemonLog.warn("preemption of " + victim + " failed (" + a.describe() + ")", e);
        }
    }

    private static Duration defaultStepWait(Order order, int steps) {
        Duration d = order.service().evictionDeadline().dividedBy(steps);
        return d.compareTo(MIN_STEP_WAIT) < 0 ? MIN_STEP_WAIT : d;
    }
}
