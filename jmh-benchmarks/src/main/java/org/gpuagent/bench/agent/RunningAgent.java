package org.gpuagent.bench.agent;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The real daemon as a child process: {@code gpu-agent run --backend sim} through the launcher
 * (so it runs with the production JVM flags), on ephemeral loopback ports, with a fresh state
 * directory that is deleted on close. Its log goes to {@code agent.log} in that directory.
 */
final class RunningAgent implements AutoCloseable {
    private final Process process;
    private final Path stateDir;
    private final InetSocketAddress api;
    private final InetSocketAddress metrics;
    private final String token;

    private RunningAgent(Process process, Path stateDir, InetSocketAddress api, InetSocketAddress metrics,
            String token) {
        this.process = process;
        this.stateDir = stateDir;
        this.api = api;
        this.metrics = metrics;
        this.token = token;
    }

    /**
     * @param launcher {@code agent/target/gpu-agent} (or the jar, run with plain {@code java -jar})
     * @throws IOException when it does not answer on /metrics within 60 s, with the log's tail
     */
    static RunningAgent start(Path launcher) throws IOException, InterruptedException {
        Path state = Files.createTempDirectory("gpu-agent-capacity-");
        InetSocketAddress metrics = new InetSocketAddress("127.0.0.1", freePort());
        InetSocketAddress api = new InetSocketAddress("127.0.0.1", freePort());
        List<String> command = launcher.toString().endsWith(".jar")
                ? List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", launcher.toString())
                : List.of(launcher.toString());
        List<String> args = new java.util.ArrayList<>(command);
        args.addAll(List.of("run", "--backend", "sim", "--state-dir", state.toString(), "--metrics-listen",
                "127.0.0.1:" + metrics.getPort(), "--api-listen", "127.0.0.1:" + api.getPort()));
        Path log = state.resolve("agent.log");
        Process p = new ProcessBuilder(args).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        Path tokenFile = state.resolve("api-token");
        while (true) {
            if (!p.isAlive()) {
                throw new IOException("the agent exited (" + p.exitValue() + "): " + tail(log));
            }
            if (Files.exists(tokenFile) && answers(metrics)) {
                break;
            }
            if (System.nanoTime() > deadline) {
                p.destroyForcibly();
                throw new IOException("the agent did not answer on " + metrics + " within 60 s: " + tail(log));
            }
            Thread.sleep(50);
        }
        String token = Files.readString(tokenFile, StandardCharsets.US_ASCII).strip();
        return new RunningAgent(p, state, api, metrics, token);
    }

    private static boolean answers(InetSocketAddress metrics) {
        try (KeepAliveClient c = new KeepAliveClient(metrics, null)) {
            return c.send("GET", "/metrics", null).status() == 200;
        } catch (IOException e) {
            return false;
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join(" | ", lines.subList(Math.max(0, lines.size() - 5), lines.size()));
        } catch (IOException e) {
            return "(no log)";
        }
    }

    InetSocketAddress api() {
        return api;
    }

    InetSocketAddress metrics() {
        return metrics;
    }

    String token() {
        return token;
    }

    String tokenFile() {
        return stateDir.resolve("api-token").toString();
    }

    /** Resident set of the agent's JVM ({@code VmRSS}), in KiB; -1 where /proc cannot tell. */
    long rssKiB() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.substring(6).replace("kB", "").strip());
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }

    @Override
    public void close() throws IOException {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        try (Stream<Path> files = Files.walk(stateDir)) {
            for (Path f : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(f);
            }
        }
    }
}
