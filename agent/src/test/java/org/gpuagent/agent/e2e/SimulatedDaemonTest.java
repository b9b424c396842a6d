package org.gpuagent.agent.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.TestInstance;

/**
 * One real daemon (a child JVM on the simulator, {@link TestConfigs#fast}) for a whole test class;
 * each test starts from an empty ledger whose memory the simulator shows free again.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class SimulatedDaemonTest {
    Path dir;
    DaemonProcess daemon;

    @BeforeAll
    void startDaemon() throws Exception {
        dir = Files.createTempDirectory(getClass().getSimpleName());
        daemon = DaemonProcess.start(dir.resolve("state"), List.of("--config", config(dir).toString()));
    }

    /** The daemon's configuration; {@link TestConfigs#fast} unless a test class needs another. */
    Path config(Path dir) throws IOException {
        return TestConfigs.fast(dir);
    }

    @AfterAll
    void stopDaemon() throws Exception {
        if (daemon != null) {
            daemon.close();
        }
        TestConfigs.delete(dir);
    }

    /** Releases every lease and waits until the GPU shows their processes gone. */
    @BeforeEach
    void emptyLedger() throws Exception {
        for (Object o : list(json(daemon.api("GET", "/v1/leases", null)).get("leases"))) {
            daemon.api("DELETE", "/v1/leases/" + map(o).get("id"), null);
        }
        awaitStatus(s -> num(map(s.get("budget")).get("committedBytes")) == 0, "an empty ledger and GPU");
    }

    Map<String, Object> status() throws Exception {
        HttpResponse<String> r = daemon.api("GET", "/v1/status", null);
        assertEquals(200, r.statusCode(), r.body());
        return json(r);
    }

    void awaitStatus(Predicate<Map<String, Object>> p, String what) throws Exception {
        long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        Map<String, Object> s = status();
        while (!p.test(s)) {
            if (System.nanoTime() > end) {
                throw new AssertionError("never saw " + what + "; last status: " + s + "\n" + daemon.logText());
            }
            Thread.sleep(50);
            s = status();
        }
    }

    static Map<String, Object> json(HttpResponse<String> r) throws IOException {
        return JSON.std.mapFrom(r.body());
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object o) {
        return (Map<String, Object>) o;
    }

    static List<?> list(Object o) {
        return (List<?>) o;
    }

    static long num(Object o) {
        return ((Number) o).longValue();
    }
}
