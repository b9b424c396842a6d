package org.gpuagent.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FailOpenRecordTest {
    private static final Instant AT = Instant.parse("2025-06-01T12:00:00Z");

    @TempDir
    Path dir;

    private static FailOpenRecord.Entry entry(String service, String holder) {
        return new FailOpenRecord.Entry(AT, service, Optional.ofNullable(holder), "cannot reach the agent at 127.0.0.1:9849");
    }

    @Test
    void anEntryIsReadOnceAndTheRecordIsOwnerOnly() throws Exception {
        Path state = dir.resolve("state");
        assertTrue(FailOpenRecord.append(state, entry("frigate", "oci:abc")));
        assertTrue(FailOpenRecord.append(state, entry("jellyfin", null)));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(state)),
                "a state directory the client had to create is the agent's: 0700");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(FailOpenRecord.file(state))));

        FailOpenRecord.Contents c = FailOpenRecord.drain(state);
        assertEquals(List.of(entry("frigate", "oci:abc"), entry("jellyfin", null)), c.entries());
        assertEquals(Map.of(), c.dropped());
        assertTrue(FailOpenRecord.drain(state).isEmpty(), "drained: the next start reports nothing again");
        assertTrue(FailOpenRecord.drain(dir.resolve("never")).isEmpty(), "no record is an empty record");
    }

    @Test
    void aRecordWithLooseModeIsTightenedOnAppend() throws Exception {
        Files.writeString(FailOpenRecord.file(dir), "");
        Files.setPosixFilePermissions(FailOpenRecord.file(dir), PosixFilePermissions.fromString("rw-r--r--"));
        FailOpenRecord.append(dir, entry("frigate", null));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(FailOpenRecord.file(dir))));
    }

    @Test
    void aFullRecordCountsWhatItCannotHold() throws Exception {
        String longReason = "x".repeat(5000);
        int written = 0;
        int counted = 0;
        long limit = 16 * 1024;
        for (int i = 0; i < 100; i++) {
            boolean ok = FailOpenRecord.append(dir, new FailOpenRecord.Entry(AT, i % 2 == 0 ? "frigate" : "jellyfin",
                    Optional.of("oci:" + "f".repeat(64)), longReason), limit);
            if (ok) {
                written++;
            } else {
                counted++;
            }
        }
        assertTrue(Files.size(FailOpenRecord.file(dir)) <= limit, "bounded");
        assertTrue(counted > 0 && written > 0, written + " written, " + counted + " counted");
        FailOpenRecord.Contents c = FailOpenRecord.drain(dir);
        assertEquals(written, c.entries().size());
        assertEquals(counted, c.dropped().values().stream().mapToLong(Long::longValue).sum());
        assertEquals(FailOpenRecord.MAX_FIELD, c.entries().get(0).reason().length(), "fields are cut");
        assertTrue(FailOpenRecord.drain(dir).isEmpty(), "the counts are drained too");
    }

    @Test
    void tornOrForeignLinesAreCountedNotFatal() throws Exception {
        FailOpenRecord.append(dir, entry("frigate", null));
        Files.writeString(FailOpenRecord.file(dir), "{\"at\":\"yesterday\",\"service\":\"x\",\"reason\":\"r\"}\n"
                + "not json\n{\"at\":\"2025-06-01T12:00:00Z\",\"serv", java.nio.file.StandardOpenOption.APPEND);
        FailOpenRecord.Contents c = FailOpenRecord.drain(dir);
        assertEquals(1, c.entries().size());
        assertEquals(3, c.unreadableLines());
    }

    @Test
    void aSymbolicLinkAtTheRecordIsNotFollowed() throws Exception {
        Path elsewhere = dir.resolve("elsewhere");
        Files.writeString(elsewhere, "keep\n");
        Path state = dir.resolve("state");
        Files.createDirectories(state);
        Files.createSymbolicLink(FailOpenRecord.file(state), elsewhere);
        assertThrows(IOException.class, () -> FailOpenRecord.append(state, entry("frigate", null)));
        assertThrows(IOException.class, () -> FailOpenRecord.drain(state));
        assertEquals("keep\n", Files.readString(elsewhere));
    }

    /** Writers in other processes and threads of this one, all at once: every entry arrives whole. */
    @Test
    void concurrentWritersLoseNothing() throws Exception {
        int processes = 3;
        int threads = 3;
        int each = 40;
        List<Process> children = new ArrayList<>();
        for (int p = 0; p < processes; p++) {
            children.add(new ProcessBuilder(System.getProperty("java.home") + File.separator + "bin" + File.separator
                    + "java", "-cp", System.getProperty("java.class.path"), Writer.class.getName(), dir.toString(),
                    "proc" + p, Integer.toString(each)).redirectErrorStream(true).start());
        }
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> local = new ArrayList<>();
        List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
        for (int t = 0; t < threads; t++) {
            String name = "thread" + t;
            Thread th = new Thread(() -> {
                try {
                    start.await();
                    Writer.write(dir, name, each);
                } catch (Throwable e) {
                    failures.add(e);
                }
            });
            th.start();
            local.add(th);
        }
        start.countDown();
        for (Thread th : local) {
            th.join(60_000);
        }
        for (Process c : children) {
            assertTrue(c.waitFor(60, TimeUnit.SECONDS));
            assertEquals(0, c.exitValue(), new String(c.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        }
        assertEquals(List.of(), failures);
        FailOpenRecord.Contents c = FailOpenRecord.drain(dir);
        assertEquals(0, c.unreadableLines());
        assertEquals((processes + threads) * each, c.entries().size());
        for (int p = 0; p < processes; p++) {
            String holder = "proc" + p;
            assertEquals(each, c.entries().stream().filter(e -> e.holder().equals(Optional.of(holder))).count());
        }
        assertFalse(c.entries().stream().anyMatch(e -> !e.service().equals("frigate")));
    }

    /** A writer process for {@link #concurrentWritersLoseNothing}. */
    public static final class Writer {
        public static void main(String[] args) throws IOException {
            write(Path.of(args[0]), args[1], Integer.parseInt(args[2]));
        }

        static void write(Path state, String holder, int n) throws IOException {
            for (int i = 0; i < n; i++) {
                if (!FailOpenRecord.append(state, new FailOpenRecord.Entry(AT, "frigate", Optional.of(holder), "r" + i))) {
                    throw new IOException("the record filled up");
                }
            }
        }
    }
}
