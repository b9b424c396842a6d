package org.gpuagent.scheduler;

import java.time.Instant;

/**
 * Runs an action at a wall-clock instant of the controller's clock. Injected so tests run in
 * virtual time; {@link ScheduledExecutorTimers} is the production implementation.
 *
 * <p>Contract: the action runs once, at or after {@code at} (early firing is tolerated: the
 * ledger re-checks its deadlines against its clock and schedules again); it must not run on the
 * caller's thread inside {@link #schedule}. {@link Cancellable#cancel()} is best-effort.
 */
@FunctionalInterface
public interface Timers {

    Cancellable schedule(Instant at, Runnable action);

    @FunctionalInterface
    interface Cancellable {
        void cancel();
    }
}
