package org.gpuagent.bench.agent;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Wall time of one admission from a fresh process: {@code gpu-agent admit} (a JVM start, the
 * launcher's class-data archive once it exists) against {@code curl} sending the same request
 * (the anchor: what any client must pay for a process and a connection). Both are started and
 * waited for the same way, and each lease is released through the API before the next run,
 * untimed. The first run of each is a warm-up (the first admit after a build writes the archive).
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
        List<String> curl = List.of("curl", "-sf", "-o", "/dev/null", "-H", "Authorization: Bearer " + agent.token(),
                "-d", "{\"service\":\"jellyfin\",\"bytes\":\"1MiB\",\"holder\":\"bench-cli\"}", "http://" + api + "/v1/leases");
        for (int i = 0; i <= runs; i++) {
            for (String what : List.of("admit", "curl")) {
                long t0 = System.nanoTime();
                Process p = new ProcessBuilder(what.equals("admit") ? admit : curl)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD)
                        .start();
                int rc = p.waitFor();
                double ms = (System.nanoTime() - t0) / 1e6;
                if (rc != 0) {
                    throw new IOException(what + " exited " + rc);
                }
                try (KeepAliveClient c = new KeepAliveClient(agent.api(), agent.token())) {
                    c.send("DELETE", "/v1/leases?holder=bench-cli", null);
                }
                if (i > 0) {
                    csv.append(what).append(',').append(String.format(Locale.ROOT, "%.3f", ms)).append('\n');
                }
            }
        }
    }
}
