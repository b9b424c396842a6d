package org.gpuagent.agent.daemon;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The daemon's own pools, all of daemon threads, each registered with the {@link Shutdown}:
 * <ul>
 *   <li>{@link #timers}: one thread for every delay (the ledger's deadlines and grace periods,
 *       journal retries, notification retries, the simulator's processes);</li>
 *   <li>{@link #actuators}: up to four evictions at once (a {@code systemctl} or an Ollama call
 *       may take seconds); idle threads end after 30 s;</li>
 *   <li>{@link #reporting}: one thread writing event lines and handing notifications over, in
 *       order; it ends when idle for 30 s and is given two seconds to finish at shutdown.</li>
 * </ul>
 * Threads are named after their pool ({@code gpu-agent-timer-1}, {@code actuator-2},
 * {@code events-1}) for thread dumps.
 */
final class DaemonThreads {
    private static final long IDLE_SECONDS = 30;
    private static final long REPORTING_GRACE_SECONDS = 2;

    final ScheduledThreadPoolExecutor timers;
    final ExecutorService actuators;
    final ExecutorService reporting;

    DaemonThreads(Shutdown shutdown) {
        timers = new ScheduledThreadPoolExecutor(1, named("gpu-agent-timer"));
        timers.setRemoveOnCancelPolicy(true);
        actuators = pool(4, "actuator");
        reporting = pool(1, "events");
        shutdown.add(Shutdown.Stage.WORKERS, "timers", timers::shutdownNow);
        shutdown.add(Shutdown.Stage.WORKERS, "actuators", actuators::shutdownNow);
        shutdown.add(Shutdown.Stage.REPORTING, "event reporting", () -> {
            reporting.shutdown();
            try {
                reporting.awaitTermination(REPORTING_GRACE_SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
    }

    private static ThreadPoolExecutor pool(int threads, String name) {
        ThreadPoolExecutor p = new ThreadPoolExecutor(threads, threads, IDLE_SECONDS, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), named(name));
        p.allowCoreThreadTimeOut(true);
        return p;
    }

    private static ThreadFactory named(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
