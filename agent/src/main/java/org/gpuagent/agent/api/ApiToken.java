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
    /** 32 hex digits: 128 bits. */
    public static final int MIN_CHARACTERS = 32;
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

    /**
     * Reads an existing token (the CLI side, and the daemon after {@link #loadOrCreate}). A token
     * must be at least {@value #MIN_CHARACTERS} printable ASCII characters without spaces: 128 bits
     * even written in hex (the agent's own are 64 hex digits, 256 bits); a shorter one is refused,
     * as guessable.
     *
     * @throws IOException unreadable, or not a token; the message names the file and what to do
     */
    public static ApiToken read(Path stateDir) throws IOException {
        Path file = stateDir.resolve(FILE_NAME);
        byte[] raw = Files.readAllBytes(file);
        String value = new String(raw, StandardCharsets.ISO_8859_1).strip();
        String fix = " (delete it, and the agent makes a new one at its next start)";
        if (value.isEmpty()) {
            throw new IOException(file + " is empty" + fix);
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c <= ' ' || c > '~') {
                throw new IOException(file + " holds a character that a token may not have (only printable ASCII "
                        + "without spaces)" + fix);
            }
        }
        if (value.length() < MIN_CHARACTERS) {
            throw new IOException(file + " holds a " + value.length() + "-character token; a token needs at least "
                    + MIN_CHARACTERS + " characters (128 bits as hex)" + fix);
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
