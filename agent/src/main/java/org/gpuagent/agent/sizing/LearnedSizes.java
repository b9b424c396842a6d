package org.gpuagent.agent.sizing;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.DateTimeException;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Set;

/**
 * What the card showed each lease take at its peak, kept per service and <em>signature</em> (what
 * kind of work the lease was for: {@code ffmpeg:...} for an {@code exec}'d transcode,
 * {@code model:<name>} for an Ollama model, empty for "the service as a whole"), so that a later
 * request for the same kind of work can ask for what it really takes, and {@code gpu-agent
 * recommend} can say what each service's {@code request} should be.
 *
 * <p>Contracts:
 * <ul>
 *   <li><b>Durable.</b> {@link #record} returns after the history is on disk:
 *   {@code <state-dir>/}{@value #FILE_NAME}, replaced whole (written to a temporary file, forced,
 *   renamed over the old one), so a crash leaves the old or the new history, never a torn one.
 *   It survives restarts: {@link #open} reads it back.</li>
 *   <li><b>Bounded.</b> At most {@value #HISTORY_PER_KEY} peaks per key (the oldest go first)
 *   and {@value #MAX_KEYS} keys (the key recorded longest ago goes first); a service or
 *   signature longer than {@value #MAX_NAME} characters is refused.</li>
 *   <li><b>Private.</b> The file is mode 0600 whatever the umask, in the agent's 0700 state
 *   directory; a symbolic link at its path is not followed.</li>
 *   <li><b>Damage is an error, said once.</b> A file that is not a history this class wrote
 *   makes {@link #open} throw {@link DamagedException} naming the file and what is wrong;
 *   {@link #openSettingAside} moves such a file to {@code learned-sizes.json.damaged} and starts
 *   empty, for a daemon that must start anyway.</li>
 *   <li><b>Thread-safe</b> within one process; one process (the daemon) writes the file.</li>
 * </ul>
 */
public final class LearnedSizes {
    public static final String FILE_NAME = "learned-sizes.json";
    public static final String DAMAGED_SUFFIX = ".damaged";
    public static final int HISTORY_PER_KEY = 500;
    public static final int MAX_KEYS = 512;
    public static final int MAX_NAME = 200;
    static final int FORMAT_VERSION = 1;
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

    /** One kind of work: a service and a signature ({@code ""} for none). */
    public record Key(String service, String signature) {
        public Key {
            Objects.requireNonNull(service, "service");
            Objects.requireNonNull(signature, "signature");
            if (service.isBlank() || service.length() > MAX_NAME || signature.length() > MAX_NAME) {
                throw new IllegalArgumentException("a learned size needs a service name and a signature of at most "
                        + MAX_NAME + " characters");
            }
        }
    }

    /** The peak one lease reached, and when it ended. */
    public record Peak(Instant at, long bytes) {
        public Peak {
            Objects.requireNonNull(at, "at");
            if (bytes < 0) {
                throw new IllegalArgumentException("a peak cannot be negative: " + bytes);
            }
        }
    }

    /** The file is not a history this class wrote; the message names the file and the fault. */
    public static final class DamagedException extends IOException {
        private static final long serialVersionUID = 1L;

        DamagedException(String message) {
            super(message);
        }
    }

    private final Path file;
    /** Oldest first; insertion order is "recorded longest ago first" (a record moves its key last). */
    private final LinkedHashMap<Key, Deque<Peak>> history;

    private LearnedSizes(Path file, LinkedHashMap<Key, Deque<Peak>> history) {
        this.file = file;
        this.history = history;
    }

    public static Path file(Path stateDir) {
        return stateDir.resolve(FILE_NAME);
    }

    /**
     * Reads the history in {@code stateDir} (none yet is an empty one).
     *
     * @throws DamagedException when the file is not a history this class wrote
     * @throws IOException      when it cannot be read
     */
    public static LearnedSizes open(Path stateDir) throws IOException {
        Path f = file(stateDir);
        byte[] bytes;
        try (FileChannel ch = FileChannel.open(f, Set.of(StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS))) {
            if (ch.size() > 64L << 20) {
                throw new DamagedException(f + " is " + ch.size() + " bytes, far more than a history of "
                        + MAX_KEYS + " keys can be; it is not one this agent wrote");
            }
            ByteBuffer b = ByteBuffer.allocate((int) ch.size());
            while (b.hasRemaining() && ch.read(b) > 0) {
                // read it all
            }
            bytes = b.array();
        } catch (NoSuchFileException e) {
            return new LearnedSizes(f, new LinkedHashMap<>());
        }
        return new LearnedSizes(f, parse(f, new String(bytes, StandardCharsets.UTF_8)));
    }

    /**
     * As {@link #open}, but a damaged file is moved aside to {@code learned-sizes.json.damaged}
     * (replacing an older one) and the history starts empty; {@code warn} gets one sentence.
     *
     * @throws IOException when the file cannot be read or moved aside
     */
    public static LearnedSizes openSettingAside(Path stateDir, java.util.function.Consumer<String> warn)
            throws IOException {
        try {
            return open(stateDir);
        } catch (DamagedException e) {
            Path aside = stateDir.resolve(FILE_NAME + DAMAGED_SUFFIX);
            Files.move(file(stateDir), aside, StandardCopyOption.REPLACE_EXISTING);
            warn.accept(e.getMessage() + "; moved to " + aside + ", learned sizes start empty");
            return new LearnedSizes(file(stateDir), new LinkedHashMap<>());
        }
    }

    /**
     * Adds the peak one lease of {@code service} reached, for work of {@code signature}, and
     * returns once it is on disk. A failed write leaves the history in memory unchanged.
     *
     * @throws IllegalArgumentException for a blank service, an over-long name or a negative peak
     * @throws IOException              when the history cannot be written
     */
    public synchronized void record(String service, String signature, long peakBytes, Instant at) throws IOException {
        Key k = new Key(service, signature);
        Peak p = new Peak(at, peakBytes);
        LinkedHashMap<Key, Deque<Peak>> next = copy(history);
        Deque<Peak> d = next.remove(k);
        if (d == null) {
            d = new ArrayDeque<>();
        }
        d.addLast(p);
        while (d.size() > HISTORY_PER_KEY) {
            d.removeFirst();
        }
        next.put(k, d);
        while (next.size() > MAX_KEYS) {
            next.remove(next.keySet().iterator().next());
        }
        write(next);
        history.clear();
        history.putAll(next);
    }

    /** The largest kept peak for this kind of work, if any lease of it was seen. */
    public synchronized OptionalLong learnedPeak(String service, String signature) {
        Deque<Peak> d = history.get(new Key(service, signature));
        return d == null || d.isEmpty() ? OptionalLong.empty()
                : OptionalLong.of(d.stream().mapToLong(Peak::bytes).max().getAsLong());
    }

    /** The kept peaks for this kind of work, oldest first. */
    public synchronized List<Peak> history(String service, String signature) {
        Deque<Peak> d = history.get(new Key(service, signature));
        return d == null ? List.of() : List.copyOf(d);
    }

    /** Every kept history, by key, sorted by service then signature. */
    public synchronized Map<Key, List<Peak>> all() {
        Map<Key, List<Peak>> out = new LinkedHashMap<>();
        history.keySet().stream()
                .sorted(Comparator.comparing(Key::service).thenComparing(Key::signature))
                .forEach(k -> out.put(k, List.copyOf(history.get(k))));
        return out;
    }

    private static LinkedHashMap<Key, Deque<Peak>> copy(LinkedHashMap<Key, Deque<Peak>> m) {
        LinkedHashMap<Key, Deque<Peak>> out = new LinkedHashMap<>();
        m.forEach((k, v) -> out.put(k, new ArrayDeque<>(v)));
        return out;
    }

    private void write(LinkedHashMap<Key, Deque<Peak>> h) throws IOException {
        List<Object> keys = new ArrayList<>();
        h.forEach((k, peaks) -> {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("service", k.service());
            e.put("signature", k.signature());
            List<Object> ps = new ArrayList<>();
            for (Peak p : peaks) {
                ps.add(List.of(p.at().toString(), p.bytes()));
            }
            e.put("peaks", ps);
            keys.add(e);
        });
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("version", FORMAT_VERSION);
        root.put("keys", keys);
        byte[] text = JSON.std.asBytes(root);
        Path dir = file.toAbsolutePath().getParent();
        Path tmp = dir.resolve(FILE_NAME + ".tmp");
        Files.deleteIfExists(tmp);
        try (FileChannel ch = FileChannel.open(tmp, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                LinkOption.NOFOLLOW_LINKS), PosixFilePermissions.asFileAttribute(OWNER_ONLY))) {
            Files.setPosixFilePermissions(tmp, OWNER_ONLY);
            ByteBuffer b = ByteBuffer.wrap(text);
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.force(true);
        }
        try {
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        }
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException e) {
            // some file systems cannot sync a directory; the rename is still atomic
        }
    }

    private static LinkedHashMap<Key, Deque<Peak>> parse(Path f, String text) throws DamagedException {
        Map<String, Object> root;
        try {
            root = JSON.std.mapFrom(text);
        } catch (IOException | RuntimeException e) {
            throw new DamagedException(f + " is not JSON: " + firstLine(e.getMessage()));
        }
        if (root == null || !(root.get("version") instanceof Number v) || v.intValue() != FORMAT_VERSION
                || !(root.get("keys") instanceof List<?> keys)) {
            throw new DamagedException(f + " is not a learned-size history of version " + FORMAT_VERSION
                    + " (it needs \"version\": " + FORMAT_VERSION + " and a \"keys\" list)");
        }
        LinkedHashMap<Key, Deque<Peak>> out = new LinkedHashMap<>();
        int i = 0;
        for (Object o : keys) {
            String where = f + ": keys[" + i++ + "]";
            if (!(o instanceof Map<?, ?> m) || !(m.get("service") instanceof String service)
                    || !(m.get("signature") instanceof String signature) || !(m.get("peaks") instanceof List<?> ps)) {
                throw new DamagedException(where + " needs \"service\", \"signature\" and \"peaks\"");
            }
            Key k;
            try {
                k = new Key(service, signature);
            } catch (IllegalArgumentException e) {
                throw new DamagedException(where + ": " + e.getMessage());
            }
            Deque<Peak> d = new ArrayDeque<>();
            for (Object p : ps) {
                if (!(p instanceof List<?> pair) || pair.size() != 2 || !(pair.get(0) instanceof String at)
                        || !(pair.get(1) instanceof Number n) || n.longValue() < 0) {
                    throw new DamagedException(where + " has a peak that is not [time, bytes]: " + p);
                }
                try {
                    d.addLast(new Peak(Instant.parse(at), n.longValue()));
                } catch (DateTimeException e) {
                    throw new DamagedException(where + " has a peak with a bad time: " + at);
                }
                if (d.size() > HISTORY_PER_KEY) {
                    d.removeFirst();
                }
            }
            out.remove(k);
            out.put(k, d);
            if (out.size() > MAX_KEYS) {
                out.remove(out.keySet().iterator().next());
            }
        }
        return out;
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "unreadable";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
