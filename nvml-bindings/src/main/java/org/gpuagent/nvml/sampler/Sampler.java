package org.gpuagent.nvml.sampler;

import java.time.InstantSource;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.gpuagent.nvml.NvmlOpener;
import org.gpuagent.nvml.NvmlReturn;

/**
 * Polls every GPU on one thread into immutable {@link GpuSnapshot}s, the only NVML caller on the
 * hot path. Backend-agnostic: it sees an {@link NvmlOpener}, never the JNA binding or the simulator.
 * The work is split along its seams: a {@link Collector} runs one collect (its
 * {@link DeviceReader}s read the GPUs, a {@link CallErrorLog} and an {@link XidLog} count what went
 * wrong, a {@link Backoff} paces re-opening), a {@link SnapshotPublisher} publishes, a
 * {@link Watchdog} notices a collect blocked in the driver. This class starts and stops them.
 *
 * <p>Contracts:
 * <ul>
 *   <li>{@link #latest()} never returns null and never blocks; it starts as UNAVAILABLE.</li>
 *   <li>At most one collect is in flight ({@link #collectOnce()} and the sampling thread share a
 *       lock).</li>
 *   <li>A failing call records a {@link CallError} and leaves its field absent; the collect goes
 *       on. A code that {@link NvmlReturn#requiresReinit() requires re-initialisation}
 *       (GPU_IS_LOST, ...) ends the collect: the last good data is republished as LOST, the session
 *       is closed, and {@link NvmlOpener#open()} is retried after {@code backoffMin}, then after
 *       twice the previous wait, up to {@code backoffMax}, all measured on the nano ticker.</li>
 *   <li>A watchdog thread republishes the last snapshot as STALE once a collect has run past
 *       {@code watchdogTimeout} (a call blocked in the driver); when the collect returns, the
 *       next publish is OK again.</li>
 *   <li>Listeners run after each publish, in publish order, on the publishing thread; one that
 *       throws is logged and skipped. They must be quick (the watchdog waits for them) and must
 *       not call {@link #collectOnce()} or {@link #close()}.</li>
 *   <li>The hot path allocates the snapshot and the values it holds, nothing else: no boxing,
 *       no capturing lambdas, no iterators, no strings (errors aside).</li>
 * </ul>
 *
 * <p>Locks: two, taken in this order only.
 * <ol>
 *   <li>{@code collectLock} (here): one collect at a time. Held for a whole collect by the sampling
 *       thread or a {@link #collectOnce()} caller, NVML calls included, which may block in the
 *       driver for as long as the driver likes. It guards everything a collect touches: the
 *       session and its device readers, the error and Xid logs, the backoff, the slow-tick
 *       countdown (all of {@link Collector}).</li>
 *   <li>The {@link SnapshotPublisher}'s lock: held briefly, never across an NVML call. It guards
 *       the sequence, the last good snapshot and the mark of the collect in flight, and spans each
 *       publish from its sequence number to its last listener.</li>
 * </ol>
 * The watchdog takes only the publisher's lock, so a collect blocked in the driver (holding
 * {@code collectLock}) cannot hold it up. Listeners are called under the publisher's lock, not a
 * lock of their own: that keeps them in publish order, and the watchdog waiting for them is
 * harmless while they are quick, which the contract above asks. Start and close are guarded by
 * this object's monitor, which is never held while waiting for either lock. Which call the
 * collect is in ({@link CallInProgress}) and {@link #latest()} are volatile, and the list of
 * listeners is replaced whole by compare-and-set, so none of them needs a lock.
 */
public final class Sampler implements AutoCloseable {
    private static final long CLOSE_WAIT_MILLIS = 2_000;

    private final SamplerConfig config;
    private final LongSupplier ticker;
    private final Sleeper sleeper;
    private final long intervalNanos;
    private final SnapshotPublisher publisher;
    private final CallInProgress where = new CallInProgress();
    private final Watchdog watchdog;

    private final ReentrantLock collectLock = new ReentrantLock();
    /** Guarded by collectLock. */
    private final Collector collector;

    private volatile boolean closed;
    private final BooleanSupplier stopped = () -> closed;
    // guarded by this
    private Thread samplerThread;
    private Thread watchdogThread;

    /**
     * A sampler whose threads wait in real time ({@link Sleeper#SYSTEM}).
     *
     * @param opener     opens (and re-opens) NVML sessions
     * @param config     intervals, cadence, watchdog and backoff
     * @param clock      wall time for {@link GpuSnapshot#collectedAt()} and the like
     * @param nanoTicker monotonic time for durations, the watchdog and the backoff (System::nanoTime in production)
     */
    public Sampler(NvmlOpener opener, SamplerConfig config, InstantSource clock, LongSupplier nanoTicker) {
        this(opener, config, clock, nanoTicker, Sleeper.SYSTEM);
    }

    /** As above, with the threads waiting on {@code sleeper} (a test's manual clock). */
    public Sampler(NvmlOpener opener, SamplerConfig config, InstantSource clock, LongSupplier nanoTicker,
                   Sleeper sleeper) {
        Objects.requireNonNull(opener, "opener");
        this.config = Objects.requireNonNull(config, "config");
        Objects.requireNonNull(clock, "clock");
        this.ticker = Objects.requireNonNull(nanoTicker, "nanoTicker");
        this.sleeper = Objects.requireNonNull(sleeper, "sleeper");
        this.intervalNanos = config.interval().toNanos();
        this.publisher = new SnapshotPublisher(clock);
        this.watchdog = new Watchdog(publisher, where, ticker, config.watchdogTimeout().toNanos());
        this.collector = new Collector(opener, config, clock, ticker, publisher, where);
    }

    public SamplerConfig config() {
        return config;
    }

    /** The newest snapshot; never null, never blocks. */
    public GpuSnapshot latest() {
        return publisher.latest();
    }

    /** Called after each publish (see the class comment for the rules). */
    public void addListener(Consumer<GpuSnapshot> listener) {
        publisher.addListener(listener);
    }

    public void removeListener(Consumer<GpuSnapshot> listener) {
        publisher.removeListener(listener);
    }

    /** How many times a listener threw. */
    public long listenerFailures() {
        return publisher.listenerFailures();
    }

    /** Starts the daemon threads {@code gpu-sampler} and {@code gpu-sampler-watchdog}; the first collect runs at once. */
    public synchronized void start() {
        if (closed) {
            throw new IllegalStateException("the sampler is closed");
        }
        if (samplerThread != null) {
            throw new IllegalStateException("the sampler is already started");
        }
        samplerThread = new Thread(this::runSampling, "gpu-sampler");
        samplerThread.setDaemon(true);
        watchdogThread = new Thread(() -> watchdog.run(sleeper, stopped), "gpu-sampler-watchdog");
        watchdogThread.setDaemon(true);
        samplerThread.start();
        watchdogThread.start();
    }

    /**
     * Collects once, now, on the calling thread (waiting for a collect in flight on another
     * thread), publishes and returns the result. While re-opening is backing off and the next
     * attempt is not due, returns {@link #latest()} without publishing.
     *
     * @throws IllegalStateException after {@link #close()}
     */
    public GpuSnapshot collectOnce() {
        collectLock.lock();
        try {
            if (closed) {
                throw new IllegalStateException("the sampler is closed");
            }
            return collector.collect();
        } finally {
            collectLock.unlock();
        }
    }

    /**
     * Stops the threads and closes the NVML session; idempotent. Nothing is published after it
     * returns. Waits a bounded time (seconds) for a collect in flight: if a call stays blocked in
     * the driver, that collect closes the session when it returns.
     */
    /**
     * Collects now, reading the process lists (and the other slow fields) in this collect whatever
     * the slow-tick cadence, and publishes to the listeners like any collect. For a caller that
     * must see memory come back quickly (the agent while a preempted lease is evicting); it
     * serialises with the sampling thread, so a collect in progress delays it.
     *
     * @throws IllegalStateException when the sampler is closed
     */
    public GpuSnapshot collectWithProcesses() {
        collectLock.lock();
        try {
            if (closed) {
                throw new IllegalStateException("the sampler is closed");
            }
            return collector.collect(true);
        } finally {
            collectLock.unlock();
        }
    }

    @Override
    public void close() {
        Thread sampling;
        Thread watching;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            sampling = samplerThread;
            watching = watchdogThread;
        }
        publisher.close(CLOSE_WAIT_MILLIS);
        try {
            if (watching != null) {
                watching.interrupt();
                watching.join(CLOSE_WAIT_MILLIS);
            }
            if (sampling != null) {
                // Cuts a sleep short; a call blocked in native code ignores it, the simulator's does not.
                sampling.interrupt();
                sampling.join(CLOSE_WAIT_MILLIS);
            }
            if (collectLock.tryLock(CLOSE_WAIT_MILLIS, TimeUnit.MILLISECONDS)) {
                try {
                    collector.closeSession();
                } finally {
                    collectLock.unlock();
                }
            } else {
                SamplerLog.LOG.log(System.Logger.Level.WARNING, "closing the sampler while a collect is blocked in "
                        + where.describe() + "; the session closes when that call returns");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Threads still running; for tests. */
    boolean threadsAlive() {
        Thread s;
        Thread w;
        synchronized (this) {
            s = samplerThread;
            w = watchdogThread;
        }
        return (s != null && s.isAlive()) || (w != null && w.isAlive());
    }

    /** One watchdog check, as its thread makes them; true when it published STALE. For tests. */
    boolean checkWatchdog() {
        return watchdog.check();
    }

    /** Collects every interval (measured on the ticker, sleeping on the sleeper), sooner when a re-open is due. */
    private void runSampling() {
        while (!closed) {
            long started = ticker.getAsLong();
            long untilReopen = Long.MAX_VALUE;
            collectLock.lock();
            try {
                if (closed) {
                    break;
                }
                collector.collect();
                untilReopen = collector.nanosUntilReopen();
            } catch (RuntimeException e) {
                SamplerLog.LOG.log(System.Logger.Level.ERROR, "a collect failed unexpectedly", e);
            } finally {
                collectLock.unlock();
            }
            long waitNanos = Math.min(intervalNanos - (ticker.getAsLong() - started), untilReopen);
            Sleeper.sleepUnlessStopped(sleeper, Math.max(0, Math.min(waitNanos, intervalNanos)), stopped);
        }
        collectLock.lock();
        try {
            collector.closeSession();
        } finally {
            collectLock.unlock();
        }
    }
}
