package org.gpuagent.agent.cli;

import java.nio.file.Path;
import java.util.Optional;
import org.gpuagent.agent.config.AgentConfig;
import org.gpuagent.agent.config.ConfigException;
import org.gpuagent.agent.config.ConfigLoader;
import org.gpuagent.agent.config.ServiceConfig;

/**
 * What a client command ({@code admit}, {@code release}, the OCI hook) takes from the agent's
 * configuration when it is given {@code --config FILE}: the API address ({@code listen.api}) and
 * the state directory ({@code state-dir}) when neither a flag nor the environment names them, and
 * each service's fail mode for when the agent cannot be reached. Without {@code --config} the
 * built-in default's fail modes apply. A file that cannot be read is no error here: the command
 * still asks the agent, and only when the agent cannot answer does the unreadable file matter
 * (the service is then treated as fail-closed, and the reason says why).
 */
final class ClientConfig {
    private final Optional<Path> file;
    private final Optional<AgentConfig> config;
    private final String problem;

    private ClientConfig(Optional<Path> file, Optional<AgentConfig> config, String problem) {
        this.file = file;
        this.config = config;
        this.problem = problem;
    }

    static ClientConfig load(Optional<Path> file) {
        if (file.isEmpty()) {
            return new ClientConfig(file, Optional.empty(), null);
        }
        try {
            return new ClientConfig(file, Optional.of(ConfigLoader.load(file.get())), null);
        } catch (ConfigException e) {
            return new ClientConfig(file, Optional.empty(), e.problems().get(0).toString());
        }
    }

    /** The configured API address, as written (HOST:PORT); empty without a readable file. */
    Optional<String> api() {
        return config.map(c -> c.listen().api().toString());
    }

    Optional<Path> stateDir() {
        return config.flatMap(AgentConfig::stateDir);
    }

    /** A service's fail mode and where it came from, for the message an unreachable agent gets. */
    record FailMode(ServiceConfig.FailMode mode, String source) {
    }

    FailMode failMode(String service) {
        if (file.isPresent() && config.isEmpty()) {
            return new FailMode(ServiceConfig.FailMode.CLOSED, file.get() + ", which cannot be read (" + problem + ")");
        }
        AgentConfig c = config.orElseGet(ConfigLoader::builtInDefault);
        String source = file.map(Path::toString).orElse("the built-in default");
        Optional<ServiceConfig> s = c.service(service);
        if (s.isEmpty()) {
            return new FailMode(ServiceConfig.FailMode.CLOSED, source + ", which does not list " + service);
        }
        return new FailMode(s.get().failMode(), source);
    }
}
