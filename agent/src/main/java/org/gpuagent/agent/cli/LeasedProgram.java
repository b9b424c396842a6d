package org.gpuagent.agent.cli;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * {@code gpu-agent exec}: admits, runs the program with the lease held, releases when it exits,
 * and exits with its status.
 *
 * <p><b>The child's pid is on the lease, exactly.</b> The program is started first, held before
 * it runs: a {@code /bin/sh} that reads one line {@code go} from its stdin and then
 * {@code exec}s the program (same pid). Its pid is known before the admission, so the request
 * carries it ({@code "pids":[pid]}): the agent attributes the program's GPU memory to the lease
 * and keeps the lease while that pid lives, with no second call to add it. A denial kills the
 * held shell before the program ever ran. After the {@code go} line the wrapper copies its own
 * stdin to the program (Jellyfin stops a transcode by writing {@code q} to ffmpeg's stdin), so
 * the program's stdin is a pipe, not a terminal; stdout and stderr are inherited as they are.
 *
 * <p><b>When the wrapper is killed.</b> Where util-linux's {@code setpriv} is on the PATH, the
 * program is started through {@code setpriv --pdeathsig KILL}, so a SIGKILLed wrapper takes its
 * program with it; either way, once the pid on the lease is gone, reconciliation reclaims the
 * lease after the grace period ({@code reconcile-grace}).
 *
 * <p><b>Signals.</b> SIGTERM, SIGINT, SIGHUP, SIGUSR1 and SIGUSR2 sent to the wrapper are sent on
 * to the program (the wrapper keeps running until the program exits, then releases). SIGQUIT is
 * not: HotSpot keeps it for thread dumps and refuses a handler for it. SIGKILL and SIGSTOP cannot
 * be caught by any process. A signal that arrives before the program runs ends the
 * wrapper at once with 128+N, and the program never runs.
 *
 * <p><b>Exit status.</b> The program's; 128+N when a signal N ended it (as shells report it);
 * 127 when the program cannot be found or run (as shells do); 3, 2 or 4 as {@code admit} when
 * the admission is denied, malformed or the agent is unreachable and the service fail-closed.
 */
final class LeasedProgram {
    /** What the held shell must read to run the program; anything else (or end of input) ends it. */
    static final String GO = "go";
    /** The held shell's exit when it is told nothing (the wrapper died before deciding). */
    static final int NOT_STARTED = 125;
    /** Ends a held shell that the wrapper gave up on: it is not the program, so SIGKILL is right. */
    private static final String HELD_SHELL =
            "IFS= read -r go && [ \"$go\" = " + GO + " ] || exit " + NOT_STARTED + "; exec \"$@\"";

    private final CliContext ctx;
    private final Admitter admitter;
    private final Signals signals;

    LeasedProgram(CliContext ctx, Admitter admitter, Signals signals) {
        this.ctx = ctx;
        this.admitter = admitter;
        this.signals = signals;
    }

    /** Which signals reach the wrapper, and how one is sent on to the program. */
    interface Signals {
        /** Calls {@code onSignal} with the signal's name and number for each one forwarded; returns those taken. */
        List<String> install(SignalHandler onSignal);

        /** Sends the named signal ({@code TERM}, {@code INT}, ...) to {@code pid}. */
        void send(String name, long pid);
    }

    @FunctionalInterface
    interface SignalHandler {
        void onSignal(String name, int number);
    }

    /**
     * @param holder    empty: {@code exec:<pid>} of the program
     * @param program   the program and its arguments (at least the program)
     */
    int run(ApiClient client, ClientConfig config, String service, OptionalLong bytes, boolean autoBytes,
            Duration maxWait, Optional<String> holder, List<String> program) {
        List<String> command = new ArrayList<>();
        command.add("/bin/sh");
        command.add("-c");
        command.add(HELD_SHELL);
        command.add("gpu-agent-exec");
        pdeathsig(ctx.env()).ifPresent(setpriv -> command.addAll(List.of(setpriv, "--pdeathsig", "KILL", "--")));
        command.addAll(program);
        Process child;
        try {
            child = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.PIPE)
                    .redirectOutput(ProcessBuilder.Redirect.INHERIT).redirectError(ProcessBuilder.Redirect.INHERIT)
                    .start();
        } catch (IOException e) {
            ctx.err().println("gpu-agent exec: cannot start /bin/sh to hold " + program.get(0) + ": " + e.getMessage());
            return 127;
        }
        long pid = child.pid();
        Forwarding forwarding = new Forwarding(child);
        signals.install(forwarding);

        Admitter.Result admitted;
        if (autoBytes && !ExecSignature.usesGpu(program)) {
            // an ffmpeg that runs on the CPU alone (Jellyfin's software transcode) needs no lease
            admitted = new Admitter.Result(ExitCodes.OK, Optional.empty());
        } else {
            Admitter.Request r = new Admitter.Request(service, bytes, maxWait,
                    Optional.of(holder.orElseGet(() -> "exec:".concat(Long.toString(pid)))), List.of(pid),
                    Optional.of(ExecSignature.of(program)), autoBytes);
            admitted = admitter.request(client, r, config);
        }
        if (admitted.exit() != ExitCodes.OK) {
            child.destroyForcibly();
            waitQuietly(child);
            return admitted.exit();
        }
        int status;
        try {
            if (!forwarding.go()) {
                // a signal came while the admission was decided: the program never runs
                child.destroyForcibly();
                waitQuietly(child);
                status = forwarding.exitForSignal();
            } else {
                Thread copier = new Thread(() -> copyStdin(ctx.in(), child.getOutputStream()), "exec-stdin");
                copier.setDaemon(true);
                copier.start();
                status = waitQuietly(child);
            }
        } finally {
            admitted.leaseId().ifPresent(id -> release(client, id));
        }
        return status;
    }

    /** Sends signals on once the program runs; before that, remembers the first and ends the wait. */
    private final class Forwarding implements SignalHandler {
        private final Process child;
        private boolean running;
        private int signalBeforeStart;

        Forwarding(Process child) {
            this.child = child;
        }

        /** Lets the held shell run the program; false when a signal came first. */
        synchronized boolean go() {
            if (signalBeforeStart != 0) {
                return false;
            }
            try {
                OutputStream in = child.getOutputStream();
                in.write((GO + "\n").getBytes(StandardCharsets.US_ASCII));
                in.flush();
            } catch (IOException e) {
                // the shell is gone already: its exit status says why
            }
            running = true;
            return true;
        }

        synchronized int exitForSignal() {
            return 128 + signalBeforeStart;
        }

        @Override
        public synchronized void onSignal(String name, int number) {
            if (running) {
                signals.send(name, child.pid());
            } else if (signalBeforeStart == 0) {
                signalBeforeStart = number;
                // the admission may be waiting: the program will not run, so end here (the agent
                // withdraws a request whose connection closes)
                child.destroyForcibly();
                waitQuietly(child);
                ctx.err().println("gpu-agent exec: SIG" + name + " before " + "the program started; it does not run");
                ctx.err().flush();
                Runtime.getRuntime().halt(128 + number);
            }
        }
    }

    private void release(ApiClient client, String leaseId) {
        try {
            ApiClient.Response r = client.call("DELETE", "/v1/leases/".concat(leaseId), null, Duration.ofSeconds(30));
            if (r.status() != 204) {
                ctx.err().println("gpu-agent exec: warning: releasing lease " + leaseId + ": " + client.answered(r));
            }
        } catch (ApiClient.Unreachable e) {
            ctx.err().println("gpu-agent exec: warning: " + e.getMessage() + "; lease " + leaseId
                    + " stays until the agent reclaims it");
        }
    }

    /** The child's exit status; a signal N is 128+N (the JDK reports it so on Linux). */
    private static int waitQuietly(Process child) {
        while (true) {
            try {
                return child.waitFor();
            } catch (InterruptedException e) {
                // the program's end is what ends the wrapper; a forwarded signal reaches it
            }
        }
    }

    private static void copyStdin(InputStream from, OutputStream to) {
        byte[] b = new byte[8192];
        try (to) {
            int n;
            while ((n = from.read(b)) >= 0) {
                to.write(b, 0, n);
                to.flush();
            }
        } catch (IOException e) {
            // the program closed its stdin or exited; nothing more to pass on
        }
    }

    /** {@code setpriv} on the PATH, when there is one. */
    static Optional<String> pdeathsig(Map<String, String> env) {
        String path = env.getOrDefault("PATH", "/usr/bin:/bin");
        for (String dir : path.split(File.pathSeparator)) {
            if (dir.isEmpty()) {
                continue;
            }
            Path p = Path.of(dir, "setpriv");
            if (Files.isExecutable(p)) {
                return Optional.of(p.toString());
            }
        }
        return Optional.empty();
    }
}
