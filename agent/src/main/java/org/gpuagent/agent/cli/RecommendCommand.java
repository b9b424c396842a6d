package org.gpuagent.agent.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.gpuagent.agent.StateDirectory;
import org.gpuagent.agent.config.AgentConfig;
import org.gpuagent.agent.config.ConfigException;
import org.gpuagent.agent.config.ConfigLoader;
import org.gpuagent.agent.sizing.LearnedSizes;
import org.gpuagent.agent.sizing.Recommendation;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code gpu-agent recommend}: per service, the configured request, what its leases were seen
 * taking (p50/p99/max of the learned peaks in the state directory) and a suggested request with the
 * reason ({@link Recommendation}). Reads the state directory's {@code learned-sizes.json} directly,
 * so it works while the agent is down; it needs read access to that file (the agent's user).
 */
@Command(name = "recommend", description = {"Per service: the configured request, the observed p50/p99/max of "
        + "its leases' peaks, and a suggested request with the reason.",
        "Exit 0; 1 when the learned sizes cannot be read; 2 usage error."})
final class RecommendCommand implements Callable<Integer> {
    private final CliContext ctx;

    @Option(names = "--config", paramLabel = "FILE",
            description = "The agent's configuration: its services' requests and state-dir (default: the built-in one).")
    Path config;

    @Option(names = "--state-dir", paramLabel = "DIR",
            description = "Where the agent keeps learned-sizes.json (default: $GPU_AGENT_STATE_DIR, else the "
                    + "configuration's state-dir, else /var/lib/gpu-agent, else $XDG_STATE_HOME/gpu-agent).")
    Path stateDir;

    RecommendCommand(CliContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public Integer call() {
        AgentConfig c;
        try {
            c = config == null ? ConfigLoader.builtInDefault() : ConfigLoader.load(config);
        } catch (ConfigException e) {
            CheckConfigCommand.printProblems(e, config.toString(), ctx.err());
            return ExitCodes.FAILURE;
        }
        Path dir = stateDir != null ? stateDir
                : ctx.env().get(StateDirectory.ENV) != null && !ctx.env().get(StateDirectory.ENV).isBlank()
                        ? Path.of(ctx.env().get(StateDirectory.ENV))
                        : c.stateDir().orElseGet(() -> StateDirectory.resolveForClient(Optional.empty(), ctx.env()));
        LearnedSizes sizes;
        try {
            sizes = LearnedSizes.open(dir);
        } catch (IOException e) {
            ctx.err().println("gpu-agent recommend: cannot read " + LearnedSizes.file(dir) + ": " + e.getMessage()
                    + (e instanceof java.nio.file.AccessDeniedException ? " (run it as the agent's user)" : ""));
            return ExitCodes.FAILURE;
        }
        for (Recommendation r : recommendations(c, sizes)) {
            ctx.out().println(r.sentence());
        }
        return ExitCodes.OK;
    }

    static List<Recommendation> recommendations(AgentConfig c, LearnedSizes sizes) {
        return Recommendation.forServices(c.services(), sizes);
    }
}
