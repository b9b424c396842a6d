package org.gpuagent.agent.logging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.BindException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class DaemonLogTest {
    final ByteArrayOutputStream out = new ByteArrayOutputStream();

    @AfterEach
    void restore() {
        DaemonLog.configure(System.err, Map.of());
    }

    private List<String> lines() {
        return out.toString(StandardCharsets.UTF_8).lines().toList();
    }

    @Test
    void underJournaldALineIsPriorityLevelAndMessage() {
        DaemonLog.configure(new PrintStream(out, true, StandardCharsets.UTF_8), Map.of("JOURNAL_STREAM", "8:123"));
        DaemonLog.info("ollama admitted: lease 1");
        DaemonLog.warn("two\nlines");
        DaemonLog.error("gpu-agent not started: x");
        assertEquals(List.of("<6>INFO ollama admitted: lease 1", "<4>WARN two lines", "<3>ERROR gpu-agent not started: x"),
                lines());
    }

    @Test
    void elsewhereItStartsWithTheTimeAndAnExceptionStaysOnOneLine() {
        DaemonLog.configure(new PrintStream(out, true, StandardCharsets.UTF_8), Map.of());
        DaemonLog.warn("webhook failed", new IOException("cannot listen", new BindException("Address already in use")));
        List<String> l = lines();
        assertEquals(1, l.size(), l.toString());
        assertTrue(l.get(0).matches("\\d{4}-\\d\\d-\\d\\dT[^ ]+Z WARN webhook failed: IOException: cannot listen "
                + "\\(caused by BindException: Address already in use\\)"), l.get(0));
    }

    @Test
    void debugLinesAndStackTracesOnlyWhenAskedFor() {
        DaemonLog.configure(new PrintStream(out, true, StandardCharsets.UTF_8), Map.of("JOURNAL_STREAM", "1"));
        DaemonLog.debug("hidden");
        assertEquals(List.of(), lines());
        DaemonLog.configure(new PrintStream(out, true, StandardCharsets.UTF_8), Map.of("JOURNAL_STREAM", "1",
                "GPU_AGENT_DEBUG", "1"));
        DaemonLog.debug("shown");
        DaemonLog.warn("with trace", new IllegalStateException("x"));
        List<String> l = lines();
        assertEquals("<7>DEBUG shown", l.get(0));
        assertEquals("<4>WARN with trace: IllegalStateException: x", l.get(1));
        assertTrue(l.size() > 2 && l.get(2).startsWith("java.lang.IllegalStateException"), l.toString());
    }
}
