package org.gpuagent.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

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
    /** The directory's mode: the journal and the API token are the agent's alone. */
    public static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rwx------");

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

    /**
     * Makes {@code dir} (and missing parents) for the daemon, mode 0700 whatever the umask; an
     * existing directory that others may enter is narrowed to 0700 (as systemd's
     * {@code StateDirectoryMode=0700} does in the shipped unit).
     *
     * @return a sentence to log when the mode was narrowed, else empty
     * @throws IOException when it cannot be made, or its mode cannot be set
     */
    public static Optional<String> prepare(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            Path parent = dir.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            try {
                Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
            } catch (java.nio.file.FileAlreadyExistsException raced) {
                // another process made it: its mode is checked below
            }
            // the umask may have taken bits from the requested mode, never added any; set it exactly
            Files.setPosixFilePermissions(dir, OWNER_ONLY);
            return Optional.empty();
        }
        Set<PosixFilePermission> now = Files.getPosixFilePermissions(dir);
        if (now.equals(OWNER_ONLY)) {
            return Optional.empty();
        }
        Files.setPosixFilePermissions(dir, OWNER_ONLY);
        return Optional.of("the state directory " + dir + " was mode " + PosixFilePermissions.toString(now)
                + "; narrowed to rwx------ (it holds the API token and the ledger journal)");
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
