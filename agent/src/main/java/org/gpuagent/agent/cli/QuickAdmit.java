package org.gpuagent.agent.cli;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import org.gpuagent.agent.config.Durations;
import org.gpuagent.scheduler.ByteSize;

/**
 * {@code gpu-agent admit} without building the picocli model: an {@code ExecStartPre} or a
 * container start waits for this process, and picocli's reflective set-up of every command costs
 * more than the rest of an admission (docs/cli.md, "The launcher"). Only a well-formed command line
 * is taken here, with exactly {@link AdmitCommand}'s options; anything else (help, an unknown or
 * repeated option, a missing value, a bad size or duration, a bad --api) returns empty and the
 * full picocli command line handles it, so usage errors look the same either way. A test runs
 * both paths on the same arguments.
 */
public final class QuickAdmit {
    private QuickAdmit() {
    }

    /** The exit code when this took the command line, else empty. */
    public static OptionalInt tryRun(String[] args, CliContext ctx) {
        if (args.length < 3 || !args[0].equals("admit")) {
            return OptionalInt.empty();
        }
        String service = null;
        String bytes = null;
        String wait = null;
        String holder = null;
        String config = null;
        String api = null;
        String stateDir = null;
        List<Long> pids = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (int i = 1; i < args.length; i++) {
            String name = args[i];
            String value;
            int eq = name.indexOf('=');
            if (name.startsWith("--") && eq > 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            } else if (i + 1 < args.length) {
                value = args[++i];
            } else {
                return OptionalInt.empty();
            }
            if (!name.equals("--pid") && !seen.add(name)) {
                return OptionalInt.empty();
            }
            switch (name) {
                case "--service" -> service = value;
                case "--bytes" -> bytes = value;
                case "--wait" -> wait = value;
                case "--holder" -> holder = value;
                case "--config" -> config = value;
                case "--api" -> api = value;
                case "--state-dir" -> stateDir = value;
                case "--pid" -> {
                    try {
                        long pid = Long.parseLong(value);
                        if (pid <= 0) {
                            return OptionalInt.empty();
                        }
                        pids.add(pid);
                    } catch (NumberFormatException e) {
                        return OptionalInt.empty();
                    }
                }
                default -> {
                    return OptionalInt.empty();
                }
            }
        }
        if (service == null || service.startsWith("-")) {
            return OptionalInt.empty();
        }
        OptionalLong size;
        Duration w;
        ApiClient client;
        ClientConfig agentConfig;
        try {
            size = bytes == null ? OptionalLong.empty() : OptionalLong.of(ByteSize.parse(bytes));
            w = wait == null ? Duration.ZERO : Durations.parse(wait);
            agentConfig = ClientConfig.load(config == null ? Optional.empty() : Optional.of(Path.of(config)));
            client = ApiClient.resolve(api, stateDir == null ? null : Path.of(stateDir), ctx, agentConfig);
        } catch (IllegalArgumentException e) {
            return OptionalInt.empty();
        }
        return OptionalInt.of(new Admitter(ctx, "gpu-agent").admit(client,
                new Admitter.Request(service, size, w, Optional.ofNullable(holder), pids), agentConfig, true));
    }
}
