package org.gpuagent.exporter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The whole exposition (JVM and scrape-count families aside) of the simulated homelab at seed 42
 * and a fixed clock, against golden files: any change of a name, label, HELP text, unit or value
 * shows up as a diff to review. Regenerate: {@code mvn verify -pl exporter -am -Dgolden.update=true}.
 */
class GoldenExpositionTest {
    private static final String OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8";

    private static String scrape(HomelabScenario s, String accept) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        s.metrics.write(out, accept);
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void prometheusTextFormatMatchesTheGoldenFile() throws Exception {
        try (HomelabScenario s = HomelabScenario.started()) {
            Golden.assertMatches("homelab-p1000.prom", HomelabScenario.deterministicLines(scrape(s, null)));
        }
    }

    @Test
    void openMetricsMatchesTheGoldenFile() throws Exception {
        try (HomelabScenario s = HomelabScenario.started()) {
            String text = scrape(s, OPENMETRICS);
            assertTrue(text.endsWith("# EOF\n"), "OpenMetrics ends with # EOF");
            assertEquals(text.indexOf("# EOF"), text.lastIndexOf("# EOF"), "one # EOF");
            Golden.assertMatches("homelab-p1000.om.txt", HomelabScenario.deterministicLines(text));
        }
    }

    /** A scrape of every family says what a scrape by names says, before and after new data. */
    @ParameterizedTest
    @ValueSource(strings = {"text/plain", OPENMETRICS})
    void theWholeScrapeSaysWhatAScrapeByNamesSays(String accept) throws Exception {
        try (HomelabScenario s = HomelabScenario.started()) {
            for (int round = 0; round < 2; round++) {
                ByteArrayOutputStream full = new ByteArrayOutputStream();
                s.metrics.write(full, accept, HomelabScenario.DETERMINISTIC);
                assertEquals(sortedLines(full.toString(StandardCharsets.UTF_8)),
                        sortedLines(HomelabScenario.deterministicLines(scrape(s, accept))));
                s.time.advanceSeconds(1);
                s.sampler.collectOnce();
                s.metrics.scheduler().preempted("ollama");
            }
        }
    }

    private static List<String> sortedLines(String text) {
        List<String> lines = new ArrayList<>(List.of(text.split("\n")));
        lines.removeIf(String::isEmpty);
        Collections.sort(lines);
        return lines;
    }

    @Test
    void theSameInputsGiveTheSameExpositionTwice() {
        String first;
        try (HomelabScenario s = HomelabScenario.started()) {
            first = HomelabScenario.deterministicLines(s.metrics.scrapeText());
        }
        try (HomelabScenario s = HomelabScenario.started()) {
            assertEquals(first, HomelabScenario.deterministicLines(s.metrics.scrapeText()));
        }
    }

    @Test
    void theDiffNamesTheChangedLines() {
        String d = Golden.diff("a\nb\nc\n", "a\nB\nc\nd\n");
        assertEquals("- b\n+ B\n+ d", d);
    }
}
