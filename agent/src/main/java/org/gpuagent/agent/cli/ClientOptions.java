package org.gpuagent.agent.cli;

import java.nio.file.Path;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code --api HOST:PORT} and {@code --state-dir DIR}, shared by the commands that talk to the agent. */
public final class ClientOptions {

    @Spec(Spec.Target.MIXEE)
    CommandSpec spec;

    @Option(names = "--api", paramLabel = "HOST:PORT",
            description = "The agent's API (default: $GPU_AGENT_API, else " + ApiClient.DEFAULT_API + ").")
    String api;

    @Option(names = "--state-dir", paramLabel = "DIR",
            description = "Where the agent keeps its API token (default: $GPU_AGENT_STATE_DIR, else "
                    + "/var/lib/gpu-agent, else $XDG_STATE_HOME/gpu-agent).")
    Path stateDir;

    ApiClient client(CliContext ctx) {
        return client(ctx, ClientConfig.load(java.util.Optional.empty()));
    }

    ApiClient client(CliContext ctx, ClientConfig config) {
        try {
            return ApiClient.resolve(api, stateDir, ctx, config);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "--api: " + e.getMessage());
        }
    }
}
