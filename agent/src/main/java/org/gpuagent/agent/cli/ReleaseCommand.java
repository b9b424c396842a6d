package org.gpuagent.agent.cli;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.Callable;
import org.gpuagent.scheduler.LeaseId;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

@Command(name = "release", description = {"Give a lease back, by id or every lease of a holder.",
        "Exit 0 also when it was already released; 4 when the agent cannot be reached."})
final class ReleaseCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Spec
    CommandSpec spec;

    @Mixin
    ClientOptions client;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Which which;

    static final class Which {
        @Option(names = "--lease", paramLabel = "ID", description = "The lease id admit printed.")
        String lease;

        @Option(names = "--holder", paramLabel = "ID", description = "Every lease of this holder.")
        String holder;
    }

    @Mixin
    ConfigOption config;

    ReleaseCommand(CliContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public Integer call() {
        String path;
        if (which.lease != null) {
            path = "/v1/leases/" + OptionValue.parse(spec, "--lease", which.lease, LeaseId::parse);
        } else {
            if (which.holder.isBlank()) {
                throw new ParameterException(spec.commandLine(), "--holder: empty");
            }
            path = "/v1/leases?holder=" + URLEncoder.encode(which.holder, StandardCharsets.UTF_8);
        }
        ApiClient api = client.client(ctx, config.clientConfig());
        try {
            ApiClient.Response r = api.call("DELETE", path, null, Duration.ofSeconds(30));
            if (r.status() == 204) {
                return ExitCodes.OK;
            }
            if (r.status() == 400) {
                ctx.err().println("gpu-agent: the agent refused the request: " + r.message());
                return ExitCodes.USAGE;
            }
            ctx.err().println("gpu-agent: " + api.answered(r));
            return ExitCodes.UNREACHABLE;
        } catch (ApiClient.Unreachable e) {
            ctx.err().println("gpu-agent: " + e.getMessage());
            return ExitCodes.UNREACHABLE;
        }
    }
}
