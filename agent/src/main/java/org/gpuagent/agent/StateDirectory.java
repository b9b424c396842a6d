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
 */
public final class StateDirectory {
    public static final Path SYSTEM_DEFAULT = Path.of("/var/lib/gpu-agent");

    private StateDirectory() {
    }

    public static Path resolve(Optional<Path> flag, Map<String, String> env) {
        if (flag.isPresent()) {
            return flag.get();
        }
        String fromEnv = env.get("GPU_AGENT_STATE_DIR");
        if (fromEnv != null && !fromEnv.isBlank()) {
            return Path.of(fromEnv);
        }
        if (usable(SYSTEM_DEFAULT)) {
            return SYSTEM_DEFAULT;
        }
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
