package org.gpuagent.agent.cli;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "status", description = "Budget, devices, observed use per service, leases and queue.")
final class StatusCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Mixin
    ClientOptions client;

    @Option(names = "--json", description = "The API's JSON instead of tables.")
    boolean json;

    StatusCommand(CliContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public Integer call() {
        ApiClient api = client.client(ctx);
        ApiClient.Response r;
        try {
            r = api.call("GET", "/v1/status", null, Duration.ofSeconds(10));
        } catch (ApiClient.Unreachable e) {
            ctx.err().println("gpu-agent: " + e.getMessage());
            return ExitCodes.UNREACHABLE;
        }
        if (r.status() != 200) {
            ctx.err().println("gpu-agent: " + api.answered(r));
            return ExitCodes.UNREACHABLE;
        }
        if (json) {
            try {
                ctx.out().println(JSON.std.with(JSON.Feature.PRETTY_PRINT_OUTPUT).asString(JSON.std.anyFrom(r.body())));
            } catch (IOException e) {
                ctx.out().println(r.body());
            }
        } else {
            ctx.out().print(StatusTable.render(r.json()));
        }
        ctx.out().flush();
        return ExitCodes.OK;
    }
}
