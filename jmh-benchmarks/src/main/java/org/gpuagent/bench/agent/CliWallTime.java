package org.gpuagent.bench.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Wall time of one admission from a fresh process: {@code gpu-agent admit} and the OCI hook at
 * prestart (a JVM start, the launcher's class-data archive once it exists) against {@code curl}
 * sending the same request (the anchor: what any client must pay for a process and a connection).
 * All are started and waited for the same way, and each lease is released through the API before
 * the next run, untimed. The first run of each is a warm-up (the first admit after a build writes
 * the archive).
 */
final class CliWallTime {
    private CliWallTime() {
    }

    static void measure(Path launcher, RunningAgent agent, int runs, StringBuilder csv)
            throws IOException, InterruptedException {
        String api = "127.0.0.1:" + agent.api().getPort();
        Path stateDir = Path.of(agent.tokenFile()).getParent();
        List<String> admit = List.of(launcher.toString(), "admit", "--service", "jellyfin", "--bytes", "1M", "--holder",
                "bench-cli", "--api", api, "--state-dir", stateDir.toString());
        // The OCI hook as Podman runs it at prestart: the container state on stdin, holder oci:<id>;
        // this JVM's pid stands in for the container's init (it must be alive).
        Path state = Files.createTempFile("bench-hook-state", ".json");
        Files.writeString(state, "{\"ociVersion\":\"1.0.2\",\"id\":\"bench-hook\",\"status\":\"created\",\"pid\":"
                + ProcessHandle.current().pid() + ",\"bundle\":\"/nonexistent\",\"annotations\":"
                + "{\"gpu-agent.service\":\"jellyfin\",\"gpu-agent.vram\":\"1MiB\"}}");
        List<String> hook = List.of(launcher.toString(), "hook", "oci", "prestart", "--api", api, "--state-dir",
                stateDir.toString());
        List<String> curl = List.of("curl", "-sf", "-o", "/dev/null", "-H", "Authorization: Bearer " + agent.token(),
                "-d", "{\"service\":\"jellyfin\",\"bytes\":\"1MiB\",\"holder\":\"bench-cli\"}", "http://" + api + "/v1/leases");
        boolean haveCurl = onPath("curl");
        try {
            for (int i = 0; i <= runs; i++) {
                time("admit", admit, null, "bench-cli", agent, i > 0, csv);
                time("hook", hook, state, "oci%3Abench-hook", agent, i > 0, csv);
                if (haveCurl) {
                    time("curl", curl, null, "bench-cli", agent, i > 0, csv);
                }
            }
        } finally {
            Files.deleteIfExists(state);
        }
    }

    /** Without curl the anchor is left out (the report then shows no ratio), not the figures. */
    private static boolean onPath(String program) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, program))) {
                return true;
            }
        }
        return false;
    }

    private static void time(String what, List<String> command, Path stdin, String holder, RunningAgent agent,
            boolean record, StringBuilder csv) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD);
        if (stdin != null) {
            pb.redirectInput(stdin.toFile());
        }
        long t0 = System.nanoTime();
        int rc = pb.start().waitFor();
        double ms = (System.nanoTime() - t0) / 1e6;
        if (rc != 0) {
            throw new IOException(what + " exited " + rc + ": " + String.join(" ", command));
        }
        try (KeepAliveClient c = new KeepAliveClient(agent.api(), agent.token())) {
            c.send("DELETE", "/v1/leases?holder=" + holder, null);
        }
        if (record) {
            csv.append(what).append(',').append(String.format(Locale.ROOT, "%.3f", ms)).append('\n');
        }
    }
}
