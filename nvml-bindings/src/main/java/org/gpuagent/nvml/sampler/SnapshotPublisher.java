package org.gpuagent.nvml.sampler;

import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * Where snapshots are published, by the collecting thread and by the watchdog, and where listeners
 * hear of them. Its one lock (the second of the sampler's two) guards the sequence, the
 * last good snapshot and the mark of the collect in flight, and is held across each publish from
 * taking the sequence number to the last listener: so listeners see snapshots in sequence order,
 * and a STALE can only be published for a collect still in flight, never over the OK that ended
 * it. The lock is never held across an NVML call.
 */
final class SnapshotPublisher {

    private final InstantSource clock;
    private final ReentrantLock lock = new ReentrantLock();
    /** Written under the lock; read by anyone without it. */
    private volatile GpuSnapshot latest;
    private volatile boolean closed;
    private final AtomicLong listenerFailures = new AtomicLong();
    /** Replaced whole on every change; a publish calls the list it read. */
    private final AtomicReference<List<Consumer<GpuSnapshot>>> listeners = new AtomicReference<>(List.of());

    // guarded by lock
    private long sequence;
    private GpuSnapshot lastGood;
    /** The collect in flight: 0 for none, else a number no earlier collect had. */
    private long inFlight;
    private long collects;
    private long inFlightSinceNanos;
    private boolean staleReported;

    SnapshotPublisher(InstantSource clock) {
        this.clock = clock;
        this.latest = GpuSnapshot.initial(clock.instant());
    }

    /** Never null, never blocks. */
    GpuSnapshot latest() {
        return latest;
    }

    /** Lock-free: registering never waits for a publish (a listener may register another). */
    void addListener(Consumer<GpuSnapshot> listener) {
        Objects.requireNonNull(listener, "listener");
        listeners.updateAndGet(current -> {
            List<Consumer<GpuSnapshot>> next = new ArrayList<>(current);
            next.add(listener);
            return List.copyOf(next);
        });
    }

    void removeListener(Consumer<GpuSnapshot> listener) {
        listeners.updateAndGet(current -> {
            List<Consumer<GpuSnapshot>> next = new ArrayList<>(current);
            next.remove(listener);
            return List.copyOf(next);
        });
    }

    long listenerFailures() {
        return listenerFailures.get();
    }

    // ---- the collect in flight ----

    /** A collect starts at {@code startNanos} (nano ticker): the watchdog may now report it. */
    void collectStarted(long startNanos) {
        lock.lock();
        try {
            inFlight = ++collects;
            inFlightSinceNanos = startNanos;
            staleReported = false;
        } finally {
            lock.unlock();
        }
    }

    /** The collect returned (published or not). */
    void collectEnded() {
        lock.lock();
        try {
            inFlight = 0;
        } finally {
            lock.unlock();
        }
    }

    /**
     * The collect in flight that was not reported STALE yet, or null: read by the watchdog, which
     * then decides and calls {@link #publishStale}. Allocates only while a collect is in flight.
     */
    InFlightCollect unreportedCollect() {
        lock.lock();
        try {
            return inFlight == 0 || staleReported || closed ? null : new InFlightCollect(inFlight, inFlightSinceNanos);
        } finally {
            lock.unlock();
        }
    }

    /** A collect in flight: its number (no two collects share one) and when it started (nano ticker). */
    record InFlightCollect(long number, long startNanos) {
    }

    // ---- publishing ----

    /**
     * Publishes a completed collect and remembers it as the last good one; ends the in-flight
     * mark. After {@link #close()}, publishes nothing and returns the latest.
     */
    GpuSnapshot publishOk(Instant collectedAt, long durationNanos, SessionInfo session,
                          List<DeviceSnapshot> devices, Faults faults) {
        Instant publishedAt = clock.instant();
        lock.lock();
        try {
            inFlight = 0;
            if (closed) {
                return latest;
            }
            GpuSnapshot s = GpuSnapshot.ok(++sequence, collectedAt, publishedAt, durationNanos, session, devices,
                    faults);
            lastGood = s;
            return setAndNotify(s);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Publishes a failed collect or open: LOST with the last good data when there was a good
     * collect since start, else UNAVAILABLE. Ends the in-flight mark.
     */
    GpuSnapshot publishFailure(String detail, long attemptNanos, SessionInfo session, Faults faults) {
        Instant now = clock.instant();
        lock.lock();
        try {
            inFlight = 0;
            if (closed) {
                return latest;
            }
            GpuSnapshot s = lastGood == null
                    ? GpuSnapshot.unavailable(++sequence, detail, now, attemptNanos, session, faults)
                    : GpuSnapshot.lost(++sequence, detail, now, lastGood, faults);
            return setAndNotify(s);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Republishes the latest snapshot as STALE if collect {@code collect} is still in flight and
     * not yet reported; returns it, or null when that collect has ended (or the publisher closed).
     */
    GpuSnapshot publishStale(long collect, String detail) {
        Instant now = clock.instant();
        lock.lock();
        try {
            if (inFlight != collect || staleReported || closed) {
                return null;
            }
            staleReported = true;
            return setAndNotify(latest.stale(++sequence, detail, now));
        } finally {
            lock.unlock();
        }
    }

    /**
     * Nothing is published after this returns: it waits (a bounded time) for a publish in
     * progress, listeners included, to finish.
     */
    void close(long waitMillis) {
        closed = true;
        try {
            if (lock.tryLock(waitMillis, TimeUnit.MILLISECONDS)) {
                lock.unlock();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    boolean isClosed() {
        return closed;
    }

    /** Caller holds the lock. A listener that throws is counted, logged at powers of two, and skipped. */
    private GpuSnapshot setAndNotify(GpuSnapshot s) {
        latest = s;
        List<Consumer<GpuSnapshot>> ls = listeners.get();
        for (int i = 0; i < ls.size(); i++) {
            try {
                ls.get(i).accept(s);
            } catch (VirtualMachineError e) {
                throw e;
            } catch (Throwable t) {
                long n = listenerFailures.incrementAndGet();
                if (Long.bitCount(n) == 1) {
                    SamplerLog.LOG.log(System.Logger.Level.WARNING, "a snapshot listener failed (" + n + " failures so far)", t);
                }
            }
        }
        return s;
    }
}
