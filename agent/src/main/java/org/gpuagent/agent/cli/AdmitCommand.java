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
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

@Command(name = "admit", sortOptions = false,
        description = {"Ask the agent for VRAM for a service; prints the lease id.",
                "Exit 0 admitted, 3 denied (reason on stderr), 2 usage error, 4 agent unreachable "
                        + "(a fail-open service then exits 0 with a warning)."})
final class AdmitCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Spec
    CommandSpec spec;

    @Mixin
    ClientOptions client;

    @Option(names = "--service", required = true, paramLabel = "NAME", description = "A configured service.")
    String service;

    @Option(names = "--bytes", paramLabel = "SIZE",
            description = "How much (4GiB, 1500MiB, 512M, plain bytes); default: the service's request.")
    String bytes;

    @Option(names = "--wait", paramLabel = "DURATION", defaultValue = "0",
            description = "How long it may wait for memory to free (30s, 2m; default 0: decide now).")
    String wait;

    @Option(names = "--holder", paramLabel = "ID",
            description = "Who will use the lease, e.g. systemd:ollama.service; releasing by holder frees it.")
    String holder;

    @Option(names = "--pid", paramLabel = "PID",
            description = "A process that will use the lease (repeatable); the lease lives while one does.")
    List<Long> pids = List.of();

    @Mixin
    ConfigOption config;

    AdmitCommand(CliContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public Integer call() {
        OptionalLong size = bytes == null ? OptionalLong.empty()
                : OptionalLong.of(OptionValue.parse(spec, "--bytes", bytes, ByteSize::parse));
        Duration w = OptionValue.parse(spec, "--wait", wait, Durations::parse);
        for (Long p : pids) {
            if (p <= 0) {
                throw new ParameterException(spec.commandLine(), "--pid: " + p + " is not a process id");
            }
        }
        ClientConfig agentConfig = config.clientConfig();
        return new Admitter(ctx, "gpu-agent").admit(client.client(ctx, agentConfig),
                new Admitter.Request(service, size, w, Optional.ofNullable(holder), pids), agentConfig, true);
    }
}
