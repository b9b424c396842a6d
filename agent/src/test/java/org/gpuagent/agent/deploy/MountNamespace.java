package org.gpuagent.agent.deploy;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A command in a private mount namespace (util-linux unshare, as root), so that a test can put
 * files where the deploy files expect them (/etc/gpu-agent/config.yaml, /usr/local/bin/gpu-agent,
 * a hooks.d directory) without touching the host, and can confine a command as a systemd unit
 * would: every mount read-only except /dev, /proc, /sys (but /sys/fs/cgroup) and /tmp, then the
 * writable paths bound back read-write ({@code ProtectSystem=strict}, {@code ReadWritePaths=},
 * {@code ProtectControlGroups=yes}); and a capability bounding set applied with setpriv
 * ({@code CapabilityBoundingSet=}). Each call mounts afresh; the namespace ends with the command
 * (or lives on in processes it leaves behind, such as Podman's conmon).
 */
final class MountNamespace {
    private final Path scratch;
    /** target directory → files to lay over it (relative path → content). */
    private final Map<String, Map<String, String>> overlays = new LinkedHashMap<>();
    private final Map<String, Path> binds = new LinkedHashMap<>();
    private List<String> writable;
    private List<String> capabilities;

    record Run(int exit, String out) {
    }

    MountNamespace(Path scratch) {
        this.scratch = scratch;
    }

    /** {@code file} (relative to {@code target}) appears with {@code content} over the host's {@code target}. */
    MountNamespace file(String target, String file, String content) {
        overlays.computeIfAbsent(target, k -> new LinkedHashMap<>()).put(file, content);
        return this;
    }

    /** {@code target} is {@code source}. */
    MountNamespace bind(String target, Path source) {
        binds.put(target, source);
        return this;
    }

    /** As a unit with ProtectSystem=strict, ProtectControlGroups=yes and these ReadWritePaths (a leading '-': optional). */
    MountNamespace strict(List<String> readWritePaths) {
        this.writable = List.copyOf(readWritePaths);
        return this;
    }

    /** As a unit with this CapabilityBoundingSet (CAP_ names; empty: none), through setpriv. */
    MountNamespace capabilities(List<String> caps) {
        this.capabilities = List.copyOf(caps);
        return this;
    }

    Run run(List<String> cmd, String stdin, Path cwd) throws Exception {
        Path ns = Files.createTempDirectory(scratch, "ns");
        StringBuilder script = new StringBuilder("set -e\n");
        List<String> args = new ArrayList<>();
        int n = 0;
        for (Map.Entry<String, Map<String, String>> o : overlays.entrySet()) {
            Path up = Files.createDirectories(ns.resolve("up" + n));
            Path work = Files.createDirectories(ns.resolve("work" + n));
            n++;
            for (Map.Entry<String, String> f : o.getValue().entrySet()) {
                Path p = up.resolve(f.getKey());
                Files.createDirectories(p.getParent());
                Files.writeString(p, f.getValue());
            }
            script.append("mount -t overlay overlay -o lowerdir=").append(q(o.getKey())).append(",upperdir=")
                    .append(q(up.toString())).append(",workdir=").append(q(work.toString())).append(' ')
                    .append(q(o.getKey())).append('\n');
        }
        for (Map.Entry<String, Path> b : binds.entrySet()) {
            script.append("mount --bind ").append(q(b.getValue().toString())).append(' ').append(q(b.getKey())).append('\n');
        }
        if (writable != null) {
            script.append("for mp in $(awk '{print $5}' /proc/self/mountinfo | sort -u); do\n")
                    .append("  case $mp in /proc|/proc/*|/sys|/dev|/dev/*|/tmp|/tmp/*) continue;; /sys/fs/cgroup*) ;; /sys/*) continue;; esac\n")
                    .append("  mount -o remount,bind,ro \"$mp\" 2>/dev/null || true\n")
                    .append("done\n");
            for (String w : writable) {
                String path = w.startsWith("-") ? w.substring(1) : w;
                script.append("if [ -e ").append(q(path)).append(" ]; then mount --rbind ").append(q(path)).append(' ')
                        .append(q(path)).append(" && mount -o remount,bind,rw ").append(q(path)).append("; fi\n");
            }
        }
        script.append("cd ").append(q(cwd.toString())).append('\n');
        if (capabilities != null) {
            StringBuilder set = new StringBuilder("-all");
            for (String c : capabilities) {
                set.append(",+").append(c.toLowerCase(java.util.Locale.ROOT).replace("cap_", ""));
            }
            script.append("exec setpriv --bounding-set=").append(set).append(" --inh-caps=-all \"$@\"\n");
        } else {
            script.append("exec \"$@\"\n");
        }
        List<String> full = new ArrayList<>(List.of("unshare", "--mount", "--propagation", "private", "/bin/sh", "-c",
                script.toString(), "sh"));
        full.addAll(cmd);
        full.addAll(args);
        return exec(full, stdin, cwd);
    }

    static Run exec(List<String> cmd, String stdin, Path cwd) throws Exception {
        Process p = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectErrorStream(true).start();
        try (var in = p.getOutputStream()) {
            in.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(240, TimeUnit.SECONDS), "timed out: " + cmd);
        return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    private static String q(String s) {
        if (s.contains("'")) {
            throw new IllegalArgumentException("a quote in " + s);
        }
        return "'" + s + "'";
    }

    static String uid() {
        try {
            return Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("Uid:"))
                    .map(l -> l.split("\\s+")[1]).findFirst().orElse("");
        } catch (IOException e) {
            return "";
        }
    }
}
