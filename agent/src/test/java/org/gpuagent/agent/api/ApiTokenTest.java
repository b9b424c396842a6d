package org.gpuagent.agent.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ApiTokenTest {

    @Test
    void createdOnceWithOwnerOnlyModeAndReadBackByClients(@TempDir Path dir) throws Exception {
        Path state = dir.resolve("state");
        ApiToken created = ApiToken.loadOrCreate(state, new SecureRandom());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(state.resolve("api-token"))));
        assertEquals(64, created.value().length());
        assertEquals(created.value(), ApiToken.loadOrCreate(state, new SecureRandom()).value(), "second start keeps the token");
        assertEquals(created.value(), ApiToken.read(state).value());
    }

    @Test
    void tightensALooseMode(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("api-token"), "abc\n");
        Files.setPosixFilePermissions(dir.resolve("api-token"), PosixFilePermissions.fromString("rw-r--r--"));
        ApiToken t = ApiToken.loadOrCreate(dir, new SecureRandom());
        assertEquals("abc", t.value());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("api-token"))));
    }

    @Test
    void onlyTheExactBearerTokenMatches(@TempDir Path dir) throws Exception {
        ApiToken t = ApiToken.loadOrCreate(dir, new SecureRandom());
        assertTrue(t.matchesHeader("Bearer " + t.value()));
        assertTrue(t.matchesHeader("bearer " + t.value()));
        assertFalse(t.matchesHeader(null));
        assertFalse(t.matchesHeader(""));
        assertFalse(t.matchesHeader(t.value()));
        assertFalse(t.matchesHeader("Basic " + t.value()));
        assertFalse(t.matchesHeader("Bearer " + t.value().substring(1)));
        assertFalse(t.matchesHeader("Bearer " + t.value() + "0"));
    }
}
