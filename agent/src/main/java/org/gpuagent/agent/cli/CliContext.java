package org.gpuagent.agent.cli;

import java.io.InputStream;
import java.io.PrintStream;
import java.util.Map;

/**
 * What a command talks to: its streams and environment. The real process passes its own; tests
 * run commands in-process with their own streams and environment.
 */
public record CliContext(PrintStream out, PrintStream err, InputStream in, Map<String, String> env) {
    public CliContext {
        env = Map.copyOf(env);
    }

    public static CliContext system() {
        return new CliContext(System.out, System.err, System.in, System.getenv());
    }
}
