package org.gpuagent.agent.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The real daemon on the simulator, driven over HTTP: admission, queue, preemption, denial,
 * releases, reconciliation and every error status of the contract.
 */
class ApiEndToEndTest extends SimulatedDaemonTest {
    static final long MIB = TestConfigs.MIB;

    @Test
    void admitsAndReleasesByLeaseTwice() throws Exception {
        HttpResponse<String> r = daemon.api("POST", "/v1/leases", "{\"service\":\"ollama\",\"holder\":\"test:a\"}");
        assertEquals(201, r.statusCode(), r.body());
        Map<String, Object> lease = map(json(r).get("lease"));
        assertEquals("ollama", lease.get("service"));
        assertEquals(2560 * MIB, num(lease.get("bytes")));
        assertEquals("test:a", lease.get("holder"));
        assertNotNull(lease.get("grantedAt"));
        assertEquals(List.of(), json(r).get("preempted"));
        long id = num(lease.get("id"));
        assertTrue(leaseIds().contains(id));
        // the simulator runs it: the ledger observes the service's memory
        awaitStatus(s -> observed(s, "ollama") == 2560 * MIB, "ollama's simulated process using its lease");

        assertEquals(204, daemon.api("DELETE", "/v1/leases/" + id, null).statusCode());
        assertEquals(204, daemon.api("DELETE", "/v1/leases/" + id, null).statusCode());
        assertFalse(leaseIds().contains(id));
        assertEquals(204, daemon.api("DELETE", "/v1/leases/999999", null).statusCode());
        assertEquals(404, daemon.api("GET", "/v1/leases/" + id, null).statusCode());
    }

    @Test
    void releasesByHolderTwice() throws Exception {
        for (int i = 0; i < 2; i++) {
            assertEquals(201, daemon.api("POST", "/v1/leases",
                    "{\"service\":\"jellyfin\",\"bytes\":\"300MiB\",\"holder\":\"systemd:jellyfin.service\"}").statusCode());
        }
        assertEquals(201, daemon.api("POST", "/v1/leases", "{\"service\":\"jellyfin\",\"holder\":\"other\"}").statusCode());
        assertEquals(3, leaseIds().size());
        assertEquals(204, daemon.api("DELETE", "/v1/leases?holder=systemd%3Ajellyfin.service", null).statusCode());
        assertEquals(1, leaseIds().size());
        assertEquals(204, daemon.api("DELETE", "/v1/leases?holder=systemd%3Ajellyfin.service", null).statusCode());
        assertEquals(1, leaseIds().size());
        assertEquals(400, daemon.api("DELETE", "/v1/leases", null).statusCode());
    }

    @Test
    void deniesWithReasonAndShortfall() throws Exception {
        holdFrigateJellyfinImmich();
        Map<String, Object> before = status();
        long free = num(map(before.get("budget")).get("freeBytes"));
        HttpResponse<String> r = daemon.api("POST", "/v1/leases", "{\"service\":\"ollama\"}");
        assertEquals(409, r.statusCode(), r.body());
        Map<String, Object> body = json(r);
        assertEquals("insufficient_vram", body.get("error"));
        assertEquals("insufficient_vram", body.get("reason"));
        assertEquals(2560 * MIB - free, num(body.get("shortfallBytes")));
        String message = (String) body.get("message");
        assertTrue(message.startsWith("ollama needs 2.5 GiB"), message);
        assertTrue(message.contains("not waiting"), message);
    }

    @Test
    void queuedRequestIsAdmittedWhenMemoryIsReleased() throws Exception {
        List<Long> held = holdFrigateJellyfinImmich();
        CompletableFuture<HttpResponse<String>> waiting = CompletableFuture.supplyAsync(() -> {
            try {
                return daemon.api("POST", "/v1/leases", "{\"service\":\"ollama\",\"waitMs\":60000}");
            } catch (IOException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        awaitStatus(s -> list(s.get("queue")).size() == 1, "ollama waiting in the queue");
        assertEquals("ollama", map(list(status().get("queue")).get(0)).get("service"));
        assertFalse(waiting.isDone());
        // immich and jellyfin go: 3.8 GiB − 1.07 GiB frigate leaves room for 2.5 GiB
        daemon.api("DELETE", "/v1/leases/" + held.get(1), null);
        daemon.api("DELETE", "/v1/leases/" + held.get(2), null);
        HttpResponse<String> r = waiting.get(60, TimeUnit.SECONDS);
        assertEquals(201, r.statusCode(), r.body());
        assertEquals("ollama", map(json(r).get("lease")).get("service"));
        assertTrue(list(status().get("queue")).isEmpty());
    }

    @Test
    void frigatePreemptsOllamaAndTheSimulatedProcessExits() throws Exception {
        HttpResponse<String> o = daemon.api("POST", "/v1/leases",
                "{\"service\":\"ollama\",\"holder\":\"systemd:ollama.service\"}");
        assertEquals(201, o.statusCode(), o.body());
        long ollama = num(map(json(o).get("lease")).get("id"));
        assertEquals(201, daemon.api("POST", "/v1/leases", "{\"service\":\"jellyfin\"}").statusCode());
        awaitStatus(s -> observed(s, "ollama") > 0, "ollama's process running");

        HttpResponse<String> f = daemon.api("POST", "/v1/leases",
                "{\"service\":\"frigate\",\"holder\":\"systemd:frigate.service\"}");
        assertEquals(201, f.statusCode(), f.body());
        assertEquals(List.of(ollama), list(json(f).get("preempted")).stream().map(x -> num(x)).toList());
        assertTrue(((String) json(f).get("message")).contains("after preempting ollama lease " + ollama),
                f.body());
        assertFalse(leaseIds().contains(ollama));
        awaitStatus(s -> observed(s, "ollama") == 0, "ollama's simulated process gone");
        String metrics = daemon.metrics("/metrics").body();
        assertTrue(metrics.contains("nvgpu_preemptions_total{service=\"ollama\"} 1.0"), metrics);
        assertTrue(metrics.contains("nvgpu_admissions_total{outcome=\"admitted_after_preemption\",service=\"frigate\"} 1.0"),
                metrics);
        daemon.awaitLine(l -> l.contains("INFO preemption of ollama lease " + ollama + " (2.5 GiB) for frigate via the "
                + "simulator, in place of ollama-unload") && l.contains("its simulated process exits in 500 ms"),
                Duration.ofSeconds(10));
    }

    @Test
    void leaseOfADeadPidIsReclaimed() throws Exception {
        Process sleeper = new ProcessBuilder("sleep", "120").start();
        try {
            HttpResponse<String> r = daemon.api("POST", "/v1/leases", "{\"service\":\"immich\",\"holder\":\"oci:abc\","
                    + "\"pids\":[" + sleeper.pid() + "]}");
            assertEquals(201, r.statusCode(), r.body());
            assertEquals(List.of(sleeper.pid()), list(map(json(r).get("lease")).get("pids")).stream()
                    .map(x -> num(x)).toList());
            long id = num(map(json(r).get("lease")).get("id"));
            // past the 1 s grace by the daemon's own observations, not by our clock
            Instant pastGrace = Instant.parse((String) map(json(r).get("lease")).get("grantedAt")).plusMillis(1500);
            awaitStatus(s -> map(s.get("budget")).get("observedAt") instanceof String at
                    && Instant.parse(at).isAfter(pastGrace), "an observation past the grace");
            assertTrue(leaseIds().contains(id), "a live pid keeps its lease past the grace");
            sleeper.destroyForcibly().waitFor();
            awaitStatus(s -> list(s.get("leases")).isEmpty(), "the dead pid's lease reclaimed");
            daemon.awaitLine(l -> l.contains("lease " + id) && l.contains("reclaim"), Duration.ofSeconds(10));
        } finally {
            sleeper.destroyForcibly();
        }
    }

    @Test
    void bearerTokenIsRequired() throws Exception {
        for (String token : new String[] {null, "wrong", daemon.token() + "x", ""}) {
            HttpResponse<String> r = daemon.api("GET", "/v1/status", null, token);
            assertEquals(401, r.statusCode(), String.valueOf(token));
            assertEquals("unauthorized", json(r).get("error"));
            r = daemon.api("POST", "/v1/leases", "{\"service\":\"ollama\"}", token);
            assertEquals(401, r.statusCode());
        }
        assertTrue(leaseIds().isEmpty());
        assertEquals(200, daemon.api("GET", "/v1/status", null).statusCode());
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "{\"service\":\"ollama\"",
        "not json",
        "[\"ollama\"]",
        "{\"service\":\"ollama\",\"service\":\"frigate\"}",
        "{\"service\":\"ollama\",\"bytes\":-1}",
        "{\"service\":\"ollama\",\"bytes\":0}",
        "{\"service\":\"ollama\",\"bytes\":9223372036854775808}",
        "{\"service\":\"ollama\",\"bytes\":1e30}",
        "{\"service\":\"ollama\",\"bytes\":1.5}",
        "{\"service\":\"ollama\",\"bytes\":\"12 parsecs\"}",
        "{\"service\":\"ollama\",\"bytes\":\"-5GiB\"}",
        "{\"service\":\"ollama\",\"bytes\":\"0\"}",
        "{\"service\":\"ollama\",\"bytes\":\"9223372036854775808\"}",
        "{\"service\":\"ollama\",\"bytes\":true}",
        "{\"service\":\"ollama\",\"waitMs\":-1}",
        "{\"service\":\"ollama\",\"byte\":5}",
        "{\"bytes\":5}",
        "{\"service\":\"ollama\",\"holder\":\"\"}",
        "{\"service\":\"ollama\",\"pids\":[0]}",
        ""
    })
    void malformedRequestsAre400(String body) throws Exception {
        HttpResponse<String> r = daemon.api("POST", "/v1/leases", body);
        assertEquals(400, r.statusCode(), body + " -> " + r.body());
        Map<String, Object> m = json(r);
        assertEquals("bad_request", m.get("error"));
        assertTrue(m.get("message") instanceof String s && !s.isBlank());
        assertFalse(r.body().contains("Exception") || r.body().contains("\tat "), r.body());
        assertTrue(leaseIds().isEmpty());
    }

    @Test
    void sizeStringsAreAccepted() throws Exception {
        HttpResponse<String> r = daemon.api("POST", "/v1/leases", "{\"service\":\"immich\",\"bytes\":\"512MiB\"}");
        assertEquals(201, r.statusCode(), r.body());
        assertEquals(512 * MIB, num(map(json(r).get("lease")).get("bytes")));
    }

    @Test
    void unknownServiceRouteAndMethod() throws Exception {
        HttpResponse<String> r = daemon.api("POST", "/v1/leases", "{\"service\":\"plex\"}");
        assertEquals(404, r.statusCode());
        assertEquals("unknown_service", json(r).get("error"));
        assertTrue(((String) json(r).get("message")).contains("unknown service 'plex'"), r.body());
        assertEquals(404, daemon.api("GET", "/v1/nothing", null).statusCode());
        assertEquals("not_found", json(daemon.api("GET", "/metrics", null)).get("error"));
        r = daemon.api("PUT", "/v1/leases", "{}");
        assertEquals(405, r.statusCode());
        assertEquals("GET, POST, DELETE", r.headers().firstValue("Allow").orElse(""));
        assertEquals(405, daemon.api("POST", "/v1/status", "{}").statusCode());
        assertEquals(400, daemon.api("DELETE", "/v1/leases/abc", null).statusCode());
    }

    @Test
    void oversizedBodyIs413() throws Exception {
        String big = "{\"service\":\"ollama\",\"holder\":\"" + "x".repeat(100 * 1024) + "\"}";
        HttpResponse<String> r = daemon.api("POST", "/v1/leases", big);
        assertEquals(413, r.statusCode());
        assertEquals("body_too_large", json(r).get("error"));
        assertTrue(leaseIds().isEmpty());
    }

    @Test
    void statusAndMetricsShowTheLedger() throws Exception {
        assertEquals(201, daemon.api("POST", "/v1/leases", "{\"service\":\"ollama\"}").statusCode());
        Map<String, Object> s = status();
        Map<String, Object> budget = map(s.get("budget"));
        assertEquals(TestConfigs.TOTAL, num(budget.get("deviceTotalBytes")));
        assertEquals(TestConfigs.BUDGET, num(budget.get("budgetBytes")));
        assertEquals(2560 * MIB, num(budget.get("leasedBytes")));
        assertEquals("sim", s.get("backend"));
        Map<String, Object> gpu0 = map(list(s.get("devices")).get(0));
        assertEquals("Quadro P1000", gpu0.get("name"));
        assertEquals(Boolean.TRUE, gpu0.get("arbitrated"));
        assertEquals(List.of("frigate", "jellyfin", "immich", "ollama"),
                list(s.get("services")).stream().map(x -> map(x).get("service")).toList());

        awaitMetrics("nvgpu_vram_leased_bytes{service=\"ollama\"} " + (double) (2560 * MIB));
        // the simulated process appears shortly after the grant, then the sampler sees it
        awaitMetrics("nvgpu_workload_memory_used_bytes{kind=\"service\",workload=\"ollama\"} " + (double) (2560 * MIB));
        awaitMetrics("nvgpu_vram_observed_bytes{service=\"ollama\"} " + (double) (2560 * MIB));
        HttpResponse<String> m = daemon.metrics("/metrics");
        assertEquals(200, m.statusCode());
        for (String series : List.of("nvgpu_up 1.0", "nvgpu_info{", "nvgpu_memory_total_bytes{gpu=\"0\"",
                "nvgpu_vram_budget_bytes " + (double) TestConfigs.BUDGET, "nvgpu_admission_queue_length 0.0",
                "nvgpu_memory_unattributed_bytes{gpu=\"0\"")) {
            assertTrue(m.body().contains(series), series + " missing from:\n" + m.body());
        }
        assertEquals(200, daemon.metrics("/healthz").statusCode());
    }

    // ---- helpers ----

    /** Frigate, Jellyfin and Immich at their default requests: 3.3 GiB of the 3.8 GiB budget. */
    private List<Long> holdFrigateJellyfinImmich() throws Exception {
        List<Long> ids = new java.util.ArrayList<>();
        for (String s : List.of("frigate", "jellyfin", "immich")) {
            HttpResponse<String> r = daemon.api("POST", "/v1/leases", "{\"service\":\"" + s + "\",\"holder\":\"systemd:"
                    + s + ".service\"}");
            assertEquals(201, r.statusCode(), r.body());
            ids.add(num(map(json(r).get("lease")).get("id")));
        }
        return ids;
    }

    private List<Long> leaseIds() throws Exception {
        return list(json(daemon.api("GET", "/v1/leases", null)).get("leases")).stream()
                .map(o -> num(map(o).get("id"))).toList();
    }

    private static long observed(Map<String, Object> status, String service) {
        for (Object o : list(status.get("services"))) {
            if (service.equals(map(o).get("service"))) {
                return num(map(o).get("observedBytes"));
            }
        }
        throw new AssertionError("no service " + service);
    }

    private void awaitMetrics(String line) throws Exception {
        long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        String body = daemon.metrics("/metrics").body();
        while (!body.contains(line)) {
            if (System.nanoTime() > end) {
                throw new AssertionError(line + " never appeared in:\n" + body);
            }
            Thread.sleep(50);
            body = daemon.metrics("/metrics").body();
        }
    }
}
