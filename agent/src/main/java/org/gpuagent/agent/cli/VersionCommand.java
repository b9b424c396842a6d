package org.gpuagent.agent.cli;

import java.util.concurrent.Callable;
import org.gpuagent.agent.Version;
import picocli.CommandLine.Command;

@Command(name = "version", description = "Print the version.")
final class VersionCommand implements Callable<Integer> {
    private final CliContext ctx;

    /** Every command takes --state-dir (the contract); this one does not need it. */
    @picocli.CommandLine.Option(names = "--state-dir", paramLabel = "DIR", description = "Accepted; not used.")
    java.nio.file.Path stateDir;

    VersionCommand(CliContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public Integer call() {
        ctx.out().println("gpu-agent " + Version.get() + " (Java " + Runtime.version() + ")");
        return ExitCodes.OK;
    }
}
