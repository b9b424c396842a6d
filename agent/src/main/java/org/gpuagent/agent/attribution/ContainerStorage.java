package org.gpuagent.agent.attribution;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.gpuagent.agent.logging.DaemonLog;

/**
 * The name a person gave a container, read from the container engine's own state files: never a
 * {@code podman} call (a process per lookup, seconds when Podman's lock is busy), and never on the
 * scrape path (workloads are attributed when the sampler publishes).
 *
 * <p>Podman, Buildah and CRI-O keep their containers in containers/storage, which lists every
 * container's id and names in {@code <store>/containers.json}, and the containers of a transient
 * store in {@code volatile-containers.json}; Podman creates each storage container with the
 * container's name as its first name (and again as {@code "name"} in the entry's
 * {@code metadata}). A store is the directory holding those files, e.g.
 * {@code /var/lib/containers/storage/overlay-containers} for root's Podman with the overlay
 * driver.
 *
 * <p>Contract: {@link #nameOf} answers from memory when it knows the id; for an unknown id it
 * checks whether any file changed (modification time, size, inode: a few {@code stat}s) and reads
 * them again only then. A missing file is an empty store; an unreadable or malformed one is
 * logged once and skipped. Thread-safe.
 */
public final class ContainerStorage {
    static final List<String> FILES = List.of("containers.json", "volatile-containers.json");
    /** containers.json holds a few hundred bytes per container; far beyond any homelab's. */
    static final long MAX_FILE_BYTES = 16L << 20;

    private final List<Path> files;
    private final Map<Path, Stamp> stamps = new HashMap<>();
    private final Set<Path> warned = new HashSet<>();
    private Map<String, String> byId = Map.of();

    /** Nothing resolves: for the simulator and for hosts without a container engine. */
    public static final ContainerStorage NONE = new ContainerStorage(List.of());

    public ContainerStorage(List<Path> stores) {
        List<Path> f = new ArrayList<>();
        for (Path store : stores) {
            for (String name : FILES) {
                f.add(store.resolve(name));
            }
        }
        this.files = List.copyOf(f);
    }

    /** The name of the container with the full id {@code containerId}; empty when no store lists it. */
    synchronized Optional<String> nameOf(String containerId) {
        Objects.requireNonNull(containerId, "containerId");
        String name = byId.get(containerId);
        if (name == null && !files.isEmpty() && changed()) {
            reload();
            name = byId.get(containerId);
        }
        return Optional.ofNullable(name);
    }

    private boolean changed() {
        for (Path f : files) {
            if (!Objects.equals(stamps.get(f), stamp(f))) {
                return true;
            }
        }
        return false;
    }

    private void reload() {
        Map<String, String> next = new HashMap<>();
        for (Path f : files) {
            Stamp st = stamp(f);
            stamps.put(f, st);
            if (st == null) {
                continue;
            }
            try {
                if (st.size() > MAX_FILE_BYTES) {
                    throw new IOException("larger than " + MAX_FILE_BYTES + " bytes");
                }
                read(Files.readString(f), next);
            } catch (IOException | RuntimeException e) {
                if (warned.add(f)) {
                    String hint = e instanceof AccessDeniedException
                            ? " (the agent's user cannot read it; containers show their short id)" : "";
                    DaemonLog.warn("container names: cannot read " + f + ": " + DaemonLog.describe(e) + hint);
                }
            }
        }
        byId = next;
    }

    /** Adds the id -> name pairs of one containers/storage file to {@code out}. */
    static void read(String json, Map<String, String> out) throws IOException {
        List<Object> entries = JSON.std.listFrom(json);
        if (entries == null) {
            return;
        }
        for (Object e : entries) {
            if (!(e instanceof Map<?, ?> m) || !(m.get("id") instanceof String id)) {
                continue;
            }
            nameIn(m).ifPresent(name -> out.put(id, name));
        }
    }

    private static Optional<String> nameIn(Map<?, ?> entry) throws IOException {
        if (entry.get("names") instanceof List<?> names) {
            for (Object n : names) {
                if (n instanceof String s && !s.isBlank()) {
                    return Optional.of(s);
                }
            }
        }
        if (entry.get("metadata") instanceof String metadata && metadata.startsWith("{")) {
            Map<String, Object> md = JSON.std.mapFrom(metadata);
            if (md != null && md.get("name") instanceof String s && !s.isBlank()) {
                return Optional.of(s);
            }
        }
        return Optional.empty();
    }

    /** Modification time and size, or null when the file is missing (or cannot be looked at). */
    private static Stamp stamp(Path f) {
        try {
            BasicFileAttributes a = Files.readAttributes(f, BasicFileAttributes.class);
            return new Stamp(a.lastModifiedTime(), a.size(), a.fileKey());
        } catch (IOException e) {
            return null;
        }
    }

    /** The file key (device and inode) changes when containers/storage replaces the file by a rename. */
    private record Stamp(FileTime modified, long size, Object fileKey) {
    }
}
