package org.gpuagent.agent.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Configurations for end-to-end runs: the built-in four services, sampled fast. */
final class TestConfigs {
    static final long MIB = 1024L * 1024;
    /** The simulated P1000's total and the auto headroom's budget on it (4 GiB − 5 %). */
    static final long TOTAL = 4096 * MIB;
    static final long BUDGET = TOTAL - TOTAL / 20;

    private TestConfigs() {
    }

    /** Deletes a directory tree (best effort: a test's leftovers in /tmp are not a failure). */
    static void delete(Path dir) throws IOException {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (var walk = Files.walk(dir)) {
            walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /**
     * The built-in services (no {@code services} key), process lists read on every 100 ms tick so
     * that the ledger sees the simulator's processes quickly, and a 1 s reclaim grace.
     */
    static Path fast(Path dir) throws IOException {
        Path f = dir.resolve("fast.yaml");
        Files.writeString(f, """
                device-memory: 4GiB
                sampling:
                  interval: 100ms
                  slow-every: 1
                reconcile:
                  grace: 1s
                """);
        return f;
    }
}
