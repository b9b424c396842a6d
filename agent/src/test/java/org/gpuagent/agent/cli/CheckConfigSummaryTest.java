package org.gpuagent.agent.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.gpuagent.agent.config.ConfigLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The one line check-config prints about a valid configuration reads as English for any count. */
class CheckConfigSummaryTest {

    @Test
    void oneServiceIsSingular(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("one.yaml");
        Files.writeString(f, "services:\n  ollama:\n    priority: opportunistic\n    request: 2GiB\n",
                StandardCharsets.UTF_8);
        String line = CheckConfigCommand.summary(ConfigLoader.load(f));
        assertTrue(line.startsWith("1 service: ollama (opportunistic, 2 GiB); "), line);
    }

    @Test
    void theBuiltInFourArePlural() {
        String line = CheckConfigCommand.summary(ConfigLoader.builtInDefault());
        assertTrue(line.startsWith("4 services: frigate ("), line);
    }
}
