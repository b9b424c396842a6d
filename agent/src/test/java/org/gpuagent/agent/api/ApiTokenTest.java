package org.gpuagent.agent.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
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
        String mine = "my-own-token-of-exactly-32-chars";
        Files.writeString(dir.resolve("api-token"), mine + "\n");
        Files.setPosixFilePermissions(dir.resolve("api-token"), PosixFilePermissions.fromString("rw-r--r--"));
        ApiToken t = ApiToken.loadOrCreate(dir, new SecureRandom());
        assertEquals(mine, t.value());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("api-token"))));
    }

    /** Issue 14: a 1-character token was accepted; a token needs 128 bits. */
    @ParameterizedTest
    @ValueSource(strings = {"a", "abc", "0123456789abcdef0123456789abcde", "has a space in it but is long enough"})
    void aWeakOrMalformedTokenIsRefusedWithTheFileNamed(String weak, @TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("api-token"), weak + "\n");
        IOException daemon = assertThrows(IOException.class, () -> ApiToken.loadOrCreate(dir, new SecureRandom()));
        IOException client = assertThrows(IOException.class, () -> ApiToken.read(dir));
        for (IOException e : List.of(daemon, client)) {
            assertTrue(e.getMessage().startsWith(dir.resolve("api-token").toString()), e.getMessage());
            assertTrue(e.getMessage().contains("delete it"), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
        }
        assertEquals(weak + "\n", Files.readString(dir.resolve("api-token")), "a refused token is left as it is");
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
