package org.gpuagent.bench.replay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ScenarioLoaderTest {
    @TempDir
    Path dir;

    String refusal(String scenario) throws Exception {
        Files.writeString(dir.resolve("table.yaml"), CardReplayTest.TABLE);
        Path p = dir.resolve("day.yaml");
        Files.writeString(p, scenario);
        return assertThrows(ScenarioException.class, () -> ScenarioLoader.load(p)).getMessage();
    }

    @Test
    void aSyntaxErrorIsRefusedWithItsLine() throws Exception {
        String broken = CardReplayTest.TINY.replace("  frigate: {priority: critical, request: 1GiB}",
                "  frigate: {priority: critical, request: 1GiB");
        String message = refusal(broken);
        // The flow mapping opened on line 6 is found unclosed at the start of line 7.
        assertTrue(message.startsWith(dir.resolve("day.yaml") + ":7: not valid YAML: "), message);
    }

    @Test
    void anUnknownKindIsRefusedWithItsLine() throws Exception {
        String message = refusal(CardReplayTest.TINY.replace("kind: stream, from", "kind: strem, from"));
        assertEquals(dir.resolve("day.yaml") + ":11: unknown kind 'strem' (the table " + dir.resolve("table.yaml")
                + " has cam, stream, model)", message);
    }

    @Test
    void anUnknownServiceInAPolicyIsRefusedWithItsLine() throws Exception {
        String message = refusal(CardReplayTest.TINY.replace("    per-request: false",
                "    per-request: false\n    priorities: {jelyfin: batch}"));
        assertEquals(dir.resolve("day.yaml") + ":17: unknown service 'jelyfin' (services: frigate, jellyfin, ollama)",
                message);
    }

    @Test
    void aKindOfAServiceTheScenarioLeavesOutIsRefused() throws Exception {
        String message = refusal(CardReplayTest.TINY.replace("  ollama: {priority: opportunistic, request: 2GiB, "
                + "preemptible: true, wait: 1m, evicts-in: 5s}\n", ""));
        assertEquals(dir.resolve("day.yaml") + ":11: kind 'model' belongs to service 'ollama', which the scenario "
                + "does not configure (services: frigate, jellyfin)", message);
    }

    @Test
    void anUnknownKeyIsRefusedWithItsLine() throws Exception {
        String message = refusal(CardReplayTest.TINY.replace("seed: 7", "seed: 7\nsede: 8"));
        assertEquals(dir.resolve("day.yaml") + ":4: unknown key 'sede' in the scenario (expected one of card, fit, "
                + "name, policies, seed, services, table, workloads)", message);
    }

    @Test
    void aPolicyDefinedTwiceIsRefusedAtTheSecond() throws Exception {
        String message = refusal(CardReplayTest.TINY.replace("  - name: service leases", "  - name: per request"));
        assertEquals(dir.resolve("day.yaml") + ":15: policy 'per request' is defined twice", message);
    }

    @Test
    void theCliRefusesInOneLine() throws Exception {
        Files.writeString(dir.resolve("table.yaml"), CardReplayTest.TABLE);
        Path p = dir.resolve("day.yaml");
        Files.writeString(p, "name: [");
        assertEquals(2, ReplayMain.run(new String[] {p.toString()}));
    }
}
