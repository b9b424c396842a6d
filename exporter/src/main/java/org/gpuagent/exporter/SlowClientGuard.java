package org.gpuagent.exporter;

import com.sun.net.httpserver.Filter;
import com.sun.net.httpserver.HttpContext;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Keeps clients that send their requests slowly from holding a JDK {@link HttpServer}'s request
 * threads. That server reads a request's line and headers on the thread that then runs the
 * handler, so two clients trickling a header byte at a time held both of the metrics listener's
 * threads, and {@code /metrics} and {@code /healthz} stopped answering (issue 14). Wrapping any
 * {@code HttpServer} before it starts:
 * <ul>
 *   <li>requests are read on threads of their own, at most {@code maxReading} at once; a request
 *       beyond that closes the one that has been reading longest;</li>
 *   <li>a request whose headers have not all arrived {@code headerTimeout} after its first byte is
 *       closed (its thread is interrupted, which closes the connection's channel); a request with
 *       a body stays under that deadline until it is answered (a handler here reads no bodies, and
 *       the server drains one before reusing the connection);</li>
 *   <li>a request read whole is answered by one of {@code handlers} threads, in arrival order,
 *       as before the guard; its reader is free at once.</li>
 * </ul>
 * Idle and newly accepted connections hold no thread in the JDK server (they wait in its
 * selector); their number is bounded by the JDK's {@code sun.net.httpserver.maxConnections},
 * which the agent sets.
 *
 * <p>Use: {@code SlowClientGuard g = SlowClientGuard.install(server, limits)}, then
 * {@code g.protect(context)} for every context, then {@code server.start()}; {@link #close()}
 * after {@code server.stop}.
 */
public final class SlowClientGuard implements AutoCloseable {
    /**
     * @param headerTimeout from a request's first byte to its last header
     * @param maxReading    requests being read at once
     * @param handlers      requests being answered at once
     */
    public record Limits(Duration headerTimeout, int maxReading, int handlers) {
        public Limits {
            Objects.requireNonNull(headerTimeout, "headerTimeout");
            if (headerTimeout.isNegative() || headerTimeout.isZero() || maxReading < 1 || handlers < 1) {
                throw new IllegalArgumentException("a slow-client guard needs a positive timeout, reader and handler "
                        + "count, got " + headerTimeout + ", " + maxReading + ", " + handlers);
            }
        }
    }

    private enum State { READING, ANSWERING, CANCELLED, DONE }

    private final Limits limits;
    private final ThreadPoolExecutor pool;
    private final ExecutorService answering;
    private final ScheduledExecutorService watchdog;
    private final Set<Task> reading = ConcurrentHashMap.newKeySet();
    private final ThreadLocal<Task> current = new ThreadLocal<>();

    private SlowClientGuard(Limits limits, String threadName) {
        this.limits = limits;
        AtomicInteger n = new AtomicInteger();
        this.pool = new ThreadPoolExecutor(0, 2 * limits.maxReading(), 30, TimeUnit.SECONDS,
                new SynchronousQueue<>(), r -> {
                    Thread t = new Thread(r, threadName + "-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        this.answering = Executors.newFixedThreadPool(limits.handlers(), r -> {
            Thread t = new Thread(r, threadName + "-answer-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.watchdog = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, threadName + "-deadlines");
            t.setDaemon(true);
            return t;
        });
        long period = Math.max(10, limits.headerTimeout().toMillis() / 4);
        watchdog.scheduleWithFixedDelay(this::expire, period, period, TimeUnit.MILLISECONDS);
    }

    /** Becomes {@code server}'s executor; call before the server starts. */
    public static SlowClientGuard install(HttpServer server, Limits limits, String threadName) {
        SlowClientGuard g = new SlowClientGuard(limits, threadName);
        server.setExecutor(g::execute);
        return g;
    }

    /** Puts the deadline's end (and the hand-off to the answering threads) in front of {@code context}'s handler. */
    public void protect(HttpContext context) {
        context.getFilters().add(0, new HeadersRead());
    }

    /** Requests being read now (for tests). */
    int reading() {
        return reading.size();
    }

    @Override
    public void close() {
        watchdog.shutdownNow();
        pool.shutdownNow();
        answering.shutdownNow();
    }

    /**
     * Called by the server's dispatcher when a connection has a request's first byte. Never blocks
     * the dispatcher: beyond the pool's threads the execution is refused, and the server closes
     * that connection.
     */
    private void execute(Runnable exchange) {
        Task t = new Task(exchange);
        if (reading.size() >= limits.maxReading()) {
            Task oldest = null;
            for (Task r : reading) {
                if (oldest == null || r.startedNanos < oldest.startedNanos) {
                    oldest = r;
                }
            }
            if (oldest != null) {
                oldest.cancel();
            }
        }
        reading.add(t);
        try {
            pool.execute(t);
        } catch (RejectedExecutionException e) {
            reading.remove(t);
            throw e;
        }
    }

    private void expire() {
        long now = System.nanoTime();
        long limit = limits.headerTimeout().toNanos();
        for (Task t : reading) {
            if (now - t.startedNanos > limit) {
                t.cancel();
            }
        }
    }

    private final class Task implements Runnable {
        final Runnable exchange;
        final long startedNanos = System.nanoTime();
        private Thread thread;
        private State state = State.READING;

        Task(Runnable exchange) {
            this.exchange = exchange;
        }

        @Override
        public void run() {
            synchronized (this) {
                thread = Thread.currentThread();
                if (state == State.CANCELLED) {
                    // shed before it started: the first read fails and the server closes the connection
                    thread.interrupt();
                }
            }
            current.set(this);
            try {
                exchange.run();
            } finally {
                current.remove();
                reading.remove(this);
                synchronized (this) {
                    state = State.DONE;
                    thread = null;
                    Thread.interrupted();
                }
            }
        }

        /** Past its deadline or shed: interrupting the read closes the connection. */
        synchronized void cancel() {
            if (state == State.READING) {
                state = State.CANCELLED;
                reading.remove(this);
                if (thread != null) {
                    thread.interrupt();
                }
            }
        }

        /** The request is read; false when it was cancelled first. */
        synchronized boolean answer() {
            if (state != State.READING) {
                return false;
            }
            state = State.ANSWERING;
            reading.remove(this);
            return true;
        }
    }

    private final class HeadersRead extends Filter {
        @Override
        public void doFilter(HttpExchange exchange, Chain chain) throws IOException {
            Task t = current.get();
            boolean bodyless = exchange.getRequestHeaders().getFirst("Transfer-Encoding") == null
                    && ("0".equals(exchange.getRequestHeaders().getFirst("Content-Length"))
                    || exchange.getRequestHeaders().getFirst("Content-Length") == null);
            if (t == null || !bodyless) {
                // not read by the guard, or a body still to come: answered here, under the deadline
                chain.doFilter(exchange);
                return;
            }
            if (!t.answer()) {
                throw new InterruptedIOException("the request came too slowly");
            }
            // The reader is free again; the answering threads take requests in arrival order, as a
            // fixed pool did before the guard (more threads answering at once only lengthened the
            // tail: see MetricsServer.DEFAULT_THREADS).
            answering.execute(() -> {
                try {
                    chain.doFilter(exchange);
                } catch (IOException | RuntimeException e) {
                    exchange.close();
                }
            });
        }

        @Override
        public String description() {
            return "ends the header deadline and limits concurrent handlers";
        }
    }
}
