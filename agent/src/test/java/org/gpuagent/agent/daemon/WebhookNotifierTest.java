package org.gpuagent.agent.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.jr.ob.JSON;
import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.gpuagent.agent.config.AgentConfig;
import org.gpuagent.scheduler.Lease;
import org.gpuagent.scheduler.LeaseId;
import org.gpuagent.scheduler.LedgerEvent;
import org.junit.jupiter.api.Test;

class WebhookNotifierTest {

    @Test
    void postsSubscribedEventsAsJson() throws Exception {
        LinkedBlockingQueue<Map<String, Object>> received = new LinkedBlockingQueue<>();
        HttpServer receiver = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        receiver.createContext("/hook", ex -> {
            Map<String, Object> body = JSON.std.mapFrom(ex.getRequestBody());
            ex.sendResponseHeaders(204, -1);
            ex.close();
            received.add(body);
        });
        receiver.start();
        try {
            String url = "http://127.0.0.1:" + receiver.getAddress().getPort() + "/hook";
            WebhookNotifier n = new WebhookNotifier(List.of(new AgentConfig.Webhook(url, List.of("preempted"),
                    Duration.ofSeconds(5))), HttpClient::newHttpClient);
            Lease victim = Lease.active(new LeaseId(2), "ollama", 2560L << 20, Optional.of("systemd:ollama.service"),
                    List.of(), Instant.parse("2026-01-01T00:00:00Z"));
            LedgerEvent.Preempted e = new LedgerEvent.Preempted(Instant.parse("2026-01-01T00:01:00Z"), victim, "frigate",
                    3, "ollama lease 2 preempted for frigate");
            assertTrue(n.wants("preempted"));
            assertTrue(!n.wants("admitted"));
            n.notify("preempted", EventReporter.payload("preempted", e));
            Map<String, Object> body = received.poll(30, TimeUnit.SECONDS);
            assertEquals("preempted", body.get("event"));
            assertEquals("2026-01-01T00:01:00Z", body.get("at"));
            assertEquals("ollama lease 2 preempted for frigate", body.get("message"));
            assertEquals("frigate", body.get("forService"));
            assertEquals(2, ((Number) ((Map<?, ?>) body.get("lease")).get("id")).intValue());
        } finally {
            receiver.stop(0);
        }
    }

    @Test
    void everyLedgerEventThatWebhooksOfferHasItsConfiguredName() {
        Lease l = Lease.active(new LeaseId(1), "x", 1, Optional.empty(), List.of(), Instant.EPOCH);
        assertEquals("admitted", EventReporter.eventName(new LedgerEvent.Admitted(Instant.EPOCH, 1, l, List.of(),
                Duration.ZERO, "")));
        assertEquals("released", EventReporter.eventName(new LedgerEvent.Released(Instant.EPOCH, l, "")));
        assertEquals("over-use", EventReporter.eventName(new LedgerEvent.OverUse(Instant.EPOCH, "x", Optional.empty(),
                1, 2, 0, "")));
        assertEquals(null, EventReporter.eventName(new LedgerEvent.UnattributedUse(Instant.EPOCH, 1, "")));
        for (String name : List.of("admitted", "queued", "denied", "preempted", "evicted", "released", "reclaimed",
                "over-use")) {
            assertTrue(org.gpuagent.agent.config.ConfigLoader.EVENT_NAMES.contains(name), name);
        }
    }
}
