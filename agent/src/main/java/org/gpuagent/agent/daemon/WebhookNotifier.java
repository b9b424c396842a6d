package org.gpuagent.agent.daemon;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.function.Supplier;
import org.gpuagent.agent.config.AgentConfig;
import org.gpuagent.agent.logging.DaemonLog;

/**
 * Posts events as JSON to the configured webhooks: asynchronous, each with its own timeout, at
 * most {@link #MAX_IN_FLIGHT} at a time (beyond that an event is dropped with a warning, so a dead
 * receiver cannot pile up memory). Never blocks its caller; a failure is one log line.
 */
final class WebhookNotifier {
    static final int MAX_IN_FLIGHT = 32;

    private final List<AgentConfig.Webhook> hooks;
    private final Supplier<HttpClient> client;
    private final Semaphore inFlight = new Semaphore(MAX_IN_FLIGHT);

    WebhookNotifier(List<AgentConfig.Webhook> hooks, Supplier<HttpClient> client) {
        this.hooks = List.copyOf(hooks);
        this.client = client;
    }

    boolean wants(String event) {
        for (AgentConfig.Webhook h : hooks) {
            if (h.events().contains(event)) {
                return true;
            }
        }
        return false;
    }

    /** Posts {@code payload} (which names the event) to every webhook subscribed to {@code event}. */
    void notify(String event, Map<String, Object> payload) {
        String body;
        try {
            body = JSON.std.asString(payload);
        } catch (IOException e) {
            DaemonLog.warn("webhook: cannot encode the " + event + " event", e);
            return;
        }
        for (AgentConfig.Webhook h : hooks) {
            if (!h.events().contains(event)) {
                continue;
            }
            if (!inFlight.tryAcquire()) {
                DaemonLog.warn("webhook " + h.url() + ": " + MAX_IN_FLIGHT + " deliveries already in flight; dropped the "
                        + event + " event");
                continue;
            }
            HttpRequest req;
            try {
                req = HttpRequest.newBuilder(URI.create(h.url())).timeout(h.timeout())
                        .header("Content-Type", "application/json").header("User-Agent", "gpu-agent")
                        .POST(HttpRequest.BodyPublishers.ofString(body)).build();
            } catch (IllegalArgumentException e) {
                inFlight.release();
                DaemonLog.warn("webhook " + h.url() + ": " + e.getMessage());
                continue;
            }
            client.get().sendAsync(req, HttpResponse.BodyHandlers.discarding()).whenComplete((r, t) -> {
                inFlight.release();
                if (t != null) {
                    DaemonLog.warn("webhook " + h.url() + ": the " + event + " event was not delivered: "
                            + DaemonLog.describe(t));
                } else if (r.statusCode() / 100 != 2) {
                    DaemonLog.warn("webhook " + h.url() + ": the " + event + " event got HTTP " + r.statusCode());
                }
            });
        }
    }
}
