package org.gpuagent.agent.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
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
    /** {@link AdmitCommand}'s options ({@code --pid} may repeat). */
    private static final Set<String> NAMES = QuickOptions.clientAnd("--service", "--bytes", "--holder");

    private QuickAdmit() {
    }

    /** The exit code when this took the command line, else empty. */
    public static OptionalInt tryRun(String[] args, CliContext ctx) {
        if (args.length < 3 || !args[0].equals("admit")) {
            return OptionalInt.empty();
        }
        Optional<QuickOptions> parsed = QuickOptions.parse(args, NAMES, "--pid", false);
        if (parsed.isEmpty()) {
            return OptionalInt.empty();
        }
        QuickOptions o = parsed.get();
        String service = o.get("--service");
        String bytes = o.get("--bytes");
        if (service == null || service.startsWith("-")) {
            return OptionalInt.empty();
        }
        List<Long> pids = new ArrayList<>();
        OptionalLong size;
        QuickOptions.Client c;
        try {
            for (String p : o.repeated()) {
                long pid = Long.parseLong(p);
                if (pid <= 0) {
                    return OptionalInt.empty();
                }
                pids.add(pid);
            }
            size = bytes == null ? OptionalLong.empty() : OptionalLong.of(ByteSize.parse(bytes));
            c = o.client(ctx);
        } catch (IllegalArgumentException e) {
            // NumberFormatException included: picocli reports a bad --pid.
            return OptionalInt.empty();
        }
        return OptionalInt.of(new Admitter(ctx, "gpu-agent").admit(c.api(),
                new Admitter.Request(service, size, c.maxWait(), Optional.ofNullable(o.get("--holder")), pids),
                c.config(), true));
    }
}
