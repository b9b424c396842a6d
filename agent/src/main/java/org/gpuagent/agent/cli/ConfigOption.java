package org.gpuagent.agent.cli;

import java.nio.file.Path;
import java.util.Optional;
import picocli.CommandLine.Option;

/**
 * {@code --config FILE}, shared by the client commands that may need the agent's configuration
 * ({@code admit}, {@code release}, the OCI hook): read only when needed, see {@link ClientConfig}.
 */
public final class ConfigOption {
    @Option(names = "--config", paramLabel = "FILE",
            description = "The agent's configuration: its listen.api and state-dir (when --api, --state-dir and "
                    + "the environment do not say); for admit and the hook also the service's fail mode when the "
                    + "agent cannot be reached (default: the built-in one).")
    Path file;

    ClientConfig clientConfig() {
        return ClientConfig.load(Optional.ofNullable(file));
    }
}
