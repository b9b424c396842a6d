package org.gpuagent.agent.ollama;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.OptionalLong;
import java.util.TreeMap;
import org.gpuagent.agent.logging.DaemonLog;

/**
 * {@link LearnedSizes} in one small JSON file in the state directory ({@code {"model": bytes}}),
 * rewritten whole through a temporary file and an atomic rename when a size changes, so a crash
 * leaves the old file or the new one. A file that cannot be read starts empty, with one warning:
 * the sizes are a cache of observations, and the next load teaches them again.
 */
public final class LearnedSizeFile implements LearnedSizes {
    public static final String FILE_NAME = "ollama-model-sizes.json";
    /** Entries kept at most; a homelab has tens of models, this bounds a file grown by a bug. */
    static final int MAX_ENTRIES = 4096;

    private final Path file;
    private final Map<String, Long> sizes = new TreeMap<>();

    public LearnedSizeFile(Path stateDir) {
        this.file = stateDir.resolve(FILE_NAME);
        try {
            Map<String, Object> m = JSON.std.mapFrom(Files.readString(file, StandardCharsets.UTF_8));
            m.forEach((k, v) -> {
                if (v instanceof Number n && n.longValue() > 0 && ModelName.problem(k).isEmpty()) {
                    sizes.put(k, n.longValue());
                }
            });
        } catch (NoSuchFileException e) {
            // first start: nothing learned yet
        } catch (IOException | RuntimeException e) {
            DaemonLog.warn("ignoring the learned model sizes in " + file + " (" + DaemonLog.describe(e)
                    + "); each model's size is learned again at its next load");
        }
    }

    @Override
    public synchronized OptionalLong get(String model) {
        Long b = sizes.get(model);
        return b == null ? OptionalLong.empty() : OptionalLong.of(b);
    }

    @Override
    public synchronized void remember(String model, long bytes) {
        if (bytes <= 0 || Long.valueOf(bytes).equals(sizes.get(model))
                || (!sizes.containsKey(model) && sizes.size() >= MAX_ENTRIES)) {
            return;
        }
        sizes.put(model, bytes);
        Path tmp = file.resolveSibling(FILE_NAME + ".tmp");
        try {
            Files.writeString(tmp, JSON.std.asString(sizes), StandardCharsets.UTF_8);
            try {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            DaemonLog.warn("cannot store the learned size of " + model + " in " + file + ": " + DaemonLog.describe(e));
        }
    }
}
