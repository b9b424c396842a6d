package org.gpuagent.agent.cli;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.gpuagent.agent.config.Durations;
import org.gpuagent.scheduler.ByteSize;
import org.gpuagent.scheduler.LeaseId;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "resize", sortOptions = false,
        description = {"Change a lease's size; it keeps its id, holder and grant time. Shrinking always succeeds; "
                + "growing is an admission of the difference (it may wait, preempt or be denied).",
                "Prints the agent's sentence. Exit 0 resized, 3 denied (reason on stderr), 2 usage error, "
                        + "4 agent unreachable."})
final class ResizeCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Spec
    CommandSpec spec;

    @Mixin
    ClientOptions client;

    @Option(names = "--lease", required = true, paramLabel = "ID", description = "The lease id admit printed.")
    String lease;

    @Option(names = "--bytes", required = true, paramLabel = "SIZE",
            description = "The new size (4GiB, 1500MiB, 1.2GiB, plain bytes).")
    String bytes;

    @Option(names = "--wait", paramLabel = "DURATION", defaultValue = "0",
            description = "How long a growth may wait for memory to free (30s, 2m; default 0: decide now).")
    String wait;

    @Mixin
    ConfigOption config;

    ResizeCommand(CliContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public Integer call() {
        LeaseId id = OptionValue.parse(spec, "--lease", lease, LeaseId::parse);
        long size = OptionValue.parse(spec, "--bytes", bytes, ByteSize::parse);
        Duration w = OptionValue.parse(spec, "--wait", wait, Durations::parse);
        ApiClient api = client.client(ctx, config.clientConfig());
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("bytes", size);
        body.put("waitMs", w.toMillis());
        ApiClient.Response r;
        try {
            r = api.call("PATCH", "/v1/leases/" + id, com.fasterxml.jackson.jr.ob.JSON.std.asString(body),
                    w.plus(Admitter.ANSWER_MARGIN));
        } catch (ApiClient.Unreachable e) {
            ctx.err().println("gpu-agent: " + e.getMessage());
            return ExitCodes.UNREACHABLE;
        } catch (java.io.IOException e) {
            ctx.err().println("gpu-agent: cannot encode the request: " + e.getMessage());
            return ExitCodes.USAGE;
        }
        switch (r.status()) {
            case 200 -> {
                ctx.out().println(r.message().startsWith("HTTP ") ? "lease " + id + " resized" : r.message());
                return ExitCodes.OK;
            }
            default -> {
                return ExitCodes.ofRefusal(r, api, ctx.err());
            }
        }
    }
}
