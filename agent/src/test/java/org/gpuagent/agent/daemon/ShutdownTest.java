package org.gpuagent.agent.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.gpuagent.agent.logging.DaemonLog;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The daemon's stop order: by stage, whatever the order of starting; a failure stops nothing else. */
class ShutdownTest {
    private final List<String> stopped = new ArrayList<>();

    @AfterEach
    void restoreLog() {
        DaemonLog.configure(System.err, System.getenv());
    }

    private AutoCloseable step(String name) {
        return () -> stopped.add(name);
    }

    @Test
    void stagesStopInTheirDeclaredOrderAndWithinAStageTheLastStartedFirst() {
        Shutdown s = new Shutdown();
        // registered as the daemon starts them
        s.add(Shutdown.Stage.SAMPLING, "sampler", step("sampler"));
        s.add(Shutdown.Stage.WORKERS, "timers", step("timers"));
        s.add(Shutdown.Stage.WORKERS, "actuators", step("actuators"));
        s.add(Shutdown.Stage.REPORTING, "reporting", step("reporting"));
        s.add(Shutdown.Stage.LEDGER, "ledger", step("ledger"));
        s.add(Shutdown.Stage.METRICS, "metrics", step("metrics"));
        s.add(Shutdown.Stage.REFUSE_REQUESTS, "refuse", step("refuse"));
        s.add(Shutdown.Stage.API, "api", step("api"));

        s.run();

        assertEquals(List.of("refuse", "ledger", "api", "sampler", "metrics", "actuators", "timers", "reporting"),
                stopped);
    }

    @Test
    void aPartThatFailsToStopIsLoggedAndTheRestStillStop() {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        DaemonLog.configure(new PrintStream(log, true, StandardCharsets.UTF_8), Map.of());
        Shutdown s = new Shutdown();
        s.add(Shutdown.Stage.LEDGER, "ledger", () -> {
            throw new IOException("disk gone");
        });
        s.add(Shutdown.Stage.SAMPLING, "sampler", step("sampler"));

        s.run();

        assertEquals(List.of("sampler"), stopped);
        assertTrue(log.toString(StandardCharsets.UTF_8).contains("WARN while stopping: ledger: IOException: disk gone"),
                log.toString(StandardCharsets.UTF_8));
    }

    @Test
    void itRunsOnceAndIgnoresWhatIsAddedAfter() {
        Shutdown s = new Shutdown();
        s.add(Shutdown.Stage.API, "api", step("api"));
        s.run();
        s.add(Shutdown.Stage.SAMPLING, "late", step("late"));
        s.run();
        assertEquals(List.of("api"), stopped);
    }
}
