package org.gpuagent.agent.notify;

import java.net.http.HttpClient;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.gpuagent.scheduler.Timers;

/**
 * Sends events to the configured sinks ({@code notifications.webhooks}), each through its own
 * {@link Delivery}: a sink gets an event when it subscribed to it and the event reaches its
 * severity threshold. {@link #notify} returns at once; see {@link Delivery} for the queue and the
 * retries.
 */
public final class Notifier {
    private final List<Delivery> deliveries;

    /**
     * @param instance how alerts name this host ({@code notifications.instance})
     * @param client   the shared HTTP client, made on first use
     * @param timers   schedules the retries
     */
    public Notifier(List<SinkConfig> sinks, String instance, Supplier<HttpClient> client, Timers timers,
                    InstantSource clock) {
        this(sinks, instance, client, timers, clock, Delivery.DEFAULT_CAPACITY);
    }

    Notifier(List<SinkConfig> sinks, String instance, Supplier<HttpClient> client, Timers timers,
             InstantSource clock, int capacity) {
        List<Delivery> d = new ArrayList<>();
        for (SinkConfig s : sinks) {
            d.add(new Delivery(s, instance, client, timers, clock, capacity, Delivery.DEFAULT_MAX_ATTEMPTS,
                    Delivery.DEFAULT_BACKOFF_MIN, Delivery.DEFAULT_BACKOFF_MAX));
        }
        this.deliveries = List.copyOf(d);
    }

    /** Whether any sink subscribed to {@code event} (so callers can skip building a payload nobody wants). */
    public boolean wants(NotificationEvent event) {
        for (Delivery d : deliveries) {
            if (d.sink().events().contains(event.label())) {
                return true;
            }
        }
        return false;
    }

    /** Hands {@code n} to every sink that wants it; never blocks. */
    public void notify(Notification n) {
        for (Delivery d : deliveries) {
            if (d.sink().wants(n)) {
                d.offer(n);
            }
        }
    }

    List<Delivery> deliveries() {
        return deliveries;
    }
}
