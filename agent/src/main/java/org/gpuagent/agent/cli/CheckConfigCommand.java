package org.gpuagent.agent.cli;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import org.gpuagent.agent.config.AgentConfig;
import org.gpuagent.agent.config.ConfigException;
import org.gpuagent.agent.config.ConfigLoader;
import org.gpuagent.agent.config.ConfigProblem;
import org.gpuagent.scheduler.ByteSize;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

@Command(name = "check-config", description = {"Validate a configuration file.",
        "Prints every problem with its file, line and path and exits 1; else a one-line summary and 0."})
final class CheckConfigCommand implements Callable<Integer> {
    private final CliContext ctx;

    /** Every command takes --state-dir (the contract); this one does not need it. */
    @picocli.CommandLine.Option(names = "--state-dir", paramLabel = "DIR", description = "Accepted; not used.")
    java.nio.file.Path stateDir;

    @Parameters(paramLabel = "FILE", description = "The YAML configuration.")
    Path file;

    CheckConfigCommand(CliContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public Integer call() {
        try {
            AgentConfig c = ConfigLoader.load(file);
            ctx.out().println(file + ": valid; " + summary(c));
            return ExitCodes.OK;
        } catch (ConfigException e) {
            printProblems(e, file.toString(), ctx.err());
            return ExitCodes.FAILURE;
        }
    }

    /** The same lines for check-config and for run refusing a configuration. */
    static void printProblems(ConfigException e, String source, PrintStream err) {
        for (ConfigProblem p : e.problems()) {
            err.println(p);
        }
        int n = e.problems().size();
        err.println(n + (n == 1 ? " problem" : " problems") + " in " + source);
        err.flush();
    }

    static String summary(AgentConfig c) {
        String services = c.services().stream()
                .map(s -> s.name() + " (" + s.priority().label() + ", " + ByteSize.format(s.requestBytes()) + ")")
                .collect(Collectors.joining(", "));
        String budget = c.deviceMemoryBytes().isPresent()
                ? "budget " + ByteSize.format(c.budgetFor(c.deviceMemoryBytes().getAsLong())) + " of "
                        + ByteSize.format(c.deviceMemoryBytes().getAsLong())
                : "budget checked against the GPU when the agent runs (no device-memory)";
        int n = c.services().size();
        return n + (n == 1 ? " service: " : " services: ") + services + "; " + budget;
    }
}
