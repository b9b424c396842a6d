package org.gpuagent.agent.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.gpuagent.nvml.testing.Prerequisites;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code gpu-agent exec} against the real daemon on the simulator: each wrapper is its own JVM
 * (it installs signal handlers and copies its stdin, which must not happen to the test's JVM),
 * each wrapped program a real shell whose pid the simulator makes allocate the lease's bytes.
 *
 * <p>The programs write their pid to a file and then wait for a line on stdin (which the wrapper
 * passes on), so the test decides when each ends.
 */
class ExecEndToEndTest extends SimulatedDaemonTest {
    private static final long MIB = 1L << 20;

    /** One wrapper JVM and the files its program writes. */
    private final class Wrapper implements AutoCloseable {
        final Process process;
        final Path pidFile;
        final Path ranFile;
        final StringBuilder stderr = new StringBuilder();
        private final Thread errReader;

        Wrapper(String name, List<String> options, String script) throws IOException {
            this(name, options, "/bin/sh", script, List.of());
        }

        Wrapper(String name, List<String> options, String program, String script, List<String> extra)
                throws IOException {
            this(name, "jellyfin", "127.0.0.1:" + daemon.apiPort, options, program, script, extra);
        }

        /** {@code program -c SCRIPT ARGS...}: program is /bin/sh or a link to it (an "ffmpeg"). */
        Wrapper(String name, String service, String api, List<String> options, String program, String script,
                List<String> extra) throws IOException {
            pidFile = dir.resolve(name + ".pid");
            ranFile = dir.resolve(name + ".ran");
            Files.deleteIfExists(pidFile);
            Files.deleteIfExists(ranFile);
            List<String> args = new ArrayList<>(List.of("exec", "--service", service, "--api", api, "--state-dir",
                    daemon.stateDir.toString()));
            args.addAll(options);
            args.addAll(List.of("--", program, "-c", "touch '" + ranFile + "'; echo $$ > '" + pidFile + "'.tmp; mv '"
                    + pidFile + "'.tmp '" + pidFile + "'; " + script));
            args.addAll(extra);
            process = new ProcessBuilder(DaemonProcess.javaCommand(args)).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start();
            errReader = new Thread(() -> {
                try {
                    String s = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
                    synchronized (stderr) {
                        stderr.append(s);
                    }
                } catch (IOException e) {
                    // the wrapper is gone
                }
            });
            errReader.start();
        }

        long awaitPid() throws Exception {
            long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (!Files.exists(pidFile)) {
                if (System.nanoTime() > end || !process.isAlive() && !Files.exists(pidFile)) {
                    throw new AssertionError("the program never started; wrapper " + (process.isAlive() ? "running"
                            : "exited " + process.exitValue()) + ", stderr: " + stderr() + "\n" + daemon.logText());
                }
                Thread.sleep(20);
            }
            return Long.parseLong(Files.readString(pidFile).strip());
        }

        void line() throws IOException {
            OutputStream in = process.getOutputStream();
            in.write("\n".getBytes(StandardCharsets.US_ASCII));
            in.flush();
        }

        int awaitExit() throws Exception {
            assertTrue(process.waitFor(30, TimeUnit.SECONDS), "the wrapper did not exit; stderr: " + stderr());
            errReader.join(5000);
            return process.exitValue();
        }

        String stderr() {
            synchronized (stderr) {
                return stderr.toString();
            }
        }

        @Override
        public void close() {
            process.destroyForcibly();
        }
    }

    private List<Map<String, Object>> leases() throws Exception {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Object o : list(json(daemon.api("GET", "/v1/leases", null)).get("leases"))) {
            out.add(map(o));
        }
        return out;
    }

    private Map<String, Object> jellyfin(Map<String, Object> status) {
        for (Object o : list(status.get("services"))) {
            if ("jellyfin".equals(map(o).get("service"))) {
                return map(o);
            }
        }
        throw new AssertionError("no jellyfin in " + status);
    }

    private void awaitNoLeases() throws Exception {
        awaitStatus(s -> list(s.get("leases")).isEmpty(), "no leases");
    }

    @ParameterizedTest(name = "exit {0}")
    @ValueSource(ints = {0, 7})
    void theProgramRunsOnItsLeaseAndTheWrapperExitsWithItsStatus(int status) throws Exception {
        try (Wrapper w = new Wrapper("exit" + status, List.of("--bytes", "600MiB"), "read x; exit " + status)) {
            long pid = w.awaitPid();
            // the lease carries the program's own pid, and the simulated GPU shows that pid's memory
            awaitStatus(s -> list(s.get("leases")).size() == 1
                    && list(map(list(s.get("leases")).get(0)).get("pids")).equals(List.of((int) pid))
                    && num(jellyfin(s).get("observedBytes")) == 600 * MIB, "the program's pid using its 600 MiB");
            assertEquals("exec:" + pid, leases().get(0).get("holder"));
            w.line();
            assertEquals(status, w.awaitExit(), w.stderr());
            awaitNoLeases();
        }
    }

    @Test
    void anAutoSizedFfmpegGetsTheTableEstimateAndItsPeakIsLearned() throws Exception {
        // /bin/sh under the name ffmpeg: "-c SCRIPT" reads as an option with its value, the rest as
        // Jellyfin's arguments for a 4K HEVC to 1080p H.264 transcode
        Path ffmpeg = dir.resolve("bin/ffmpeg");
        Files.createDirectories(ffmpeg.getParent());
        Files.deleteIfExists(ffmpeg);
        Files.createSymbolicLink(ffmpeg, Path.of("/bin/sh"));
        List<String> jellyfinArgs = List.of("-hwaccel", "cuda", "-hwaccel_output_format", "cuda", "-i", "in.mkv",
                "-codec:v:0", "h264_nvenc", "-vf", "scale_cuda=w=1920:h=1080:format=yuv420p", "-f", "hls", "out.m3u8");
        String signature = "ffmpeg:dec=gpu,enc=gpu,out=1080p,tonemap=none,outputs=1";
        try (Wrapper w = new Wrapper("ffmpeg", List.of("--bytes", "auto"), ffmpeg.toString(), "read x", jellyfinArgs)) {
            w.awaitPid();
            awaitStatus(s -> list(s.get("leases")).size() == 1
                    && num(jellyfin(s).get("observedBytes")) == 700 * MIB, "the estimate of 700 MiB, in use");
            w.line();
            assertEquals(0, w.awaitExit(), w.stderr());
        }
        awaitNoLeases();
        Path learned = daemon.stateDir.resolve("learned-sizes.json");
        long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!Files.exists(learned) || !Files.readString(learned).contains(signature)) {
            assertTrue(System.nanoTime() < end, "the peak was never recorded\n" + daemon.logText());
            Thread.sleep(20);
        }
        assertTrue(Files.readString(learned).contains(Long.toString(700 * MIB)), Files.readString(learned));
    }

    @Test
    void withTheAgentUnreachableTheServicesFailModeDecides() throws Exception {
        String nobody = "127.0.0.1:1"; // nothing listens on port 1
        try (Wrapper open = new Wrapper("failopen", "jellyfin", nobody, List.of("--bytes", "300MiB"), "/bin/sh",
                "exit 5", List.of())) {
            assertEquals(5, open.awaitExit(), open.stderr());
            assertTrue(open.stderr().contains("jellyfin is fail-open"), open.stderr());
            assertTrue(Files.exists(open.ranFile), "a fail-open service runs without a lease");
        }
        try (Wrapper closed = new Wrapper("failclosed", "immich", nobody, List.of("--bytes", "300MiB"), "/bin/sh",
                "exit 0", List.of())) {
            assertEquals(4, closed.awaitExit(), closed.stderr());
            assertTrue(closed.stderr().contains("immich is fail-closed"), closed.stderr());
            assertFalse(Files.exists(closed.ranFile), "a fail-closed service must not run");
        }
    }

    @ParameterizedTest(name = "SIG{0}")
    @ValueSource(strings = {"TERM", "INT", "HUP", "USR1", "USR2"})
    void aSignalToTheWrapperReachesTheProgramAndItsDeathIsTheExitStatus(String signal) throws Exception {
        int number = Map.of("TERM", 15, "INT", 2, "HUP", 1, "USR1", 10, "USR2", 12).get(signal); // Linux numbers
        try (Wrapper w = new Wrapper("sig" + signal, List.of("--bytes", "300MiB"), "exec sleep 1000")) {
            w.awaitPid();
            awaitStatus(s -> list(s.get("leases")).size() == 1, "the lease");
            Process kill = new ProcessBuilder("kill", "-s", signal, Long.toString(w.process.pid())).inheritIO().start();
            assertEquals(0, kill.waitFor());
            assertEquals(128 + number, w.awaitExit(), w.stderr());
            awaitNoLeases();
        }
    }

    @Test
    void aKilledWrappersLeaseIsReclaimedOnceItsProgramIsGone() throws Exception {
        Prerequisites.requireTool("setpriv");
        try (Wrapper w = new Wrapper("sigkill", List.of("--bytes", "300MiB"), "while :; do sleep 0.05; done")) {
            long pid = w.awaitPid();
            awaitStatus(s -> list(s.get("leases")).size() == 1, "the lease");
            w.process.destroyForcibly(); // SIGKILL: no release; setpriv's pdeathsig takes the program along
            w.awaitExit();
            long end = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                assertTrue(System.nanoTime() < end, "the program outlived its SIGKILLed wrapper");
                Thread.sleep(20);
            }
            awaitNoLeases(); // reclaimed after the 1 s grace
            assertTrue(daemon.logText().contains("reclaim"), daemon.logText());
        }
    }

    @Test
    void aFourth4kStreamWaitsWhileThreeRunAndIsRefusedAtOnceWithoutAWait() throws Exception {
        List<Wrapper> three = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                Wrapper w = new Wrapper("stream" + i, List.of("--bytes", "1100MiB"), "read x");
                three.add(w);
                w.awaitPid();
            }
            awaitStatus(s -> list(s.get("leases")).size() == 3, "three streams");

            try (Wrapper refused = new Wrapper("refused", List.of("--bytes", "1100MiB", "--wait", "0"), "exit 0")) {
                assertEquals(3, refused.awaitExit());
                // the decision's sentence, on stderr, before the program ran
                assertTrue(refused.stderr().startsWith("gpu-agent exec: jellyfin needs 1.07 GiB"), refused.stderr());
                assertFalse(Files.exists(refused.ranFile), "a refused program must never run");
            }

            try (Wrapper fourth = new Wrapper("fourth", List.of("--bytes", "1100MiB", "--wait", "30s"), "read x")) {
                awaitStatus(s -> list(s.get("queue")).size() == 1, "the fourth stream waiting");
                assertFalse(Files.exists(fourth.ranFile), "the fourth runs only once admitted");
                three.get(0).line();
                assertEquals(0, three.get(0).awaitExit());
                fourth.awaitPid();
                awaitStatus(s -> list(s.get("leases")).size() == 3, "the fourth admitted in the first's place");
                fourth.line();
                assertEquals(0, fourth.awaitExit(), fourth.stderr());
            }
        } finally {
            for (Wrapper w : three) {
                w.close();
            }
        }
        awaitNoLeases();
    }
}
