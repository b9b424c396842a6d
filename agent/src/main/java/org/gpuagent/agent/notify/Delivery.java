package org.gpuagent.agent.notify;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.function.Supplier;
import org.gpuagent.agent.logging.DaemonLog;
import org.gpuagent.scheduler.Timers;

/**
 * Delivers one sink's notifications in order, one request at a time, with retries.
 *
 * <p>Contract:
 * <ul>
 *   <li>{@link #offer} never blocks and never does I/O: it queues and, when nothing is in flight
 *       or waiting to retry, starts an asynchronous request. So the ledger's writer and the
 *       admission path never wait for a receiver.</li>
 *   <li>The queue holds at most {@code capacity} notifications; when a dead receiver fills it, the
 *       oldest is dropped (the newest say the most about now), logged once per outage.</li>
 *   <li>A request that fails for a reason that may pass (no connection, a timeout, HTTP 408, 429
 *       or 5xx, a secret file that cannot be read) is retried after {@code backoffMin}, then
 *       after twice the previous wait up to {@code backoffMax}, waiting on the injected
 *       {@link Timers}; after {@code maxAttempts} it is dropped with a warning. Any other HTTP
 *       status is final: dropped with a warning, the next goes on.</li>
 * </ul>
 */
final class Delivery {
    static final int DEFAULT_CAPACITY = 256;
    static final int DEFAULT_MAX_ATTEMPTS = 10;
    static final Duration DEFAULT_BACKOFF_MIN = Duration.ofSeconds(1);
    static final Duration DEFAULT_BACKOFF_MAX = Duration.ofMinutes(5);

    private final SinkConfig sink;
    private final Payload payload;
    private final String instance;
    private final Supplier<HttpClient> client;
    private final Timers timers;
    private final InstantSource clock;
    private final int capacity;
    private final int maxAttempts;
    private final Duration backoffMin;
    private final Duration backoffMax;

    // guarded by this
    private final ArrayDeque<Notification> queue = new ArrayDeque<>();
    private boolean busy;
    private int attempts;
    private long dropped;
    private boolean droppingLogged;

    Delivery(SinkConfig sink, String instance, Supplier<HttpClient> client, Timers timers, InstantSource clock,
             int capacity, int maxAttempts, Duration backoffMin, Duration backoffMax) {
        this.sink = sink;
        this.payload = Payload.of(sink.format());
        this.instance = instance;
        this.client = client;
        this.timers = timers;
        this.clock = clock;
        this.capacity = capacity;
        this.maxAttempts = maxAttempts;
        this.backoffMin = backoffMin;
        this.backoffMax = backoffMax;
    }

    SinkConfig sink() {
        return sink;
    }

    void offer(Notification n) {
        synchronized (this) {
            if (queue.size() >= capacity) {
                queue.removeFirst();
                dropped++;
                if (!droppingLogged) {
                    droppingLogged = true;
                    DaemonLog.warn("notifications: " + sink.describe() + ": " + capacity + " notifications waiting; "
                            + "dropping the oldest until it answers again");
                }
            }
            queue.addLast(n);
            if (busy) {
                return;
            }
            busy = true;
        }
        sendHead();
    }

    /** Notifications dropped because the queue was full, since start. */
    synchronized long dropped() {
        return dropped;
    }

    synchronized int queued() {
        return queue.size();
    }

    private void sendHead() {
        Notification n;
        synchronized (this) {
            n = queue.peekFirst();
            if (n == null) {
                busy = false;
                return;
            }
            attempts++;
        }
        HttpRequest request;
        try {
            request = request(n);
        } catch (IOException | RuntimeException e) {
            failed(n, "cannot build the request: " + DaemonLog.describe(e), true);
            return;
        }
        client.get().sendAsync(request, HttpResponse.BodyHandlers.discarding()).whenComplete((r, t) -> {
            // An exception thrown here would vanish into the future and leave the sink busy for good.
            try {
                if (t != null) {
                    failed(n, DaemonLog.describe(t), true);
                } else if (r.statusCode() / 100 == 2) {
                    delivered(n);
                } else {
                    int s = r.statusCode();
                    failed(n, "HTTP " + s, s == 408 || s == 429 || s / 100 == 5);
                }
            } catch (RuntimeException e) {
                DaemonLog.warn("notifications: " + sink.describe() + ": " + DaemonLog.describe(e)
                        + "; dropped the " + n.event().label() + " event", e);
                delivered(n);
            }
        });
    }

    private HttpRequest request(Notification n) throws IOException {
        URI url = sink.url().isPresent() ? sink.url().get()
                : URI.create(HeaderValue.FromFile.read(sink.urlFile().get()));
        Payload.Request p = payload.render(url, n, instance, sink.resolveAfter());
        HttpRequest.Builder b = HttpRequest.newBuilder(p.target()).timeout(sink.timeout())
                .header("Content-Type", p.contentType()).header("User-Agent", "gpu-agent")
                .POST(HttpRequest.BodyPublishers.ofString(p.body(), StandardCharsets.UTF_8));
        for (Map.Entry<String, HeaderValue> h : sink.headers().entrySet()) {
            b.header(h.getKey(), h.getValue().resolve());
        }
        return b.build();
    }

    private void delivered(Notification n) {
        synchronized (this) {
            if (queue.peekFirst() == n) {
                queue.removeFirst();
            }
            attempts = 0;
            droppingLogged = false;
        }
        sendHead();
    }

    private void failed(Notification n, String why, boolean mayPass) {
        int attempt;
        synchronized (this) {
            attempt = attempts;
        }
        String what = "notifications: " + sink.describe() + ": the " + n.event().label() + " event";
        if (!mayPass || attempt >= maxAttempts) {
            DaemonLog.warn(what + " was not delivered (" + why + "); gave up after " + attempt + " attempt"
                    + (attempt == 1 ? "" : "s"));
            delivered(n);
            return;
        }
        Duration wait = backoff(attempt);
        DaemonLog.warn(what + ": attempt " + attempt + " failed (" + why + "); retrying in " + wait.toSeconds() + " s");
        timers.schedule(clock.instant().plus(wait), this::sendHead);
    }

    /** The wait after the {@code attempt}-th failure: backoffMin, doubled each time, at most backoffMax. */
    Duration backoff(int attempt) {
        Duration d = backoffMin;
        for (int i = 1; i < attempt && d.compareTo(backoffMax) < 0; i++) {
            d = d.multipliedBy(2);
        }
        return d.compareTo(backoffMax) > 0 ? backoffMax : d;
    }
}
