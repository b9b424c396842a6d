package org.gpuagent.agent.cli;

import java.nio.file.Path;
import java.util.Optional;
import org.gpuagent.agent.StateDirectory;
import org.gpuagent.agent.config.HostPort;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code --api HOST:PORT} and {@code --state-dir DIR}, shared by the commands that talk to the agent. */
public final class ClientOptions {
    public static final String API_ENV = "GPU_AGENT_API";
    public static final String DEFAULT_API = "127.0.0.1:9849";

    @Spec(Spec.Target.MIXEE)
    CommandSpec spec;

    @Option(names = "--api", paramLabel = "HOST:PORT",
            description = "The agent's API (default: $GPU_AGENT_API, else " + DEFAULT_API + ").")
    String api;

    @Option(names = "--state-dir", paramLabel = "DIR",
            description = "Where the agent keeps its API token (default: $GPU_AGENT_STATE_DIR, else "
                    + "/var/lib/gpu-agent, else $XDG_STATE_HOME/gpu-agent).")
    Path stateDir;

    ApiClient client(CliContext ctx) {
        String text = api != null ? api : ctx.env().getOrDefault(API_ENV, DEFAULT_API);
        HostPort hp;
        try {
            hp = HostPort.parse(text);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), "--api: " + e.getMessage());
        }
        if (hp.host().equals("0.0.0.0")) {
            hp = new HostPort("127.0.0.1", hp.port());
        }
        return new ApiClient(hp, StateDirectory.resolveForClient(Optional.ofNullable(stateDir), ctx.env()));
    }
}
