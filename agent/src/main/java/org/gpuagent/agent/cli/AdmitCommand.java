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

    @Option(names = "--dry-run",
            description = "Only say what the agent would decide now (admit, preempt whom, wait, deny); nothing "
                    + "changes. Exit 0 unless it would be denied (3).")
    boolean dryRun;

    @Option(names = "--json", description = "With --dry-run: print the agent's JSON answer instead of one line.")
    boolean json;

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
        Admitter.Request request = new Admitter.Request(service, size, w, Optional.ofNullable(holder), pids);
        if (json && !dryRun) {
            throw new ParameterException(spec.commandLine(), "--json goes with --dry-run");
        }
        if (dryRun) {
            return dryRun(client.client(ctx, agentConfig), request);
        }
        return new Admitter(ctx, "gpu-agent").admit(client.client(ctx, agentConfig), request, agentConfig, true);
    }

    /**
     * {@code POST /v1/leases?dryRun=true}: one line a person reads ("dry run: preempt: SENTENCE"),
     * or the JSON. Not fail-open: an unreachable agent exits 4, since nothing would start.
     */
    private int dryRun(ApiClient api, Admitter.Request r) {
        ApiClient.Response resp;
        try {
            resp = api.call("POST", "/v1/leases?dryRun=true", AdmitJson.request(r), Duration.ofSeconds(30));
        } catch (ApiClient.Unreachable e) {
            ctx.err().println("gpu-agent: " + e.getMessage());
            return ExitCodes.UNREACHABLE;
        } catch (java.io.IOException e) {
            ctx.err().println("gpu-agent: cannot encode the request: " + e.getMessage());
            return ExitCodes.USAGE;
        }
        switch (resp.status()) {
            case 200 -> {
                Object decision = resp.json().get("decision");
                if (json) {
                    ctx.out().println(resp.body());
                } else {
                    ctx.out().println("dry run: " + decision + ": " + resp.message());
                }
                return "deny".equals(decision) ? ExitCodes.DENIED : ExitCodes.OK;
            }
            default -> {
                return ExitCodes.ofRefusal(resp, api, ctx.err());
            }
        }
    }
}
