package org.gpuagent.bench.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The capacity curve's answers and chart, on canned steps (the measurement itself is a benchmark). */
class AgentCapacityTest {
    static final List<AgentCapacity.Step> STEPS = List.of(
            new AgentCapacity.Step("admitRelease", 1, 4, 15, 200, 62_000),
            new AgentCapacity.Step("admitRelease", 4, 4, 19.5, 900, 64_000),
            new AgentCapacity.Step("admitRelease", 16, 6, 48, 2_500, 66_000),
            new AgentCapacity.Step("scrape", 1, 0.1, 2.5, 9_000, 66_000));

    @Test
    void theAnswerIsTheHighestRateWhoseP99MeetsTheTarget() {
        assertEquals("- admissions and releases: at most 900 /s with p99 at or under 20 ms (4 clients, p99 19.50 ms).\n",
                AgentCapacity.answer(STEPS, "admitRelease", 20, "admissions and releases"));
        assertEquals("- scrapes: no step kept p99 at or under 2 ms.\n", AgentCapacity.answer(STEPS, "scrape", 2, "scrapes"));
    }

    @Test
    void theTableHasOneRowPerStepAndTheChartOnePointPerStep() {
        String md = AgentCapacity.markdown(STEPS);
        assertTrue(md.contains("| admitRelease | 16 | 6.00 ms | 48.00 ms | 2,500 /s | 64.5 MiB |\n"), md);
        String svg = CapacityChart.svg(STEPS);
        assertEquals(4, svg.split("<circle ").length - 1, svg);
        assertTrue(svg.contains("target 20 ms") && svg.contains("target 2 ms"), svg);
    }
}
