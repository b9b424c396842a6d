package org.gpuagent.agent;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.DateTimeException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The record of admissions that went ahead without the agent: a fail-open service whose
 * {@code admit} or OCI hook could not reach the agent starts without a lease, and nothing but
 * this record would show it later (runc shows a hook's stderr only when the hook fails). The
 * file is {@code <state-dir>/fail-open.jsonl}, one JSON object per line, mode 0600 in the
 * agent's 0700 state directory; the daemon reads and empties it at its next start and reports
 * each entry ({@link #drain}).
 *
 * <p>Contracts:
 * <ul>
 *   <li>Bounded: the file stays under {@value #MAX_BYTES} bytes and each field under
 *   {@value #MAX_FIELD} characters. When it is full, an entry is not written but counted per
 *   service in {@code fail-open.dropped}, so the count still reaches the daemon.</li>
 *   <li>Safe against concurrent writers: every append and the drain hold an exclusive lock on the
 *   record file (an {@code fcntl} lock between processes, a monitor within one), and an entry is
 *   one {@code write} of one line.</li>
 *   <li>Never follows a symbolic link at the record's path.</li>
 * </ul>
 */
public final class FailOpenRecord {
    public static final String FILE_NAME = "fail-open.jsonl";
    static final String DROPPED_FILE_NAME = "fail-open.dropped";
    static final long MAX_BYTES = 256 * 1024;
    static final int MAX_FIELD = 300;
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");
    private static final Set<PosixFilePermission> OWNER_ONLY_DIR = PosixFilePermissions.fromString("rwx------");
    /** FileChannel locks are per process: threads of one JVM take turns on this first. */
    private static final Object IN_PROCESS = new Object();

    private FailOpenRecord() {
    }

    /**
     * One admission that went ahead without the agent.
     *
     * @param holder the lease holder it would have had ({@code oci:<id>}, {@code systemd:<unit>})
     * @param reason why the agent could not be asked
     */
    public record Entry(Instant at, String service, Optional<String> holder, String reason) {
    }

    /**
     * What a drain found.
     *
     * @param dropped         entries not written because the record was full, per service
     * @param unreadableLines lines that were no entry (a torn write, a hand edit)
     */
    public record Contents(List<Entry> entries, Map<String, Long> dropped, int unreadableLines) {
        public Contents {
            entries = List.copyOf(entries);
            dropped = Map.copyOf(dropped);
        }

        public boolean isEmpty() {
            return entries.isEmpty() && dropped.isEmpty() && unreadableLines == 0;
        }
    }

    public static Path file(Path stateDir) {
        return stateDir.resolve(FILE_NAME);
    }

    /**
     * Appends {@code e}, creating the state directory (0700) and the record (0600) when missing.
     *
     * @return true when written, false when the record was full and the entry was only counted
     * @throws IOException when the record cannot be written at all (the caller says so on stderr)
     */
    public static boolean append(Path stateDir, Entry e) throws IOException {
        return append(stateDir, e, MAX_BYTES);
    }

    @SuppressWarnings("try") // the file lock is held for the block, which never names it
    static boolean append(Path stateDir, Entry e, long maxBytes) throws IOException {
        byte[] line = (JSON.std.asString(toMap(e)) + "\n").getBytes(StandardCharsets.UTF_8);
        if (!Files.isDirectory(stateDir)) {
            Files.createDirectories(stateDir, PosixFilePermissions.asFileAttribute(OWNER_ONLY_DIR));
        }
        synchronized (IN_PROCESS) {
            try (FileChannel ch = open(file(stateDir), StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
                 FileLock lock = ch.lock()) {
                ownerOnly(file(stateDir));
                if (ch.size() + line.length > maxBytes) {
                    countDropped(stateDir, e.service());
                    return false;
                }
                ByteBuffer b = ByteBuffer.wrap(line);
                long at = ch.size();
                while (b.hasRemaining()) {
                    at += ch.write(b, at);
                }
                ch.force(false);
                return true;
            }
        }
    }

    /**
     * Reads every entry and empties the record, under the writers' lock: an entry appended while
     * the daemon starts is either read now or stays for the next start, never lost or read twice.
     * A missing record is an empty one.
     */
    @SuppressWarnings("try") // the file lock is held for the block, which never names it
    public static Contents drain(Path stateDir) throws IOException {
        Path f = file(stateDir);
        if (!Files.exists(f, LinkOption.NOFOLLOW_LINKS)) {
            return new Contents(List.of(), Map.of(), 0);
        }
        synchronized (IN_PROCESS) {
            try (FileChannel ch = open(f, StandardOpenOption.READ, StandardOpenOption.WRITE);
                 FileLock lock = ch.lock()) {
                int size = (int) Math.min(ch.size(), 2 * MAX_BYTES);
                ByteBuffer b = ByteBuffer.allocate(size);
                while (b.hasRemaining() && ch.read(b, b.position()) > 0) {
                    // read until full or end of file
                }
                List<Entry> entries = new ArrayList<>();
                int unreadable = 0;
                String text = new String(b.array(), 0, b.position(), StandardCharsets.UTF_8);
                for (String l : text.split("\n")) {
                    if (l.isBlank()) {
                        continue;
                    }
                    Optional<Entry> e = parse(l);
                    if (e.isPresent()) {
                        entries.add(e.get());
                    } else {
                        unreadable++;
                    }
                }
                Map<String, Long> dropped = readDropped(stateDir);
                ch.truncate(0);
                ch.force(true);
                Files.deleteIfExists(stateDir.resolve(DROPPED_FILE_NAME));
                return new Contents(entries, dropped, unreadable);
            }
        }
    }

    private static FileChannel open(Path f, OpenOption... options) throws IOException {
        List<OpenOption> all = new ArrayList<>(List.of(options));
        all.add(LinkOption.NOFOLLOW_LINKS);
        return FileChannel.open(f, Set.copyOf(all), PosixFilePermissions.asFileAttribute(OWNER_ONLY));
    }

    private static void ownerOnly(Path f) throws IOException {
        if (!Files.getPosixFilePermissions(f, LinkOption.NOFOLLOW_LINKS).equals(OWNER_ONLY)) {
            Files.setPosixFilePermissions(f, OWNER_ONLY);
        }
    }

    private static Map<String, Object> toMap(Entry e) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("at", e.at().toString());
        m.put("service", cut(e.service()));
        e.holder().ifPresent(h -> m.put("holder", cut(h)));
        m.put("reason", cut(e.reason()));
        return m;
    }

    private static String cut(String s) {
        return s.length() <= MAX_FIELD ? s : s.substring(0, MAX_FIELD - 1) + "…";
    }

    static Optional<Entry> parse(String line) {
        try {
            Map<String, Object> m = JSON.std.mapFrom(line);
            if (m != null && m.get("at") instanceof String at && m.get("service") instanceof String service
                    && !service.isBlank() && m.get("reason") instanceof String reason) {
                Optional<String> holder = m.get("holder") instanceof String h ? Optional.of(cut(h)) : Optional.empty();
                return Optional.of(new Entry(Instant.parse(at), cut(service), holder, cut(reason)));
            }
        } catch (IOException | DateTimeException e) {
            // counted as unreadable
        }
        return Optional.empty();
    }

    /** Called with the record's lock held. */
    private static void countDropped(Path stateDir, String service) throws IOException {
        Map<String, Long> counts = new LinkedHashMap<>(readDropped(stateDir));
        String key = cut(service);
        // The services that can be fail-open are the configured ones: the map stays small, but
        // a hand-made record must not grow it either.
        if (counts.containsKey(key) || counts.size() < 64) {
            counts.merge(key, 1L, Long::sum);
        }
        Path f = stateDir.resolve(DROPPED_FILE_NAME);
        try (FileChannel ch = open(f, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ch.write(ByteBuffer.wrap(JSON.std.asString(counts).getBytes(StandardCharsets.UTF_8)));
            ch.force(false);
        }
    }

    private static Map<String, Long> readDropped(Path stateDir) throws IOException {
        Path f = stateDir.resolve(DROPPED_FILE_NAME);
        byte[] b;
        try (FileChannel ch = open(f, StandardOpenOption.READ)) {
            ByteBuffer buf = ByteBuffer.allocate((int) Math.min(ch.size(), 64 * 1024));
            while (buf.hasRemaining() && ch.read(buf) > 0) {
                // read it all (bounded)
            }
            b = java.util.Arrays.copyOf(buf.array(), buf.position());
        } catch (NoSuchFileException e) {
            return Map.of();
        }
        Map<String, Long> out = new LinkedHashMap<>();
        try {
            Map<String, Object> m = JSON.std.mapFrom(new String(b, StandardCharsets.UTF_8));
            if (m != null) {
                m.forEach((k, v) -> {
                    if (v instanceof Number n && n.longValue() > 0) {
                        out.put(cut(k), n.longValue());
                    }
                });
            }
        } catch (IOException e) {
            out.put("unknown", 1L);
        }
        return out;
    }
}
