package org.gpuagent.agent.api;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Set;

/**
 * The API's bearer token, kept in {@code <state-dir>/api-token} with mode 0600: created at the
 * daemon's first start, read by the CLI. Whoever can read the file may use the API; that is the
 * whole access model, the same as a Unix socket owned by the service user.
 */
public final class ApiToken {
    public static final String FILE_NAME = "api-token";
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

    private final byte[] token;

    private ApiToken(String token) {
        this.token = token.getBytes(StandardCharsets.US_ASCII);
    }

    /** Reads the token, creating it (0600, 256 random bits) if the state directory has none. */
    public static ApiToken loadOrCreate(Path stateDir, SecureRandom random) throws IOException {
        Path file = stateDir.resolve(FILE_NAME);
        Files.createDirectories(stateDir);
        if (!Files.exists(file)) {
            byte[] bytes = new byte[32];
            random.nextBytes(bytes);
            String value = HexFormat.of().formatHex(bytes);
            Path tmp = stateDir.resolve(FILE_NAME + ".tmp");
            Files.deleteIfExists(tmp);
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
            Files.writeString(tmp, value + "\n", StandardCharsets.US_ASCII, StandardOpenOption.WRITE);
            try {
                Files.createLink(file, tmp);
            } catch (FileAlreadyExistsException raced) {
                // another process created it first: use theirs
            } finally {
                Files.deleteIfExists(tmp);
            }
        }
        if (!Files.getPosixFilePermissions(file).equals(OWNER_ONLY)) {
            Files.setPosixFilePermissions(file, OWNER_ONLY);
        }
        return read(stateDir);
    }

    /** Reads an existing token (the CLI side). */
    public static ApiToken read(Path stateDir) throws IOException {
        String value = Files.readString(stateDir.resolve(FILE_NAME), StandardCharsets.US_ASCII).strip();
        if (value.isEmpty()) {
            throw new IOException(stateDir.resolve(FILE_NAME) + " is empty");
        }
        return new ApiToken(value);
    }

    public String value() {
        return new String(token, StandardCharsets.US_ASCII);
    }

    /**
     * True when {@code authorizationHeader} is {@code Bearer <this token>}. Compares in time
     * independent of where the first difference is, so the token cannot be guessed byte by byte.
     */
    public boolean matchesHeader(String authorizationHeader) {
        if (authorizationHeader == null || !authorizationHeader.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return false;
        }
        byte[] offered = authorizationHeader.substring(7).strip().getBytes(StandardCharsets.US_ASCII);
        return MessageDigest.isEqual(offered, token);
    }
}
