package org.gpuagent.agent.e2e;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The real daemon in a child JVM ({@code org.gpuagent.agent.Main run}) on the test classpath,
 * with a temporary state directory and ports chosen by the kernel (read back from its
 * "listening" log line). Its stderr is collected line by line.
 */
final class DaemonProcess implements AutoCloseable {
    static final Duration START_TIMEOUT = Duration.ofSeconds(90);
    private static final Pattern LISTENING = Pattern.compile(
            "listening: metrics http://([^ ]+):(\\d+)/metrics, API http://([^ ]+):(\\d+)/v1");
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private final Process process;
    private final List<String> log = new CopyOnWriteArrayList<>();
    private final Thread reader;
    final Path stateDir;
    int apiPort;
    int metricsPort;

    private DaemonProcess(Process process, Path stateDir) {
        this.process = process;
        this.stateDir = stateDir;
        this.reader = new Thread(this::readLog, "daemon-log");
        reader.setDaemon(true);
        reader.start();
    }

    /** The command line to run {@code gpu-agent ARGS} in a child JVM on this test classpath. */
    static List<String> javaCommand(List<String> args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-XX:+UseSerialGC");
        cmd.add("-XX:TieredStopAtLevel=1");
        cmd.add("-Xshare:auto");
        cmd.add("-Xmx96m");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add("org.gpuagent.agent.Main");
        cmd.addAll(args);
        return cmd;
    }

    /** Starts {@code run --backend sim} plus {@code extra}; waits until it listens or exits. */
    static DaemonProcess start(Path stateDir, List<String> extra) throws IOException, InterruptedException {
        return start(stateDir, extra, Map.of(), true);
    }

    /**
     * @param awaitReady when false, returns at once (for runs expected to fail: see {@link #awaitExit})
     */
    static DaemonProcess start(Path stateDir, List<String> extra, Map<String, String> env, boolean awaitReady)
            throws IOException, InterruptedException {
        return start(stateDir, extra, env, awaitReady, null);
    }

    /** As {@link #start(Path, List)}, the JVM started by a shell under {@code umask} (e.g. "000"). */
    static DaemonProcess startUnderUmask(String umask, Path stateDir, List<String> extra)
            throws IOException, InterruptedException {
        return start(stateDir, extra, Map.of(), true, umask);
    }

    private static DaemonProcess start(Path stateDir, List<String> extra, Map<String, String> env, boolean awaitReady,
            String umask) throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(List.of("run", "--state-dir", stateDir.toString()));
        for (String listener : List.of("--metrics-listen", "--api-listen")) {
            if (!extra.contains(listener)) {
                args.add(listener);
                args.add("127.0.0.1:0");
            }
        }
        if (!extra.contains("--backend")) {
            args.add("--backend");
            args.add("sim");
        }
        args.addAll(extra);
        List<String> cmd = javaCommand(args);
        if (umask != null) {
            List<String> shell = new ArrayList<>(List.of("sh", "-c", "umask " + umask + " && exec \"$0\" \"$@\""));
            shell.addAll(cmd);
            cmd = shell;
        }
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().remove("JOURNAL_STREAM");
        pb.environment().putAll(env);
        DaemonProcess d = new DaemonProcess(pb.start(), stateDir);
        if (awaitReady) {
            d.awaitReady();
        }
        return d;
    }

    private void readLog() {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                log.add(line);
                synchronized (log) {
                    log.notifyAll();
                }
            }
        } catch (IOException e) {
            // the process ended
        }
    }

    void awaitReady() throws InterruptedException {
        awaitLine(l -> l.contains(" ready: "), START_TIMEOUT);
        for (String l : log) {
            Matcher m = LISTENING.matcher(l);
            if (m.find()) {
                metricsPort = Integer.parseInt(m.group(2));
                apiPort = Integer.parseInt(m.group(4));
            }
        }
        if (apiPort == 0) {
            throw new AssertionError("no listening line in the daemon's log:\n" + logText());
        }
    }

    /** Waits for a log line matching {@code p}; fails with the log if the process exits first. */
    String awaitLine(java.util.function.Predicate<String> p, Duration timeout) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        int seen = 0;
        while (true) {
            List<String> now = List.copyOf(log);
            for (int i = seen; i < now.size(); i++) {
                if (p.test(now.get(i))) {
                    return now.get(i);
                }
            }
            seen = now.size();
            if (!process.isAlive() && !reader.isAlive()) {
                throw new AssertionError("the daemon exited (" + process.exitValue() + ") before the expected line:\n"
                        + logText());
            }
            if (System.nanoTime() > end) {
                throw new AssertionError("no expected line within " + timeout + ":\n" + logText());
            }
            synchronized (log) {
                log.wait(100);
            }
        }
    }

    /** Waits for the process to end and its output to be read; returns the exit status. */
    int awaitExit(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("the daemon did not exit within " + timeout + ":\n" + logText());
        }
        reader.join(10_000);
        return process.exitValue();
    }

    /**
     * SIGTERM, then the exit status. Through the process handle: {@link Process#destroy()} also
     * closes our end of its output pipe at once, and the daemon's last lines would be lost.
     */
    int stop() throws InterruptedException {
        process.toHandle().destroy();
        return awaitExit(Duration.ofSeconds(30));
    }

    /** SIGKILL, as a crash or the OOM killer would; then the exit status (137). */
    int kill() throws InterruptedException {
        process.toHandle().destroyForcibly();
        return awaitExit(Duration.ofSeconds(30));
    }

    long pid() {
        return process.pid();
    }

    boolean alive() {
        return process.isAlive();
    }

    List<String> log() {
        return List.copyOf(log);
    }

    String logText() {
        return String.join("\n", log);
    }

    String token() throws IOException {
        return Files.readString(stateDir.resolve("api-token")).strip();
    }

    HttpResponse<String> api(String method, String path, String body) throws IOException, InterruptedException {
        return api(method, path, body, token());
    }

    HttpResponse<String> api(String method, String path, String body, String token)
            throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + apiPort + path))
                .timeout(Duration.ofSeconds(120))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> metrics(String path) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort + path))
                .timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    /** SIGTERM, then SIGKILL after 30 s or when interrupted (the interrupt stays set). */
    @Override
    public void close() {
        if (process.isAlive()) {
            process.toHandle().destroy();
            try {
                if (!process.waitFor(30, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }
}
