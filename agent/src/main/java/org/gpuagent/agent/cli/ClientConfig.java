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
 * built-in default's fail modes apply.
 *
 * <p>The file is read only when it is needed (parsing YAML costs a client tens of milliseconds):
 * a client first tries the usual address and state directory, and reads the file when the agent
 * cannot be reached there ({@link ApiClient}) or to find a fail mode. A file that cannot be read
 * is no error here: only when the agent cannot answer does it matter (the service is then treated
 * as fail-closed, and the reason says why).
 */
final class ClientConfig {
    private final Optional<Path> file;
    private Optional<AgentConfig> config;
    private String problem;

    private ClientConfig(Optional<Path> file) {
        this.file = file;
    }

    static ClientConfig load(Optional<Path> file) {
        return new ClientConfig(file);
    }

    private Optional<AgentConfig> config() {
        if (config == null) {
            config = Optional.empty();
            if (file.isPresent()) {
                try {
                    config = Optional.of(ConfigLoader.load(file.get()));
                } catch (ConfigException e) {
                    problem = e.problems().get(0).toString();
                }
            }
        }
        return config;
    }

    boolean given() {
        return file.isPresent();
    }

    /** The configured API address, as written (HOST:PORT); empty without a readable file. */
    Optional<String> api() {
        return config().map(c -> c.listen().api().toString());
    }

    Optional<Path> stateDir() {
        return config().flatMap(AgentConfig::stateDir);
    }

    /** A service's fail mode and where it came from, for the message an unreachable agent gets. */
    record FailMode(ServiceConfig.FailMode mode, String source) {
    }

    FailMode failMode(String service) {
        if (file.isPresent() && config().isEmpty()) {
            return new FailMode(ServiceConfig.FailMode.CLOSED, file.get() + ", which cannot be read (" + problem + ")");
        }
        AgentConfig c = config().orElseGet(ConfigLoader::builtInDefault);
        String source = file.map(Path::toString).orElse("the built-in default");
        Optional<ServiceConfig> s = c.service(service);
        if (s.isEmpty()) {
            return new FailMode(ServiceConfig.FailMode.CLOSED, source + ", which does not list " + service);
        }
        return new FailMode(s.get().failMode(), source);
    }
}
