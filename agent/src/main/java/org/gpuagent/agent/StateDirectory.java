package org.gpuagent.agent;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * Where the agent keeps its journal and API token, resolved the same way by the daemon and by
 * every client command: {@code --state-dir}, else {@code GPU_AGENT_STATE_DIR}, else
 * {@code /var/lib/gpu-agent} where it exists and is writable (or can be created), else
 * {@code $XDG_STATE_HOME/gpu-agent} ({@code ~/.local/state/gpu-agent}).
 *
 * <p>A client only reads the token, so it also takes {@code /var/lib/gpu-agent} when that holds a
 * token it can read without being writable ({@link #resolveForClient}): an operator in the
 * agent's group talks to the system agent, not to an empty directory in their home.
 */
public final class StateDirectory {
    public static final Path SYSTEM_DEFAULT = Path.of("/var/lib/gpu-agent");
    public static final String ENV = "GPU_AGENT_STATE_DIR";

    private StateDirectory() {
    }

    public static Path resolve(Optional<Path> flag, Map<String, String> env) {
        return resolve(flag, env, SYSTEM_DEFAULT);
    }

    static Path resolve(Optional<Path> flag, Map<String, String> env, Path systemDefault) {
        if (flag.isPresent()) {
            return flag.get();
        }
        String fromEnv = env.get(ENV);
        if (fromEnv != null && !fromEnv.isBlank()) {
            return Path.of(fromEnv);
        }
        if (usable(systemDefault)) {
            return systemDefault;
        }
        return userDefault(env);
    }

    /** As {@link #resolve}, but a readable token in {@code /var/lib/gpu-agent} is enough. */
    public static Path resolveForClient(Optional<Path> flag, Map<String, String> env) {
        return resolveForClient(flag, env, SYSTEM_DEFAULT);
    }

    static Path resolveForClient(Optional<Path> flag, Map<String, String> env, Path systemDefault) {
        if (flag.isEmpty() && (env.get(ENV) == null || env.get(ENV).isBlank())
                && Files.isReadable(systemDefault.resolve(org.gpuagent.agent.api.ApiToken.FILE_NAME))) {
            return systemDefault;
        }
        return resolve(flag, env, systemDefault);
    }

    private static Path userDefault(Map<String, String> env) {
        String xdg = env.get("XDG_STATE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg)
                : Path.of(env.getOrDefault("HOME", System.getProperty("user.home")), ".local", "state");
        return base.resolve("gpu-agent");
    }

    private static boolean usable(Path dir) {
        if (Files.isDirectory(dir)) {
            return Files.isWritable(dir);
        }
        Path parent = dir.getParent();
        return parent != null && Files.isDirectory(parent) && Files.isWritable(parent);
    }
}
