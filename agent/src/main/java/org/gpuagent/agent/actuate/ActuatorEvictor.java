package org.gpuagent.agent.actuate;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import org.gpuagent.agent.logging.DaemonLog;
import org.gpuagent.scheduler.Evictor;

/**
 * The ledger's {@link Evictor}: runs the victim's {@link Actuator} on an actuator thread: the one
 * registered for that lease in {@link LeaseActions} if any, else the victim service's,
 * bounded by the time left until the preempting request's deadline (at least 5 s), and logs one
 * line with the outcome. Never blocks the ledger's writer.
 */
public final class ActuatorEvictor implements Evictor {
    static final Duration MIN_TIMEOUT = Duration.ofSeconds(5);

    private final Map<String, Actuator> byService;
    private final LeaseActions byLease;
    private final ExecutorService executor;
    private final InstantSource clock;

    public ActuatorEvictor(Map<String, Actuator> byService, LeaseActions byLease, ExecutorService executor,
            InstantSource clock) {
        this.byService = Map.copyOf(byService);
        this.byLease = byLease;
        this.executor = executor;
        this.clock = clock;
    }

    @Override
    public CompletionStage<Void> evict(Order order) {
        Actuator a = byLease.forLease(order.victim().id()).orElse(byService.get(order.service().name()));
        String victim = order.victim().describe();
        if (a == null) {
            DaemonLog.warn("preempting " + victim + ": " + order.service().name()
                    + " has no preemption action; waiting for it to be released");
            return CompletableFuture.completedFuture(null);
        }
        Duration left = Duration.between(clock.instant(), order.deadline());
        Duration timeout = left.compareTo(MIN_TIMEOUT) < 0 ? MIN_TIMEOUT : left;
        // The ledger's own Preempted event already has its line; this one says what was done.
        return CompletableFuture.supplyAsync(() -> {
            Instant start = clock.instant();
            try {
                String outcome = a.act(order, timeout);
                DaemonLog.info("preemption of " + victim + " for " + order.forService() + " via " + a.describe()
                        + " done in " + Duration.between(start, clock.instant()).toMillis() + " ms: " + outcome);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                DaemonLog.warn("preemption of " + victim + " interrupted");
            } catch (Exception e) {
                DaemonLog.warn("preemption of " + victim + " failed (" + a.describe() + ")", e);
            }
            return null;
        }, executor);
    }
}
