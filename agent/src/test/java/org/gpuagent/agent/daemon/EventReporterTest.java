package org.gpuagent.agent.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.jr.ob.JSON;
import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.gpuagent.agent.notify.Notification;
import org.gpuagent.agent.notify.NotificationEvent;
import org.gpuagent.agent.notify.Notifier;
import org.gpuagent.agent.notify.Severity;
import org.gpuagent.agent.notify.SinkConfig;
import org.gpuagent.exporter.GpuMetrics;
import org.gpuagent.nvml.sampler.Faults;
import org.gpuagent.nvml.sampler.GpuSnapshot;
import org.gpuagent.nvml.sampler.SessionInfo;
import org.gpuagent.nvml.sampler.XidCount;
import org.gpuagent.nvml.sampler.XidEvent;
import org.gpuagent.scheduler.Decision;
import org.gpuagent.scheduler.Lease;
import org.gpuagent.scheduler.LeaseId;
import org.gpuagent.scheduler.LedgerEvent;
import org.junit.jupiter.api.Test;

/** What each event becomes: its notification event, severity and headline; and the GPU's events reach a sink. */
class EventReporterTest {
    static final Instant AT = Instant.parse("2026-01-15T12:00:00Z");
    static final long MIB = 1024L * 1024;

    static Lease lease(long id, String service, long mib) {
        return Lease.active(new LeaseId(id), service, mib * MIB, Optional.of("systemd:" + service + ".service"),
                List.of(), AT);
    }

    @Test
    void everyNotifiedLedgerEventHasItsSeverityAndAHeadlineWithRoundedSizes() {
        record Case(LedgerEvent event, NotificationEvent kind, Severity severity, String title) {
        }
        Lease ollama = lease(2, "ollama", 2560);
        for (Case c : List.of(
                new Case(new LedgerEvent.Admitted(AT, 1, lease(1, "frigate", 900), List.of(), Duration.ZERO, "s"),
                        NotificationEvent.ADMITTED, Severity.INFO, "frigate got 900 MiB of VRAM"),
                new Case(new LedgerEvent.Admitted(AT, 1, lease(1, "frigate", 900), List.of(ollama), Duration.ZERO, "s"),
                        NotificationEvent.ADMITTED, Severity.INFO, "frigate got 900 MiB of VRAM by preemption"),
                new Case(new LedgerEvent.Queued(AT, 3, "immich", 1200 * MIB, 1, AT.plusSeconds(30), "s"),
                        NotificationEvent.QUEUED, Severity.INFO, "immich waits for 1.17 GiB of VRAM"),
                new Case(new LedgerEvent.Denied(AT, 4, "ollama", 2560 * MIB, Decision.Reason.INSUFFICIENT_VRAM,
                        1100 * MIB, Duration.ZERO, "s"), NotificationEvent.DENIED, Severity.WARNING,
                        "ollama denied 2.5 GiB of VRAM"),
                new Case(new LedgerEvent.Denied(AT, 4, "ollama", 2560 * MIB, Decision.Reason.CANCELLED, 0,
                        Duration.ZERO, "s"), NotificationEvent.DENIED, Severity.INFO, "ollama denied 2.5 GiB of VRAM"),
                new Case(new LedgerEvent.Preempted(AT, ollama, "frigate", 5, "s"), NotificationEvent.PREEMPTED,
                        Severity.WARNING, "ollama preempted for frigate"),
                new Case(new LedgerEvent.Evicted(AT, ollama, "s"), NotificationEvent.EVICTED, Severity.INFO,
                        "ollama gave its VRAM back"),
                new Case(new LedgerEvent.Released(AT, ollama, "s"), NotificationEvent.RELEASED, Severity.INFO,
                        "ollama released 2.5 GiB of VRAM"),
                new Case(new LedgerEvent.Reclaimed(AT, ollama, AT.minusSeconds(30), "s"), NotificationEvent.RECLAIMED,
                        Severity.WARNING, "ollama's lease reclaimed: its holder is gone"),
                new Case(new LedgerEvent.OverUse(AT, "jellyfin", Optional.empty(), 256 * MIB, 400 * MIB, 64 * MIB, "s"),
                        NotificationEvent.OVER_USE, Severity.WARNING, "jellyfin uses 400 MiB of VRAM, leased 256 MiB"))) {
            assertEquals(Optional.of(c.kind()), LedgerNotifications.eventOf(c.event()), c.title());
            Notification n = LedgerNotifications.notification(c.kind(), c.event());
            assertEquals(c.severity(), n.severity(), c.title());
            assertEquals(c.title(), n.title());
            assertEquals("s", n.message());
            assertEquals(AT, n.at());
            assertTrue(n.service().isPresent());
        }
        assertEquals(Optional.empty(), LedgerNotifications.eventOf(new LedgerEvent.UnattributedUse(AT, 1, "")));
    }

    @Test
    @SuppressWarnings("unchecked")
    void aLostGpuItsReturnAndXidsReachASinkWithTheirSeverities() throws Exception {
        LinkedBlockingQueue<Map<String, Object>> received = new LinkedBlockingQueue<>();
        HttpServer receiver = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        receiver.createContext("/hook", ex -> {
            Map<String, Object> body = JSON.std.mapFrom(ex.getRequestBody());
            ex.sendResponseHeaders(204, -1);
            ex.close();
            received.add(body);
        });
        receiver.start();
        ExecutorService reporting = Executors.newSingleThreadExecutor();
        try {
            SinkConfig sink = SinkConfig.json(URI.create("http://127.0.0.1:" + receiver.getAddress().getPort()
                    + "/hook"), NotificationEvent.labels());
            Notifier notifier = new Notifier(List.of(sink), "hwc-server:9848", HttpClient::newHttpClient,
                    (at, action) -> {
                        throw new AssertionError("the receiver answers: no retry");
                    }, InstantSource.fixed(AT));
            EventReporter events = new EventReporter(GpuMetrics.builder().jvmMetrics(false).build().scheduler(),
                    notifier, reporting);
            events.accept(snapshot(1, GpuSnapshot.Status.OK, List.of(), List.of()));
            events.accept(snapshot(2, GpuSnapshot.Status.LOST, List.of(), List.of()));
            Map<String, Object> lost = received.poll(30, TimeUnit.SECONDS);
            assertEquals("gpu-lost", lost.get("event"));
            assertEquals("critical", lost.get("severity"));
            assertEquals("GPU lost", lost.get("title"));

            XidEvent x79 = new XidEvent(0, "GPU-a", 79, AT);
            XidEvent x13 = new XidEvent(0, "GPU-a", 13, AT);
            events.accept(snapshot(3, GpuSnapshot.Status.OK, List.of(new XidCount(0, "GPU-a", 79, 1, AT),
                    new XidCount(0, "GPU-a", 13, 1, AT)), List.of(x79, x13)));
            Map<String, Object> back = received.poll(30, TimeUnit.SECONDS);
            assertEquals("gpu-recovered", back.get("event"));
            assertEquals("info", back.get("severity"));
            Map<String, Object> first = received.poll(30, TimeUnit.SECONDS);
            Map<String, Object> second = received.poll(30, TimeUnit.SECONDS);
            assertEquals(List.of("xid", 79, "critical"), List.of(first.get("event"), first.get("xid"), first.get("severity")),
                    "Xid 79: the GPU fell off the bus");
            assertEquals(List.of("xid", 13, "warning"), List.of(second.get("event"), second.get("xid"),
                    second.get("severity")), "Xid 13: an application's fault");
        } finally {
            reporting.shutdownNow();
            receiver.stop(0);
        }
    }

    private static GpuSnapshot snapshot(long seq, GpuSnapshot.Status status, List<XidCount> counts,
                                        List<XidEvent> recent) {
        Faults faults = new Faults(List.of(), List.of(), counts, recent);
        GpuSnapshot ok = GpuSnapshot.ok(seq, AT, AT, 0, new SessionInfo(Optional.of("sim"), Optional.empty(),
                Optional.empty(), OptionalInt.empty()), List.of(), faults);
        return status == GpuSnapshot.Status.OK ? ok : GpuSnapshot.lost(seq, "GPU 0 has fallen off the bus", AT, ok, faults);
    }
}
