package org.gpuagent.agent.attribution;

import static org.gpuagent.agent.attribution.CgroupMembershipTest.ID;
import static org.gpuagent.agent.attribution.CgroupMembershipTest.ID2;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.gpuagent.agent.logging.DaemonLog;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** systemd: and oci: holders against fake cgroupfs trees (v2, v1, none). */
public class CgroupLivenessTest {
    static final Optional<Boolean> ALIVE = Optional.of(true);
    static final Optional<Boolean> GONE = Optional.of(false);
    static final Optional<Boolean> UNKNOWN = Optional.empty();

    @TempDir
    Path root;

    final List<String> delegated = new ArrayList<>();
    final HolderLiveness others = new HolderLiveness() {
        @Override
        public boolean pidAlive(long pid) {
            delegated.add("pid " + pid);
            return pid == 7;
        }

        @Override
        public Optional<Boolean> holderAlive(String holder) {
            delegated.add(holder);
            return Optional.of(holder.equals("pid:7"));
        }
    };

    @AfterEach
    void restoreLog() {
        DaemonLog.configure(System.err, Map.of());
    }

    /** A cgroup v2 directory; {@code populated} as cgroup.events says. */
    Path v2(String path, boolean populated) throws IOException {
        Files.writeString(root.resolve("cgroup.controllers"), "cpuset cpu io memory pids\n");
        Path dir = Files.createDirectories(root.resolve(path));
        Files.writeString(dir.resolve("cgroup.events"), "populated " + (populated ? 1 : 0) + "\nfrozen 0\n");
        Files.writeString(dir.resolve("cgroup.procs"), populated ? "1234\n" : "");
        return dir;
    }

    CgroupLiveness liveness() {
        return new CgroupLiveness(root, others);
    }

    @Test
    void unitsUnderCgroupV2() throws IOException {
        v2("system.slice/ollama.service", true);
        v2("system.slice/jellyfin.service", false);
        v2("system.slice/system-getty.slice/getty@tty1.service", true);
        v2("custom.slice/custom-gpu.slice/immich-machine-learning.service", true);
        v2("user.slice/user-1000.slice/user@1000.service/app.slice/llama.service", true);
        v2("user.slice/user-1000.slice/session-3.scope", true);
        v2("machine.slice", true);
        CgroupLiveness l = liveness();
        assertEquals(ALIVE, l.holderAlive("systemd:ollama.service"));
        assertEquals(ALIVE, l.holderAlive("systemd:ollama"), "as systemctl reads it");
        assertEquals(GONE, l.holderAlive("systemd:jellyfin.service"), "its cgroup is empty");
        assertEquals(GONE, l.holderAlive("systemd:frigate.service"), "no such cgroup");
        assertEquals(ALIVE, l.holderAlive("systemd:getty@tty1.service"));
        assertEquals(ALIVE, l.holderAlive("systemd:immich-machine-learning.service"), "a nested custom slice");
        assertEquals(ALIVE, l.holderAlive("systemd:llama.service"), "a user unit");
        assertEquals(ALIVE, l.holderAlive("systemd:session-3.scope"));
        // cannot be checked: treated as before (alive unless pids say otherwise)
        assertEquals(UNKNOWN, l.holderAlive("systemd:multi-user.target"), "a target has no cgroup");
        assertEquals(UNKNOWN, l.holderAlive("systemd:../../etc"), "not a unit name; never a path");
        assertEquals(UNKNOWN, l.holderAlive("systemd:"));
        assertEquals(List.of(), delegated);
        // everything else goes to the process liveness
        assertEquals(ALIVE, l.holderAlive("pid:7"));
        assertEquals(GONE, l.holderAlive("test:a"));
        assertTrue(l.pidAlive(7));
        assertEquals(List.of("pid:7", "test:a", "pid 7"), delegated);
    }

    @Test
    void aUnitThatStopsOrMovesIsFollowed() throws IOException {
        Path unit = v2("system.slice/ollama.service", true);
        CgroupLiveness l = liveness();
        assertEquals(ALIVE, l.holderAlive("systemd:ollama.service"));
        Files.writeString(unit.resolve("cgroup.events"), "populated 0\nfrozen 0\n");
        assertEquals(GONE, l.holderAlive("systemd:ollama.service"), "the cached cgroup emptied");
        deleteTree(unit);
        assertEquals(GONE, l.holderAlive("systemd:ollama.service"), "the cached cgroup is gone");
        v2("gpu.slice/ollama.service", true);
        assertEquals(ALIVE, l.holderAlive("systemd:ollama.service"), "restarted in another slice");
    }

    @Test
    void aDelegatedUnitIsAliveThroughItsSubCgroups() throws IOException {
        // Podman's split mode: the unit's processes live in supervisor/ and libpod-payload-<id>/
        Path unit = v2("system.slice/podman-frigate.service", true);
        Files.writeString(unit.resolve("cgroup.procs"), "");
        Files.writeString(Files.createDirectories(unit.resolve("supervisor")).resolve("cgroup.procs"), "99\n");
        assertEquals(ALIVE, liveness().holderAlive("systemd:podman-frigate.service"));
    }

    @Test
    void containersUnderCgroupV2() throws IOException {
        String id3 = "c".repeat(64);
        String id4 = "d".repeat(64);
        String id5 = "e".repeat(64);
        v2("machine.slice/libpod-" + ID + ".scope", true);
        v2("system.slice/podman-frigate.service/libpod-payload-" + ID2, true);
        v2("user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + id3 + ".scope", true);
        v2("system.slice/docker-" + id4 + ".scope", true);
        v2("machine.slice/libpod-" + id5 + ".scope", false);
        v2("machine.slice/libpod-conmon-" + "f".repeat(64) + ".scope", true);
        CgroupLiveness l = liveness();
        assertEquals(ALIVE, l.holderAlive("oci:" + ID));
        assertEquals(ALIVE, l.holderAlive("oci:" + ID2), "split mode, under the unit");
        assertEquals(ALIVE, l.holderAlive("oci:" + id3), "rootless");
        assertEquals(ALIVE, l.holderAlive("oci:" + id4), "docker");
        assertEquals(GONE, l.holderAlive("oci:" + id5), "stopped, cgroup not yet removed");
        assertEquals(GONE, l.holderAlive("oci:" + "f".repeat(64)), "only its monitor is left");
        assertEquals(GONE, l.holderAlive("oci:" + "0".repeat(64)));
        assertEquals(UNKNOWN, l.holderAlive("oci:abc"), "not a full id: cannot be looked up");
        deleteTree(root.resolve("machine.slice").resolve("libpod-" + ID + ".scope"));
        assertEquals(GONE, l.holderAlive("oci:" + ID), "removed after it was cached");
    }

    @Test
    void cgroupV1UsesTheSystemdHierarchyAndCgroupProcs() throws IOException {
        Path systemd = Files.createDirectories(root.resolve("systemd"));
        Files.createDirectories(root.resolve("memory"));
        Path ollama = Files.createDirectories(systemd.resolve("system.slice/ollama.service"));
        Files.writeString(ollama.resolve("cgroup.procs"), "4321\n");
        Path jellyfin = Files.createDirectories(systemd.resolve("system.slice/jellyfin.service"));
        Files.writeString(jellyfin.resolve("cgroup.procs"), "");
        Path frigate = Files.createDirectories(systemd.resolve("system.slice/podman-frigate.service"));
        Files.writeString(frigate.resolve("cgroup.procs"), "");
        Path payload = Files.createDirectories(frigate.resolve("libpod-payload-" + ID));
        Files.writeString(payload.resolve("cgroup.procs"), "77\n");
        CgroupLiveness l = liveness();
        assertEquals(ALIVE, l.holderAlive("systemd:ollama.service"));
        assertEquals(GONE, l.holderAlive("systemd:jellyfin.service"));
        assertEquals(ALIVE, l.holderAlive("systemd:podman-frigate.service"), "a process below it");
        assertEquals(ALIVE, l.holderAlive("oci:" + ID));
        Files.writeString(payload.resolve("cgroup.procs"), "");
        assertEquals(GONE, l.holderAlive("systemd:podman-frigate.service"));
        assertEquals(GONE, l.holderAlive("oci:" + ID));
    }

    @Test
    void withoutACgroupfsNothingIsJudgedAndThatIsLoggedOnce() {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        DaemonLog.configure(new PrintStream(log, true, StandardCharsets.UTF_8), Map.of());
        for (CgroupLiveness l : List.of(liveness(), new CgroupLiveness(root.resolve("absent"), others))) {
            assertEquals(UNKNOWN, l.holderAlive("systemd:ollama.service"));
            assertEquals(UNKNOWN, l.holderAlive("oci:" + ID));
            assertEquals(UNKNOWN, l.holderAlive("systemd:ollama.service"));
            assertEquals(ALIVE, l.holderAlive("pid:7"), "pids are still checked");
        }
        String text = log.toString(StandardCharsets.UTF_8);
        assertEquals(2, text.lines().count(), text);
        assertTrue(text.contains("WARN no cgroup hierarchy at " + root + ";"), text);
        assertTrue(text.contains("live as long as their pids"), text);
    }

    @Test
    void theSearchIsBounded() throws IOException {
        StringBuilder deep = new StringBuilder();
        for (int i = 0; i < CgroupLiveness.MAX_DEPTH; i++) {
            deep.append("a").append(i).append(".slice/");
        }
        v2(deep + "deep.service", true);
        v2("a0.slice/a1.slice/shallow.service", true);
        CgroupLiveness l = liveness();
        assertEquals(ALIVE, l.holderAlive("systemd:shallow.service"));
        assertEquals(GONE, l.holderAlive("systemd:deep.service"), "deeper than the search goes");
    }

    public static void deleteTree(Path p) throws IOException {
        try (var s = Files.walk(p)) {
            for (Path x : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(x);
            }
        }
    }
}
