package org.gpuagent.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StateDirectoryTest {
    @TempDir
    Path dir;

    @Test
    void flagThenEnvironmentThenSystemThenUser() throws Exception {
        Path system = Files.createDirectories(dir.resolve("var"));
        Map<String, String> env = Map.of("HOME", dir.toString());
        assertEquals(Path.of("/x"), StateDirectory.resolve(Optional.of(Path.of("/x")), Map.of("GPU_AGENT_STATE_DIR", "/y"), system));
        assertEquals(Path.of("/y"), StateDirectory.resolve(Optional.empty(), Map.of("GPU_AGENT_STATE_DIR", "/y"), system));
        assertEquals(system, StateDirectory.resolve(Optional.empty(), env, system));
        Files.setPosixFilePermissions(system, PosixFilePermissions.fromString("r-xr-xr-x"));
        try {
            if (!Files.isWritable(system)) { // root writes anyway; the fallback is then not reachable
                assertEquals(dir.resolve(".local/state/gpu-agent"), StateDirectory.resolve(Optional.empty(), env, system));
                assertEquals(Path.of("/xdg/gpu-agent"), StateDirectory.resolve(Optional.empty(),
                        Map.of("XDG_STATE_HOME", "/xdg"), system));
            }
        } finally {
            Files.setPosixFilePermissions(system, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
    }

    @Test
    void aClientUsesTheSystemDirectoryWhenItCanReadItsToken() throws Exception {
        Path system = dir.resolve("missing");
        Map<String, String> env = Map.of("XDG_STATE_HOME", dir.resolve("xdg").toString());
        // no such directory, and its parent is writable: the daemon would create it, so would the client
        assertEquals(system, StateDirectory.resolveForClient(Optional.empty(), env, system));
        Path readOnly = Files.createDirectories(dir.resolve("ro"));
        Files.writeString(readOnly.resolve("api-token"), "t\n");
        assertEquals(readOnly, StateDirectory.resolveForClient(Optional.empty(), env, readOnly));
        assertEquals(Path.of("/flag"), StateDirectory.resolveForClient(Optional.of(Path.of("/flag")), env, readOnly));
    }
}
