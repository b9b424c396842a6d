package org.gpuagent.agent.cli;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import org.gpuagent.agent.config.Durations;
import org.gpuagent.scheduler.ByteSize;

/**
 * {@code gpu-agent exec} without building the picocli model, for the same reason as
 * {@link QuickAdmit}: Jellyfin starts one per stream. Only a well-formed command line with
 * exactly {@link ExecCommand}'s options, then {@code --} and a program, is taken here; anything
 * else returns empty and picocli handles it (and its usage errors).
 */
public final class QuickExec {
    private QuickExec() {
    }

    /** The exit code when this took the command line, else empty. */
    public static OptionalInt tryRun(String[] args, CliContext ctx) {
        if (args.length < 4 || !args[0].equals("exec")) {
            return OptionalInt.empty();
        }
        String service = null;
        String bytes = null;
        String wait = null;
        String holder = null;
        String config = null;
        String api = null;
        String stateDir = null;
        Set<String> seen = new HashSet<>();
        int i = 1;
        for (; i < args.length && !args[i].equals("--"); i++) {
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
            if (!seen.add(name)) {
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
                default -> {
                    return OptionalInt.empty();
                }
            }
        }
        if (i + 1 >= args.length || service == null || service.startsWith("-")) {
            return OptionalInt.empty();
        }
        List<String> program = List.of(args).subList(i + 1, args.length);
        boolean auto = "auto".equals(bytes);
        OptionalLong size;
        Duration w;
        ApiClient client;
        ClientConfig agentConfig;
        try {
            size = bytes == null || auto ? OptionalLong.empty() : OptionalLong.of(ByteSize.parse(bytes));
            w = wait == null ? Duration.ZERO : Durations.parse(wait);
            agentConfig = ClientConfig.load(config == null ? Optional.empty() : Optional.of(Path.of(config)));
            client = ApiClient.resolve(api, stateDir == null ? null : Path.of(stateDir), ctx, agentConfig);
        } catch (IllegalArgumentException e) {
            return OptionalInt.empty();
        }
        return OptionalInt.of(new LeasedProgram(ctx, new Admitter(ctx, "gpu-agent exec"), new SystemSignals())
                .run(client, agentConfig, service, size, auto, w, Optional.ofNullable(holder), program));
    }
}
