package org.gpuagent.agent.cli;

import java.util.concurrent.Callable;
import org.gpuagent.agent.Version;
import picocli.CommandLine.Command;

@Command(name = "version", description = "Print the version.")
final class VersionCommand implements Callable<Integer> {
    private final CliContext ctx;

    VersionCommand(CliContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public Integer call() {
        ctx.out().println("gpu-agent " + Version.get() + " (Java " + Runtime.version() + ")");
        return ExitCodes.OK;
    }
}
