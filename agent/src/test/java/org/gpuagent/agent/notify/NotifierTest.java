package org.gpuagent.agent.notify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.jr.ob.JSON;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.gpuagent.scheduler.testing.ManualTime;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every sink format against a local receiver, the severity threshold, headers from files, and the retries. */
class NotifierTest {
    static final String INSTANCE = "hwc-server:9848";
    static final Instant AT = Instant.parse("2026-01-15T12:00:00Z");

    private final ManualTime timers = new ManualTime();
    private final HttpClient http = HttpClient.newHttpClient();
    private Receiver receiver;

    @TempDir
    Path dir;

    @AfterEach
    void stop() {
        if (receiver != null) {
            receiver.close();
        }
    }

    static Notification denied() {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("service", "ollama");
        details.put("bytes", 2684354560L);
        details.put("reason", "insufficient_vram");
        return new Notification(NotificationEvent.DENIED, Severity.WARNING, "ollama denied 2.5 GiB of VRAM",
                "ollama's request for 2.5 GiB was denied: 1.1 GiB short", AT, Optional.of("ollama"), Map.of(), details);
    }

    static Notification released() {
        return new Notification(NotificationEvent.RELEASED, Severity.INFO, "frigate released 900 MiB of VRAM",
                "frigate lease 1 released", AT, Optional.of("frigate"), Map.of(), Map.of("service", "frigate"));
    }

    static Notification xid79() {
        return new Notification(NotificationEvent.XID, Severity.CRITICAL, "Xid 79 on GPU 0",
                "Xid 79 on GPU 0 (GPU-a)", AT, Optional.empty(), Map.of("gpu", "0", "uuid", "GPU-a", "xid", "79"),
                Map.of("xid", 79L));
    }

    private Notifier notifier(SinkConfig... sinks) {
        return new Notifier(List.of(sinks), INSTANCE, () -> http, timers, timers);
    }

    private static SinkConfig sink(String url, SinkFormat format, Severity min, Map<String, HeaderValue> headers) {
        return new SinkConfig(Optional.of(URI.create(url)), Optional.empty(), format, NotificationEvent.labels(), min,
                Duration.ofSeconds(5), headers, Duration.ofHours(1));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> object(String json) throws Exception {
        return JSON.std.mapFrom(json);
    }

    /** Alertmanager API v2, POST /api/v2/alerts: a list of postableAlert, every field checked. */
    @Test
    @SuppressWarnings("unchecked")
    void alertmanagerGetsAPostableAlertWithTheLabelsRoutesKeyOn() throws Exception {
        receiver = Receiver.start();
        Notifier n = notifier(sink(receiver.base(), SinkFormat.ALERTMANAGER, Severity.INFO, Map.of()));
        n.notify(denied());
        Receiver.Received r = receiver.next();
        assertEquals("POST", r.method());
        assertEquals("/api/v2/alerts", r.path(), "a bare Alertmanager URL gets the API path");
        assertEquals("application/json", r.header("Content-Type"));
        List<Object> alerts = JSON.std.listFrom(r.body());
        assertEquals(1, alerts.size());
        Map<String, Object> alert = (Map<String, Object>) alerts.get(0);
        assertEquals(Set.of("labels", "annotations", "startsAt", "endsAt"), alert.keySet());
        assertEquals(Map.of("alertname", "GpuAgentDenied", "severity", "warning", "service", "ollama",
                "instance", INSTANCE), alert.get("labels"));
        assertEquals(Map.of("summary", "ollama denied 2.5 GiB of VRAM",
                "description", "ollama's request for 2.5 GiB was denied: 1.1 GiB short"), alert.get("annotations"));
        assertEquals(AT, Instant.parse((String) alert.get("startsAt")));
        assertEquals(AT.plus(Duration.ofHours(1)), Instant.parse((String) alert.get("endsAt")),
                "an event has no end of its own: it lasts resolve-after");

        n.notify(new Notification(NotificationEvent.GPU_LOST, Severity.CRITICAL, "GPU lost", "the GPU was lost", AT,
                Optional.empty(), Map.of(), Map.of()));
        Map<String, Object> lost = (Map<String, Object>) JSON.std.listFrom(receiver.next().body()).get(0);
        Map<String, Object> lostLabels = (Map<String, Object>) lost.get("labels");
        assertEquals(Map.of("alertname", "GpuAgentGpuLost", "severity", "critical", "service", "gpu-agent",
                "instance", INSTANCE), lostLabels);

        Instant back = AT.plusSeconds(90);
        n.notify(new Notification(NotificationEvent.GPU_RECOVERED, Severity.INFO, "GPU back", "the GPU answers again",
                back, Optional.empty(), Map.of(), Map.of()));
        Map<String, Object> resolved = (Map<String, Object>) JSON.std.listFrom(receiver.next().body()).get(0);
        assertEquals(lostLabels, resolved.get("labels"), "the same alert, so Alertmanager resolves it");
        assertEquals(back, Instant.parse((String) resolved.get("endsAt")));
        assertTrue(!resolved.containsKey("startsAt"), "Alertmanager keeps the alert's own start");

        n.notify(xid79());
        Map<String, Object> xid = (Map<String, Object>) JSON.std.listFrom(receiver.next().body()).get(0);
        assertEquals(Map.of("alertname", "GpuAgentXid", "severity", "critical", "service", "gpu-agent",
                "instance", INSTANCE, "gpu", "0", "uuid", "GPU-a", "xid", "79"), xid.get("labels"));
    }

    @Test
    void ntfyGetsTheTopicTitlePriorityAndTagsWithAHeaderFromAFileReadAtEachDelivery() throws Exception {
        receiver = Receiver.start();
        Path token = dir.resolve("ntfy-token");
        Files.writeString(token, "Bearer tk_first\n");
        Notifier n = notifier(sink(receiver.base() + "/gpu-alerts", SinkFormat.NTFY, Severity.INFO,
                Map.of("Authorization", new HeaderValue.FromFile(token))));
        n.notify(denied());
        Receiver.Received r = receiver.next();
        assertEquals("/", r.path(), "JSON publishing goes to the server's root");
        assertEquals("Bearer tk_first", r.header("Authorization"));
        assertEquals(Map.of("topic", "gpu-alerts", "title", "ollama denied 2.5 GiB of VRAM on " + INSTANCE,
                "message", "ollama's request for 2.5 GiB was denied: 1.1 GiB short", "priority", 4,
                "tags", List.of("warning", "denied")), object(r.body()));

        Files.writeString(token, "Bearer tk_rotated\n");
        n.notify(xid79());
        Receiver.Received second = receiver.next();
        assertEquals("Bearer tk_rotated", second.header("Authorization"), "the file is read when sending");
        assertEquals(5, object(second.body()).get("priority"), "critical is ntfy's max");
    }

    @Test
    void gotifyGetsTitleMessageAndPriorityWithItsKeyFromAFile() throws Exception {
        receiver = Receiver.start();
        Path key = dir.resolve("gotify-key");
        Files.writeString(key, "AbCdEf.123\n");
        Notifier n = notifier(sink(receiver.base(), SinkFormat.GOTIFY, Severity.INFO,
                Map.of("X-Gotify-Key", new HeaderValue.FromFile(key))));
        n.notify(xid79());
        Receiver.Received r = receiver.next();
        assertEquals("/message", r.path());
        assertEquals("AbCdEf.123", r.header("X-Gotify-Key"));
        assertEquals(Map.of("title", "Xid 79 on GPU 0 on " + INSTANCE, "message", "Xid 79 on GPU 0 (GPU-a)",
                "priority", 8), object(r.body()));
    }

    @Test
    @SuppressWarnings("unchecked")
    void discordGetsContentAndAnEmbedFromAUrlReadFromAFile() throws Exception {
        receiver = Receiver.start();
        Path url = dir.resolve("discord-url");
        Files.writeString(url, receiver.base() + "/api/webhooks/1234/s3cr3t\n");
        Notifier n = notifier(new SinkConfig(Optional.empty(), Optional.of(url), SinkFormat.DISCORD,
                NotificationEvent.labels(), Severity.INFO, Duration.ofSeconds(5), Map.of(), Duration.ofHours(1)));
        n.notify(denied());
        Receiver.Received r = receiver.next();
        assertEquals("/api/webhooks/1234/s3cr3t", r.path());
        Map<String, Object> body = object(r.body());
        assertEquals("[warning] ollama denied 2.5 GiB of VRAM on " + INSTANCE, body.get("content"));
        Map<String, Object> embed = (Map<String, Object>) ((List<Object>) body.get("embeds")).get(0);
        assertEquals("ollama denied 2.5 GiB of VRAM", embed.get("title"));
        assertEquals("ollama's request for 2.5 GiB was denied: 1.1 GiB short", embed.get("description"));
        assertEquals(DiscordPayload.ORANGE, embed.get("color"));
        assertEquals(AT, Instant.parse((String) embed.get("timestamp")));
        assertEquals(List.of(Map.of("name", "severity", "value", "warning", "inline", true),
                Map.of("name", "host", "value", INSTANCE, "inline", true),
                Map.of("name", "service", "value", "ollama", "inline", true)), embed.get("fields"));
    }

    @Test
    void jsonKeepsTodaysShapeAndAddsSeverityAndTitle() throws Exception {
        receiver = Receiver.start();
        notifier(sink(receiver.base() + "/hook", SinkFormat.JSON, Severity.INFO, Map.of())).notify(denied());
        Receiver.Received r = receiver.next();
        assertEquals("/hook", r.path());
        Map<String, Object> body = object(r.body());
        assertEquals(List.of("event", "at", "message", "service", "bytes", "reason", "severity", "title"),
                List.copyOf(body.keySet()));
        assertEquals("denied", body.get("event"));
        assertEquals(AT.toString(), body.get("at"));
        assertEquals("warning", body.get("severity"));
        assertEquals(2684354560L, ((Number) body.get("bytes")).longValue());
    }

    @Test
    void aSinkGetsOnlyEventsAtOrAboveItsThresholdAndThoseItSubscribedTo() throws Exception {
        receiver = Receiver.start();
        SinkConfig warnings = sink(receiver.base() + "/warn", SinkFormat.JSON, Severity.WARNING, Map.of());
        SinkConfig deniedOnly = new SinkConfig(Optional.of(URI.create(receiver.base() + "/denied")), Optional.empty(),
                SinkFormat.JSON, List.of("denied"), Severity.INFO, Duration.ofSeconds(5), Map.of(), Duration.ofHours(1));
        Notifier n = notifier(warnings, deniedOnly);
        assertTrue(n.wants(NotificationEvent.RELEASED));
        n.notify(released());
        n.notify(xid79());
        n.notify(denied());
        List<String> got = new java.util.ArrayList<>();
        for (int i = 0; i < 3; i++) {
            Receiver.Received r = receiver.next();
            got.add(r.path() + " " + object(r.body()).get("event"));
        }
        got.sort(null);
        assertEquals(List.of("/denied denied", "/warn denied", "/warn xid"), got, "the info event went nowhere");
    }

    @Test
    void aReceiverThatIsDownGetsEverythingInOrderOnceItReturnsWithBackoffBetweenTries() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Notifier n = notifier(sink("http://127.0.0.1:" + port + "/hook", SinkFormat.JSON, Severity.INFO, Map.of()));
        n.notify(denied());
        n.notify(xid79());

        ManualTime.Scheduled first = timers.awaitScheduled();
        assertEquals(timers.instant().plus(Delivery.DEFAULT_BACKOFF_MIN), first.at(), "first retry after 1 s");
        timers.fireNext();
        ManualTime.Scheduled second = timers.awaitScheduled();
        assertEquals(timers.instant().plusSeconds(2), second.at(), "then twice the wait");

        receiver = Receiver.on(port);
        timers.fireNext();
        assertEquals("denied", object(receiver.next().body()).get("event"));
        assertEquals("xid", object(receiver.next().body()).get("event"), "in order, the second right after");
        assertEquals(List.of(), timers.pending());
    }

    @Test
    void aRefusalIsFinalAndAServerErrorIsRetried() throws Exception {
        receiver = Receiver.start();
        receiver.status.set(400);
        Notifier n = notifier(sink(receiver.base() + "/hook", SinkFormat.JSON, Severity.INFO, Map.of()));
        n.notify(denied());
        assertEquals("denied", object(receiver.next().body()).get("event"));
        receiver.status.set(503);
        n.notify(xid79());
        assertEquals("xid", object(receiver.next().body()).get("event"));
        timers.awaitScheduled();
        receiver.status.set(204);
        timers.fireNext();
        assertEquals("xid", object(receiver.next().body()).get("event"), "the 503 is tried again; the 400 is not");
        assertEquals(List.of(), timers.pending());
        assertTrue(receiver.idle());
    }

    @Test
    void aFullQueueDropsTheOldest() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Notifier n = new Notifier(List.of(sink("http://127.0.0.1:" + port + "/hook", SinkFormat.JSON, Severity.INFO,
                Map.of())), INSTANCE, () -> http, timers, timers, 2);
        n.notify(released());
        n.notify(denied());
        n.notify(xid79());
        Delivery d = n.deliveries().get(0);
        assertEquals(1, d.dropped());
        assertEquals(2, d.queued());
        timers.awaitScheduled();
        receiver = Receiver.on(port);
        timers.fireNext();
        assertEquals("denied", object(receiver.next().body()).get("event"));
        assertEquals("xid", object(receiver.next().body()).get("event"));
    }

    @Test
    void theBackoffDoublesUpToItsCeiling() {
        Delivery d = new Delivery(sink("http://127.0.0.1:1/", SinkFormat.JSON, Severity.INFO, Map.of()), INSTANCE,
                () -> http, timers, timers, 8, 10, Duration.ofSeconds(1), Duration.ofMinutes(5));
        assertEquals(List.of(1L, 2L, 4L, 8L, 16L, 32L, 64L, 128L, 256L, 300L, 300L),
                java.util.stream.IntStream.rangeClosed(1, 11).mapToObj(a -> d.backoff(a).toSeconds()).toList());
    }
}
