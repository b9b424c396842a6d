package org.gpuagent.agent.e2e;

import static org.gpuagent.agent.e2e.SimulatedDaemonTest.json;
import static org.gpuagent.agent.e2e.SimulatedDaemonTest.list;
import static org.gpuagent.agent.e2e.SimulatedDaemonTest.map;
import static org.gpuagent.agent.e2e.SimulatedDaemonTest.num;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.gpuagent.nvml.testing.Prerequisites;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The daemon on a real full disk (its state directory on a small tmpfs that the test fills and
 * empties): while the journal cannot be written, admissions and releases answer 503
 * {@code journal_unavailable} (never 204 for a release that was not stored), {@code /healthz} is
 * 503 with the reason and {@code nvgpu_journal_healthy} is 0; when space returns the daemon heals
 * without a restart; after {@code kill -9} a restart holds exactly what was acknowledged; a stop
 * while the disk is full does not claim the journal is synced.
 */
class FullDiskTest {
    private static final Pattern HEALTHY = Pattern.compile("(?m)^nvgpu_journal_healthy (\\S+)$");
    private static final Pattern FAILURES = Pattern.compile("(?m)^nvgpu_journal_write_failures_total (\\S+)$");

    @TempDir
    Path dir;

    @Test
    void aFullDiskIsAStateTheDaemonLeavesByItselfAndNothingUnstoredIsAcknowledged() throws Exception {
        Prerequisites.require("root".equals(System.getProperty("user.name")),
                "mounting a tmpfs for the full-disk test needs root");
        Path disk = Files.createDirectory(dir.resolve("disk"));
        run("mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", disk.toString());
        try {
            Path state = disk.resolve("state");
            Path filler = disk.resolve("filler");
            Set<Long> acknowledged = new HashSet<>();
            long released;
            try (DaemonProcess d = DaemonProcess.start(state, List.of())) {
                released = admit(d, "{\"service\":\"ollama\",\"bytes\":1048576}");
                acknowledged.add(admit(d, "{\"service\":\"jellyfin\",\"bytes\":1048576}"));
                assertEquals(1.0, Double.parseDouble(metric(d, HEALTHY)));

                fill(filler);
                HttpResponse<String> refused = admitUntilRefused(d, acknowledged);
                assertEquals("journal_unavailable", json(refused).get("error"), refused.body());
                HttpResponse<String> health = d.metrics("/healthz");
                assertEquals(503, health.statusCode());
                assertEquals("unhealthy: the ledger journal cannot be written: No space left on device\n",
                        health.body());
                assertEquals(0.0, Double.parseDouble(metric(d, HEALTHY)));
                assertTrue(Double.parseDouble(metric(d, FAILURES)) >= 1, metric(d, FAILURES));
                HttpResponse<String> release = d.api("DELETE", "/v1/leases/" + released, null);
                assertEquals(503, release.statusCode(), "a release that was not stored is not acknowledged");
                assertEquals("journal_unavailable", json(release).get("error"), release.body());
                HttpResponse<String> again = d.api("POST", "/v1/leases", "{\"service\":\"frigate\",\"bytes\":1}");
                assertEquals(503, again.statusCode(), again.body());
                assertTrue(json(again).get("message").toString().contains("No space left on device"), again.body());

                Files.delete(filler);
                awaitHealthy(d);
                assertEquals(1.0, Double.parseDouble(metric(d, HEALTHY)));
                assertEquals(204, d.api("DELETE", "/v1/leases/" + released, null).statusCode());
                acknowledged.add(admit(d, "{\"service\":\"frigate\",\"bytes\":1048576}"));
                assertEquals(137, d.kill());
            }
            try (DaemonProcess d = DaemonProcess.start(state, List.of())) {
                Set<Long> held = new HashSet<>();
                for (Object l : list(json(d.api("GET", "/v1/leases", null)).get("leases"))) {
                    held.add(num(map(l).get("id")));
                }
                assertEquals(acknowledged, held, "after kill -9: what was acknowledged, and nothing else");

                fill(filler);
                admitUntilRefused(d, new HashSet<>());
                assertEquals(143, d.stop());
                assertTrue(d.logText().contains("ERROR stopped; the ledger journal is NOT synced (No space left on"
                        + " device): the next start replays it as it was when writing failed"), d.logText());
                assertFalse(d.logText().contains("journal is synced"), d.logText());
            }
        } finally {
            run("umount", "-l", disk.toString());
        }
    }

    private static long admit(DaemonProcess d, String body) throws IOException, InterruptedException {
        HttpResponse<String> r = d.api("POST", "/v1/leases", body);
        assertEquals(201, r.statusCode(), r.body());
        return num(map(json(r).get("lease")).get("id"));
    }

    /**
     * Admits small leases until one is refused: the journal's last page may still take a few
     * records after the disk is full. Those that were admitted count as acknowledged.
     */
    private static HttpResponse<String> admitUntilRefused(DaemonProcess d, Set<Long> acknowledged)
            throws IOException, InterruptedException {
        for (int i = 0; i < 200; i++) {
            HttpResponse<String> r = d.api("POST", "/v1/leases", "{\"service\":\"frigate\",\"bytes\":1048576}");
            if (r.statusCode() != 201) {
                assertEquals(503, r.statusCode(), r.body());
                return r;
            }
            acknowledged.add(num(map(json(r).get("lease")).get("id")));
        }
        throw new AssertionError("200 admissions on a full disk, none refused");
    }

    private static void awaitHealthy(DaemonProcess d) throws IOException, InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (d.metrics("/healthz").statusCode() != 200) {
            assertTrue(System.nanoTime() < end, "the daemon did not heal within 30 s:\n" + d.logText());
            Thread.sleep(50);
        }
    }

    private static String metric(DaemonProcess d, Pattern p) throws IOException, InterruptedException {
        String body = d.metrics("/metrics").body();
        Matcher m = p.matcher(body);
        assertTrue(m.find(), body);
        return m.group(1);
    }

    private static void fill(Path filler) throws IOException {
        byte[] block = new byte[16 * 1024];
        try (OutputStream out = Files.newOutputStream(filler)) {
            while (true) {
                out.write(block);
            }
        } catch (IOException e) {
            assertTrue(String.valueOf(e.getMessage()).contains("No space left on device"), e.toString());
        }
    }

    private static void run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), String.join(" ", command) + " hung");
        assertEquals(0, p.exitValue(), String.join(" ", command) + ": " + out);
    }
}
