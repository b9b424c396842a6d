package org.gpuagent.agent.notify;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A request header's value: written in the configuration, or read from a file when the delivery is
 * made (a token belongs in a file the service manager provides, e.g. systemd's
 * {@code LoadCredential=}, never in the configuration; reading it each time lets it be rotated).
 */
public sealed interface HeaderValue {

    /** The value to send; throws when a file cannot be read or does not hold one line. */
    String resolve() throws IOException;

    record Literal(String value) implements HeaderValue {
        public Literal {
            Objects.requireNonNull(value, "value");
        }

        @Override
        public String resolve() {
            return value;
        }
    }

    record FromFile(Path file) implements HeaderValue {
        /** A header value longer than this is not a token; refusing it keeps a wrong file out of requests. */
        static final long MAX_BYTES = 16 * 1024;

        public FromFile {
            Objects.requireNonNull(file, "file");
        }

        @Override
        public String resolve() throws IOException {
            return read(file);
        }

        /** The file's text without its trailing line break; one line of printable characters. */
        public static String read(Path file) throws IOException {
            if (Files.size(file) > MAX_BYTES) {
                throw new IOException(file + " is larger than " + MAX_BYTES + " bytes; not a header value");
            }
            String v = Files.readString(file, StandardCharsets.UTF_8).strip();
            if (v.isEmpty()) {
                throw new IOException(file + " is empty");
            }
            for (int i = 0; i < v.length(); i++) {
                char c = v.charAt(i);
                if (c < 0x20 || c == 0x7f) {
                    throw new IOException(file + " holds more than one line or a control character");
                }
            }
            return v;
        }

        @Override
        public String toString() {
            return "file " + file;
        }
    }
}
