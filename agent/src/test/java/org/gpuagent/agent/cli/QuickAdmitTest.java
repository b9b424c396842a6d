package org.gpuagent.agent.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The quick admit path takes only well-formed command lines, and answers them exactly as the
 * picocli command does (same exit code, same output); everything else is left to picocli.
 */
class QuickAdmitTest {
    @TempDir
    Path dir;
    Map<String, String> env;

    @BeforeEach
    void tokenButNoAgent() throws Exception {
        Files.writeString(dir.resolve("api-token"), "0123456789abcdef".repeat(4) + "\n");
        // port 1 on loopback: nothing listens, the connection is refused at once
        env = Map.of("GPU_AGENT_STATE_DIR", dir.toString(), "GPU_AGENT_API", "127.0.0.1:1", "HOME", dir.toString());
    }

    private record Out(OptionalInt exit, String out, String err) {
    }

    private Out quick(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        OptionalInt exit = QuickAdmit.tryRun(args, context(out, err));
        return new Out(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private Out picocli(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = GpuAgentCommand.executeWithPicocli(args, context(out, err));
        return new Out(OptionalInt.of(exit), out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private CliContext context(ByteArrayOutputStream out, ByteArrayOutputStream err) {
        return new CliContext(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), new ByteArrayInputStream(new byte[0]), env);
    }

    @Test
    void wellFormedCommandLinesAnswerAsPicocliDoes() {
        for (List<String> args : List.of(
                List.of("admit", "--service", "ollama"),
                List.of("admit", "--service=frigate", "--bytes", "1GiB", "--wait", "2m", "--holder", "systemd:x"),
                List.of("admit", "--service", "immich", "--pid", "12", "--pid", "13", "--state-dir", dir.toString()),
                List.of("admit", "--service", "plex", "--api", "127.0.0.1:1"))) {
            String[] a = args.toArray(String[]::new);
            Out q = quick(a);
            Out p = picocli(a);
            assertTrue(q.exit().isPresent(), args.toString());
            assertEquals(p, q, args.toString());
        }
        assertEquals(4, quick("admit", "--service", "ollama").exit().getAsInt());
        assertEquals(0, quick("admit", "--service", "frigate").exit().getAsInt());
    }

    @Test
    void anythingElseIsLeftToPicocli() {
        for (List<String> args : List.of(
                List.of("admit"),
                List.of("admit", "--help"),
                List.of("admit", "--service"),
                List.of("admit", "--service", "a", "--service", "b"),
                List.of("admit", "--service", "a", "--bites", "1"),
                List.of("admit", "--service", "a", "--bytes", "12 parsecs"),
                List.of("admit", "--service", "a", "--wait", "soon"),
                List.of("admit", "--service", "a", "--pid", "-3"),
                List.of("admit", "--service", "a", "--api", "nowhere"),
                List.of("admit", "--bytes", "1G"),
                List.of("release", "--lease", "1"),
                List.of("status"))) {
            Out q = quick(args.toArray(String[]::new));
            assertFalse(q.exit().isPresent(), args.toString());
            assertEquals("", q.out() + q.err(), args.toString());
        }
    }
}
