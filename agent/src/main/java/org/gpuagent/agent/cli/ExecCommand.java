package org.gpuagent.agent.cli;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import org.gpuagent.agent.config.Durations;
import org.gpuagent.scheduler.ByteSize;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code gpu-agent exec}: the picocli side (help, usage errors); a well-formed line runs via {@link QuickExec}. */
@Command(name = "exec", sortOptions = false,
        description = {"Admit, run PROGRAM with the lease held (its pid on the lease), release when it exits, "
                + "and exit with its status (128+N when signal N ended it).",
                "A denial exits 3 before the program runs (the reason on stderr); 2 usage error; 4 agent "
                        + "unreachable and the service fail-closed (fail-open: runs without a lease)."})
final class ExecCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Spec
    CommandSpec spec;

    @Mixin
    ClientOptions client;

    @Option(names = "--service", required = true, paramLabel = "NAME", description = "A configured service.")
    String service;

    @Option(names = "--bytes", paramLabel = "SIZE|auto",
            description = "How much (4GiB, 1500MiB); auto: the agent's learned peak for this kind of invocation, "
                    + "else its ffmpeg estimate, else the service's request. Default: the service's request.")
    String bytes;

    @Option(names = "--wait", paramLabel = "DURATION", defaultValue = "0",
            description = "How long it may wait for memory to free (30s, 2m; default 0: decide now).")
    String wait;

    @Option(names = "--holder", paramLabel = "ID", description = "The lease's holder (default exec:<pid>).")
    String holder;

    @Mixin
    ConfigOption config;

    @Parameters(arity = "1..*", paramLabel = "PROGRAM", description = "The program and its arguments, after --.")
    List<String> program;

    ExecCommand(CliContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public Integer call() {
        boolean auto = "auto".equals(bytes);
        OptionalLong size = bytes == null || auto ? OptionalLong.empty()
                : OptionalLong.of(OptionValue.parse(spec, "--bytes", bytes, ByteSize::parse));
        Duration w = OptionValue.parse(spec, "--wait", wait, Durations::parse);
        ClientConfig agentConfig = config.clientConfig();
        return new LeasedProgram(ctx, new Admitter(ctx, "gpu-agent exec"), new SystemSignals())
                .run(client.client(ctx, agentConfig), agentConfig, service, size, auto, w, Optional.ofNullable(holder),
                        program);
    }
}
