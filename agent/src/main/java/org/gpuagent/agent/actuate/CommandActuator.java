package org.gpuagent.agent.actuate;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.gpuagent.scheduler.Evictor;

/**
 * Runs a command: {@code systemctl restart UNIT}, {@code systemctl stop UNIT},
 * {@code podman stop CONTAINER}. Success is exit status 0; anything else fails with the
 * command's last output line.
 */
public final class CommandActuator implements Actuator {
    private static final int MAX_OUTPUT = 8 * 1024;

    private final String label;
    private final List<String> command;

    public CommandActuator(String label, List<String> command) {
        this.label = label;
        this.command = List.copyOf(command);
    }

    public static CommandActuator restartUnit(String unit) {
        return new CommandActuator("restart-unit", List.of("systemctl", "restart", "--no-block", unit));
    }

    public static CommandActuator stopUnit(String unit) {
        return new CommandActuator("stop-unit", List.of("systemctl", "stop", unit));
    }

    /** {@code podman stop} waits up to its own 10 s before SIGKILL; the actuator's timeout bounds it too. */
    public static CommandActuator stopContainer(String container) {
        return new CommandActuator("stop-container", List.of("podman", "stop", container));
    }

    public List<String> command() {
        return command;
    }

    @Override
    public String describe() {
        return label + " (" + String.join(" ", command) + ")";
    }

    @Override
    public String act(Evictor.Order order, Duration timeout) throws Exception {
        Process p;
        try {
            p = new ProcessBuilder(new ArrayList<>(command)).redirectErrorStream(true)
                    .redirectInput(ProcessBuilder.Redirect.PIPE).start();
        } catch (IOException e) {
            throw new IOException("cannot run " + command.get(0) + ": " + e.getMessage(), e);
        }
        p.getOutputStream().close();
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        Thread reader = new Thread(() -> drain(p.getInputStream(), output), "actuator-output");
        reader.setDaemon(true);
        reader.start();
        if (!p.waitFor(Math.max(1, timeout.toMillis()), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            throw new TimeoutException(String.join(" ", command) + " did not finish within "
                    + timeout.toMillis() + " ms; killed it");
        }
        reader.join(1000);
        String out;
        synchronized (output) {
            out = output.toString(StandardCharsets.UTF_8).strip();
        }
        String last = out.isEmpty() ? "" : out.substring(out.lastIndexOf('\n') + 1);
        if (p.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " exited with status " + p.exitValue()
                    + (last.isEmpty() ? "" : ": " + last));
        }
        return String.join(" ", command) + " succeeded";
    }

    private static void drain(InputStream in, ByteArrayOutputStream sink) {
        byte[] buf = new byte[1024];
        try (in) {
            int n;
            while ((n = in.read(buf)) > 0) {
                synchronized (sink) {
                    if (sink.size() < MAX_OUTPUT) {
                        sink.write(buf, 0, Math.min(n, MAX_OUTPUT - sink.size()));
                    }
                }
            }
        } catch (IOException e) {
            // the process ended or was killed
        }
    }
}
