package org.gpuagent.agent.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** A malformed {@code exec} line is left to picocli, whose usage error (exit 2) it then gets, before anything runs. */
class QuickExecTest {

    @ParameterizedTest
    @ValueSource(strings = {
            "exec --service jellyfin",
            "exec --service jellyfin --",
            "exec --service jellyfin --bytes 12parsecs -- /bin/true",
            "exec --service jellyfin --wait soon -- /bin/true",
            "exec --service jellyfin --service immich -- /bin/true",
            "exec --bytes auto -- /bin/true",
            "exec --service jellyfin --frobnicate 1 -- /bin/true",
            "exec --service jellyfin --api not-an-address -- /bin/true"})
    void malformedLinesAreUsageErrorsAndNothingRuns(String line) {
        String[] args = line.split(" ");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        CliContext ctx = new CliContext(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), new ByteArrayInputStream(new byte[0]), Map.of());
        assertEquals(OptionalInt.empty(), QuickExec.tryRun(args, ctx), "the quick path must not take: " + line);
        assertEquals(ExitCodes.USAGE, GpuAgentCommand.execute(args, ctx), err.toString(StandardCharsets.UTF_8));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("exec"), err.toString(StandardCharsets.UTF_8));
    }
}
