package org.gpuagent.exporter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * The whole exposition (JVM and scrape-count families aside) of the simulated homelab at seed 42
 * and a fixed clock, against golden files: any change of a name, label, HELP text, unit or value
 * shows up as a diff to review. Regenerate: {@code mvn verify -pl exporter -am -Dgolden.update=true}.
 */
class GoldenExpositionTest {
    private static final String OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8";

    @Test
    void prometheusTextFormatMatchesTheGoldenFile() throws Exception {
        try (HomelabScenario s = HomelabScenario.started()) {
            Golden.assertMatches("homelab-p1000.prom", s.metrics.scrapeText(HomelabScenario.DETERMINISTIC));
        }
    }

    @Test
    void openMetricsMatchesTheGoldenFile() throws Exception {
        try (HomelabScenario s = HomelabScenario.started()) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            s.metrics.write(out, OPENMETRICS, HomelabScenario.DETERMINISTIC);
            String text = out.toString(StandardCharsets.UTF_8);
            assertTrue(text.endsWith("# EOF\n"), "OpenMetrics ends with # EOF");
            Golden.assertMatches("homelab-p1000.om.txt", text);
        }
    }

    @Test
    void theSameInputsGiveTheSameExpositionTwice() {
        String first;
        try (HomelabScenario s = HomelabScenario.started()) {
            first = s.metrics.scrapeText(HomelabScenario.DETERMINISTIC);
        }
        try (HomelabScenario s = HomelabScenario.started()) {
            assertEquals(first, s.metrics.scrapeText(HomelabScenario.DETERMINISTIC));
        }
    }

    @Test
    void theDiffNamesTheChangedLines() {
        String d = Golden.diff("a\nb\nc\n", "a\nB\nc\nd\n");
        assertEquals("- b\n+ B\n+ d", d);
    }
}
