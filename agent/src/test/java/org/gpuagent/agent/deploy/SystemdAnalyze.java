package org.gpuagent.agent.deploy;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.gpuagent.nvml.testing.Prerequisites;

/**
 * Debian's systemd-analyze, as the tests use it: {@code verify} against a root directory that
 * holds the host's system units (sysinit.target and the rest a service depends on), the units
 * under test and stand-ins for the programs they run; {@code security --offline=true} for a
 * unit file and the drop-ins beside it.
 */
final class SystemdAnalyze {
    private static final Pattern EXPOSURE = Pattern.compile("Overall exposure level for \\S+: (\\d+(?:\\.\\d+)?)");

    record Result(int exit, String output) {
    }

    private SystemdAnalyze() {
    }

    static Path tool() {
        return Prerequisites.requireTool("systemd-analyze");
    }

    /** A root for {@code verify --root}: the host's system units copied in. */
    static Path root(Path dir) throws IOException {
        Path host = Files.isDirectory(Path.of("/usr/lib/systemd/system")) ? Path.of("/usr/lib/systemd/system")
                : Path.of("/lib/systemd/system");
        Prerequisites.require(Files.isDirectory(host), "no systemd unit directory on this host");
        Path units = Files.createDirectories(dir.resolve("usr/lib/systemd/system"));
        try (Stream<Path> s = Files.list(host)) {
            for (Path p : s.toList()) {
                if (Files.isRegularFile(p)) {
                    Files.copy(p, units.resolve(p.getFileName().toString()), StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
        Files.createDirectories(dir.resolve("etc/systemd/system"));
        return dir;
    }

    /** Writes {@code text} at {@code absolute} under {@code root}. */
    static Path install(Path root, String absolute, String text) throws IOException {
        Path p = root.resolve(absolute.substring(1));
        Files.createDirectories(p.getParent());
        Files.writeString(p, text);
        return p;
    }

    /** An executable stand-in at {@code absolute} under {@code root}: verify checks that commands exist. */
    static void program(Path root, String absolute) throws IOException {
        Path p = install(root, absolute, "#!/bin/sh\nexit 0\n");
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    static Result verify(Path root, String... units) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(tool().toString(), "verify", "--man=no", "--root=" + root));
        cmd.addAll(List.of(units));
        return run(cmd);
    }

    /** The overall exposure {@code security --offline=true} gives {@code unit} (with its drop-ins beside it). */
    static double exposure(Path unit) throws Exception {
        Result r = run(List.of(tool().toString(), "security", "--offline=true", "--no-pager", unit.toString()));
        Matcher m = EXPOSURE.matcher(r.output());
        assertTrue(m.find(), "no exposure level in:\n" + r.output());
        return Double.parseDouble(m.group(1));
    }

    static Result run(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "timed out: " + cmd);
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }
}
