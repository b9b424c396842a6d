package org.gpuagent.agent.cli;

import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import org.gpuagent.scheduler.ByteSize;

/**
 * {@code gpu-agent exec} without building the picocli model, for the same reason as
 * {@link QuickAdmit}: Jellyfin starts one per stream. Only a well-formed command line with
 * exactly {@link ExecCommand}'s options, then {@code --} and a program, is taken here; anything
 * else returns empty and picocli handles it (and its usage errors).
 */
public final class QuickExec {
    /** {@link ExecCommand}'s options. */
    private static final Set<String> NAMES = QuickOptions.clientAnd("--service", "--bytes", "--holder");

    private QuickExec() {
    }

    /** The exit code when this took the command line, else empty. */
    public static OptionalInt tryRun(String[] args, CliContext ctx) {
        if (args.length < 4 || !args[0].equals("exec")) {
            return OptionalInt.empty();
        }
        Optional<QuickOptions> parsed = QuickOptions.parse(args, NAMES, null, true);
        if (parsed.isEmpty()) {
            return OptionalInt.empty();
        }
        QuickOptions o = parsed.get();
        String service = o.get("--service");
        String bytes = o.get("--bytes");
        int i = o.end();
        if (i + 1 >= args.length || service == null || service.startsWith("-")) {
            return OptionalInt.empty();
        }
        List<String> program = List.of(args).subList(i + 1, args.length);
        boolean auto = "auto".equals(bytes);
        OptionalLong size;
        QuickOptions.Client c;
        try {
            size = bytes == null || auto ? OptionalLong.empty() : OptionalLong.of(ByteSize.parse(bytes));
            c = o.client(ctx);
        } catch (IllegalArgumentException e) {
            return OptionalInt.empty();
        }
        return OptionalInt.of(new LeasedProgram(ctx, new Admitter(ctx, "gpu-agent exec"), new SystemSignals())
                .run(c.api(), c.config(), service, size, auto, c.maxWait(), Optional.ofNullable(o.get("--holder")),
                        program));
    }
}
