package org.gpuagent.agent.attribution;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.gpuagent.agent.logging.DaemonLog;

/**
 * Liveness of {@code systemd:<unit>} and {@code oci:<id>} holders through cgroupfs; pids and other
 * holders are left to {@code others}.
 *
 * <ul>
 *   <li>A unit ({@code .service} or {@code .scope}) is alive while its cgroup directory exists and
 *   is populated: {@code cgroup.events} says {@code populated 1} (cgroup v2; it counts processes in
 *   sub-cgroups too, which a unit with {@code Delegate=yes}, such as Podman's split mode, keeps all
 *   its processes in), or, under cgroup v1, a {@code cgroup.procs} in it or below it is non-empty.
 *   It is searched in {@code system.slice/} first, then breadth first through {@code *.slice}
 *   directories and user managers ({@code user.slice/user-UID.slice/user@UID.service/app.slice/...}),
 *   at most {@value #MAX_DEPTH} levels deep and {@value #MAX_DIRECTORIES} directories.</li>
 *   <li>A container (full 64-hex-digit id) is alive while a {@code libpod-<id>.scope},
 *   {@code libpod-<id>}, {@code libpod-payload-<id>}, {@code docker-<id>.scope} or
 *   {@code docker/<id>} directory exists and is populated: the usual places first
 *   ({@code machine.slice/}, {@code libpod_parent/}, {@code system.slice/}, {@code docker/}), then
 *   the same bounded search, also looking inside units (split mode puts the container under the
 *   unit that runs {@code podman}).</li>
 * </ul>
 * The directory found is cached per holder (least recently used beyond {@value #CACHE_SIZE}) and
 * searched again when it disappears, so a steady check is one small read. What is not found is
 * gone. What cannot be checked counts as alive, as before: another unit type ({@code .target} has
 * no cgroup), a container id that is not a full id, no readable cgroupfs (logged once), an
 * unexpected read error (logged once).
 *
 * <p>The cgroup v2 hierarchy is {@code root}; under cgroup v1 and the hybrid layout it is
 * {@code root/systemd} (the {@code name=systemd} hierarchy, which holds every unit), else
 * {@code root/unified}. Called on the sampler's thread; synchronized all the same.
 */
public final class CgroupLiveness implements HolderLiveness {
    public static final Path DEFAULT_ROOT = Path.of("/sys/fs/cgroup");
    static final int MAX_DEPTH = 6;
    static final int MAX_DIRECTORIES = 4096;
    static final int CACHE_SIZE = 256;
    /** The v1 fallback looks this far below a unit's directory for processes. */
    private static final int V1_PROCS_DEPTH = 4;

    private final Path root;
    private final HolderLiveness others;
    private boolean detected;
    private Path hierarchy;
    private boolean warnedUnreadable;
    private final Map<String, Path> found = new LinkedHashMap<>(16, 0.75f, true) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Path> eldest) {
            return size() > CACHE_SIZE;
        }
    };

    private enum State { MISSING, EMPTY, POPULATED }

    public CgroupLiveness(Path root, HolderLiveness others) {
        this.root = root;
        this.others = others;
    }

    @Override
    public boolean pidAlive(long pid) {
        return others.pidAlive(pid);
    }

    @Override
    public synchronized Optional<Boolean> holderAlive(String holder) {
        Optional<String> unit = HolderNames.unitOf(holder);
        Optional<String> container = HolderNames.containerOf(holder);
        if (unit.isEmpty() && container.isEmpty()) {
            return holder.startsWith(HolderNames.SYSTEMD) || holder.startsWith(HolderNames.OCI) ? Optional.empty()
                    : others.holderAlive(holder);
        }
        if (unit.isPresent() && !unit.get().endsWith(".service") && !unit.get().endsWith(".scope")) {
            return Optional.empty();
        }
        Optional<Path> h = hierarchy();
        if (h.isEmpty()) {
            return Optional.empty();
        }
        String key = unit.map(u -> HolderNames.SYSTEMD + u).orElseGet(() -> HolderNames.OCI + container.get());
        try {
            Path cached = found.get(key);
            if (cached != null) {
                State s = state(cached);
                if (s != State.MISSING) {
                    return Optional.of(s == State.POPULATED);
                }
                found.remove(key);
            }
            Optional<Path> dir = unit.isPresent() ? findUnit(h.get(), unit.get()) : findContainer(h.get(),
                    container.get());
            if (dir.isEmpty()) {
                return Optional.of(false);
            }
            State s = state(dir.get());
            if (s == State.MISSING) {
                return Optional.of(false);
            }
            found.put(key, dir.get());
            return Optional.of(s == State.POPULATED);
        } catch (IOException | SecurityException e) {
            warnOnce("cannot read " + root + " (" + DaemonLog.describe(e) + ")");
            return Optional.empty();
        }
    }

    /** The hierarchy that holds the units, found once; empty when cgroupfs cannot be read. */
    private Optional<Path> hierarchy() {
        if (!detected) {
            detected = true;
            try {
                if (Files.exists(root.resolve("cgroup.controllers"))) {
                    hierarchy = root;
                } else if (Files.isDirectory(root.resolve("systemd"))) {
                    hierarchy = root.resolve("systemd");
                } else if (Files.exists(root.resolve("unified").resolve("cgroup.controllers"))) {
                    hierarchy = root.resolve("unified");
                }
                if (hierarchy != null) {
                    try (DirectoryStream<Path> probe = Files.newDirectoryStream(hierarchy)) {
                        probe.iterator().hasNext();
                    }
                } else {
                    warnOnce("no cgroup hierarchy at " + root);
                }
            } catch (IOException | SecurityException e) {
                warnOnce("cannot read " + root + " (" + DaemonLog.describe(e) + ")");
                hierarchy = null;
            }
        }
        return Optional.ofNullable(hierarchy);
    }

    private void warnOnce(String why) {
        if (!warnedUnreadable) {
            warnedUnreadable = true;
            DaemonLog.warn(why + "; leases held by a systemd unit or a container cannot be checked, so they "
                    + "live as long as their pids, or until released when they have none (logged once)");
        }
    }

    private static Optional<Path> findUnit(Path hierarchy, String unit) throws IOException {
        Path quick = hierarchy.resolve("system.slice").resolve(unit);
        if (Files.isDirectory(quick)) {
            return Optional.of(quick);
        }
        return search(hierarchy, Set.of(unit), false);
    }

    private static Optional<Path> findContainer(Path hierarchy, String id) throws IOException {
        for (Path quick : List.of(hierarchy.resolve("machine.slice").resolve("libpod-" + id + ".scope"),
                hierarchy.resolve("libpod_parent").resolve("libpod-" + id),
                hierarchy.resolve("system.slice").resolve("docker-" + id + ".scope"),
                hierarchy.resolve("docker").resolve(id))) {
            if (Files.isDirectory(quick)) {
                return Optional.of(quick);
            }
        }
        return search(hierarchy, Set.of("libpod-" + id + ".scope", "libpod-" + id, "libpod-payload-" + id,
                "docker-" + id + ".scope"), true);
    }

    /**
     * Breadth first from {@code hierarchy} for a directory named one of {@code names}, descending
     * into slices and user managers ({@code user@UID.service}) and, with {@code intoUnits}, into
     * other units too (one listing each: a container in split mode sits right below its unit).
     */
    private static Optional<Path> search(Path hierarchy, Set<String> names, boolean intoUnits) throws IOException {
        record Dir(Path path, int depth, boolean unit) {
        }
        ArrayDeque<Dir> queue = new ArrayDeque<>();
        queue.add(new Dir(hierarchy, 0, false));
        int listed = 0;
        while (!queue.isEmpty() && listed < MAX_DIRECTORIES) {
            Dir d = queue.poll();
            listed++;
            List<String> children = new ArrayList<>();
            try (DirectoryStream<Path> s = Files.newDirectoryStream(d.path())) {
                for (Path p : s) {
                    children.add(p.getFileName().toString());
                }
            } catch (NoSuchFileException | NotDirectoryException e) {
                continue; // removed while we looked
            }
            Collections.sort(children);
            for (String c : children) {
                if (names.contains(c) && Files.isDirectory(d.path().resolve(c))) {
                    return Optional.of(d.path().resolve(c));
                }
            }
            if (d.depth() + 1 >= MAX_DEPTH || d.unit()) {
                continue;
            }
            for (String c : children) {
                boolean slice = c.endsWith(".slice");
                boolean userManager = c.startsWith("user@") && c.endsWith(".service");
                boolean unit = intoUnits && !userManager && c.endsWith(".service");
                if (slice || userManager || unit) {
                    queue.add(new Dir(d.path().resolve(c), d.depth() + 1, unit));
                }
            }
        }
        return Optional.empty();
    }

    /** Whether {@code dir} still exists and holds processes (in it or below it). */
    private static State state(Path dir) throws IOException {
        try {
            String events = Files.readString(dir.resolve("cgroup.events"), StandardCharsets.US_ASCII);
            for (String line : events.split("\n")) {
                if (line.startsWith("populated ")) {
                    return line.substring("populated ".length()).strip().equals("0") ? State.EMPTY : State.POPULATED;
                }
            }
        } catch (NoSuchFileException e) {
            // cgroup v1 (no cgroup.events), or the directory is gone: told apart below
        }
        if (!Files.isDirectory(dir)) {
            return State.MISSING;
        }
        return hasProcesses(dir, 0) ? State.POPULATED : State.EMPTY;
    }

    /** cgroup v1: a non-empty {@code cgroup.procs} in {@code dir} or a few levels below. */
    private static boolean hasProcesses(Path dir, int depth) throws IOException {
        try {
            if (!Files.readString(dir.resolve("cgroup.procs"), StandardCharsets.US_ASCII).isBlank()) {
                return true;
            }
        } catch (NoSuchFileException e) {
            return false;
        }
        if (depth >= V1_PROCS_DEPTH) {
            return false;
        }
        List<Path> subdirs = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, Files::isDirectory)) {
            s.forEach(subdirs::add);
        } catch (NoSuchFileException e) {
            return false;
        }
        for (Path p : subdirs) {
            if (hasProcesses(p, depth + 1)) {
                return true;
            }
        }
        return false;
    }
}
