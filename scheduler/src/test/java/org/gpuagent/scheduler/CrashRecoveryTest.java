package org.gpuagent.scheduler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.gpuagent.scheduler.journal.FileJournal;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A child JVM admits under load and is killed with SIGKILL mid-stream, twice over the same state
 * directory; after replay, every lease it acknowledged (and did not start to release) exists
 * exactly once, every acknowledged release stays released, and nothing is counted twice. A release
 * asked for but not yet acknowledged may go either way.
 */
class CrashRecoveryTest {
    private static final int ACKS_BEFORE_KILL = 1500;

    @TempDir
    Path dir;

    @Test
    void everyAcknowledgedLeaseSurvivesSigkill() throws Exception {
        Map<LeaseId, Long> acknowledged = new LinkedHashMap<>();
        Set<LeaseId> releasing = new HashSet<>();
        Set<LeaseId> released = new HashSet<>();
        for (int round = 1; round <= 2; round++) {
            runAndKill(round, acknowledged, releasing, released);
        }
        assertTrue(acknowledged.size() >= 2 * ACKS_BEFORE_KILL, "acknowledged " + acknowledged.size());
        assertFalse(released.isEmpty());

        VirtualTime time = new VirtualTime(Homelab.START);
        try (AdmissionController c = AdmissionController.builder(
                new SchedulerConfig(1L << 40, OptionalLong.of(0), Homelab.SERVICES), time, time)
                .journal(FileJournal.open(dir.resolve("state"), time)).build()) {
            LedgerView v = c.view();
            Map<LeaseId, Long> recovered = new HashMap<>();
            for (Lease l : v.leases()) {
                assertEquals(null, recovered.put(l.id(), l.bytes()), "lease " + l.id() + " recovered twice");
            }
            for (Map.Entry<LeaseId, Long> a : acknowledged.entrySet()) {
                if (released.contains(a.getKey())) {
                    assertFalse(recovered.containsKey(a.getKey()), "released lease " + a.getKey() + " came back");
                } else if (releasing.contains(a.getKey())) {
                    // Release asked, answer never seen: either outcome is correct.
                    Long bytes = recovered.get(a.getKey());
                    assertTrue(bytes == null || bytes.equals(a.getValue()), "lease " + a.getKey());
                } else {
                    assertEquals(a.getValue(), recovered.get(a.getKey()), "acknowledged lease " + a.getKey());
                }
            }
            long sum = recovered.values().stream().mapToLong(Long::longValue).sum();
            assertEquals(sum, v.leasedBytes(), "Σ recovered leases");
            assertEquals(sum, v.committedBytes(), "nothing counted twice");
            // Unacknowledged leases may survive too (written, killed before the answer); never more
            // than the few in the last group commit of each round.
            long mustExist = acknowledged.keySet().stream().filter(id -> !releasing.contains(id)).count();
            assertTrue(recovered.size() >= mustExist, "recovered " + recovered.size() + " of " + mustExist);
        }
    }

    private static int countAcks(Path stdout) throws java.io.IOException {
        int n = 0;
        for (String line : Files.readAllLines(stdout, StandardCharsets.UTF_8)) {
            if (line.startsWith("A ")) {
                n++;
            }
        }
        return n;
    }

    private void runAndKill(int round, Map<LeaseId, Long> acknowledged, Set<LeaseId> releasing, Set<LeaseId> released)
            throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Path stderr = dir.resolve("child-" + round + ".err");
        ProcessBuilder pb = new ProcessBuilder(java.toString(), "-cp", System.getProperty("java.class.path"),
                CrashChild.class.getName(), dir.resolve("state").toString(), "16", Integer.toString(round));
        pb.redirectError(stderr.toFile());
        // A file, not a pipe: what the child wrote before SIGKILL is all there afterwards.
        Path stdout = dir.resolve("child-" + round + ".out");
        pb.redirectOutput(stdout.toFile());
        Process child = pb.start();
        int acks = 0;
        for (int polls = 0; polls < 6000 && acks < ACKS_BEFORE_KILL && child.isAlive(); polls++) {
            Thread.sleep(20);
            acks = countAcks(stdout);
        }
        child.destroyForcibly();
        assertTrue(child.waitFor(60, TimeUnit.SECONDS), "child did not die");
        assertTrue(acks >= ACKS_BEFORE_KILL, "round " + round + ": the child acknowledged only " + acks
                + " leases; stderr: " + Files.readString(stderr));
        assertEquals(137, child.exitValue(), "killed by SIGKILL");
        List<String> lines = Files.readAllLines(stdout, StandardCharsets.UTF_8);
        if (!lines.isEmpty() && !Files.readString(stdout).endsWith("\n")) {
            lines = lines.subList(0, lines.size() - 1);
        }
        assertTrue(lines.get(0).startsWith("READY "), lines.get(0));
        for (String line : lines.subList(1, lines.size())) {
            String[] f = line.split(" ");
            switch (f[0]) {
                case "A" -> assertEquals(null, acknowledged.put(LeaseId.parse(f[1]), Long.parseLong(f[2])),
                        "lease id " + f[1] + " acknowledged twice (ids reused after the crash?)");
                case "r" -> releasing.add(LeaseId.parse(f[1]));
                case "R" -> released.add(LeaseId.parse(f[1]));
                default -> throw new AssertionError("unexpected child output: " + line);
            }
        }
    }
}
