package org.gpuagent.exporter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import org.gpuagent.scheduler.Decision;
import org.junit.jupiter.api.Test;

class SchedulerMetricsTest {
    private final GpuMetrics metrics = GpuMetrics.builder().jvmMetrics(false)
            .services(List.of("frigate", "ollama")).build();

    private Exposition scrape() {
        return Exposition.parse(metrics.scrapeText());
    }

    @Test
    void configuredServicesStartAtZeroSoTheFirstEventIsSeen() {
        Exposition e = scrape();
        assertEquals(0, e.value("nvgpu_admissions_total{outcome=\"admitted\",service=\"frigate\"}"));
        assertEquals(0, e.value("nvgpu_admissions_total{outcome=\"admitted_after_preemption\",service=\"ollama\"}"));
        assertEquals(0, e.value("nvgpu_preemptions_total{service=\"ollama\"}"));
        assertEquals(0, e.value("nvgpu_fail_open_admissions_total{service=\"frigate\"}"));
        assertFalse(e.hasMetric("nvgpu_vram_budget_bytes"), "no ledger view published yet: no series");
    }

    @Test
    void everyDenialSeriesOfAConfiguredServiceExistsAtZeroBeforeTheFirstDenial() {
        Exposition e = scrape();
        for (String service : List.of("frigate", "ollama")) {
            for (Decision.Reason r : Decision.Reason.values()) {
                String series = "nvgpu_admissions_total{outcome=\"denied_" + r.label() + "\",service=\"" + service
                        + "\"}";
                if (r == Decision.Reason.UNKNOWN_SERVICE) {
                    assertFalse(e.has(series), "a configured service is never unknown: " + series);
                } else if (r == Decision.Reason.LEASE_NOT_FOUND || r == Decision.Reason.LEASE_EVICTING) {
                    assertFalse(e.has(series), "a resize-only reason is born on first use: " + series);
                } else {
                    assertEquals(0, e.value(series), series);
                }
            }
        }
        assertEquals(0, e.value("nvgpu_admissions_total{outcome=\"denied_unknown_service\",service=\"unknown\"}"));
        metrics.scheduler().denied("ollama", "insufficient_vram", Duration.ZERO);
        metrics.scheduler().denied("ollama", "insufficient_vram", Duration.ZERO);
        assertEquals(2, scrape().value("nvgpu_admissions_total{outcome=\"denied_insufficient_vram\",service=\"ollama\"}"),
                "the pre-created series is the one the denials count in");
    }

    @Test
    void eventsCountPerServiceAndOutcome() {
        SchedulerMetrics s = metrics.scheduler();
        s.admitted("frigate", false, Duration.ZERO);
        s.admitted("ollama", true, Duration.ofSeconds(2));
        s.denied("ollama", "DEADLINE_PASSED", Duration.ofSeconds(30));
        s.denied("ollama", "deadline_passed", Duration.ofSeconds(30));
        s.preempted("frigate");
        s.denied("plex", "unknown service!", Duration.ZERO);
        s.failOpenAdmissions("frigate", 2);
        s.failOpenAdmissions("frigate", 0);
        s.failOpenAdmissions("plex", 1);
        Exposition e = scrape();
        assertEquals(2, e.value("nvgpu_fail_open_admissions_total{service=\"frigate\"}"));
        assertEquals(1, e.value("nvgpu_fail_open_admissions_total{service=\"unknown\"}"));
        assertEquals(1, e.value("nvgpu_admissions_total{outcome=\"admitted\",service=\"frigate\"}"));
        assertEquals(1, e.value("nvgpu_admissions_total{outcome=\"admitted_after_preemption\",service=\"ollama\"}"));
        assertEquals(2, e.value("nvgpu_admissions_total{outcome=\"denied_deadline_passed\",service=\"ollama\"}"));
        assertEquals(1, e.value("nvgpu_admissions_total{outcome=\"denied_unknown_service_\",service=\"unknown\"}"),
                "an unknown service name cannot add label values; the reason is reduced to [a-z0-9_]");
        assertEquals(1, e.value("nvgpu_preemptions_total{service=\"frigate\"}"));
        assertEquals(5, e.value("nvgpu_admission_duration_seconds_count"));
        assertEquals(30, e.value("nvgpu_admission_duration_seconds{quantile=\"0.99\"}"), 1e-9);
    }

    @Test
    void theLedgerViewBecomesGauges() {
        metrics.publish(new SchedulerMetricsView(4000, 3000, List.of(
                new SchedulerMetricsView.ServiceVram("frigate", 1000, 1200),
                new SchedulerMetricsView.ServiceVram("ollama", 1500, 0)), 2));
        Exposition e = scrape();
        assertEquals(4000, e.value("nvgpu_vram_budget_bytes"));
        assertEquals(3000, e.value("nvgpu_vram_committed_bytes"));
        assertEquals(1000, e.value("nvgpu_vram_headroom_bytes"));
        assertEquals(1000, e.value("nvgpu_vram_leased_bytes{service=\"frigate\"}"));
        assertEquals(1200, e.value("nvgpu_vram_observed_bytes{service=\"frigate\"}"));
        assertEquals(0, e.value("nvgpu_vram_observed_bytes{service=\"ollama\"}"));
        assertEquals(2, e.value("nvgpu_admission_queue_length"));

        metrics.publish(new SchedulerMetricsView(4000, 4500, List.of(), 0));
        e = scrape();
        assertEquals(0, e.value("nvgpu_vram_headroom_bytes"), "over-committed: headroom is 0, not negative");
        assertFalse(e.hasMetric("nvgpu_vram_leased_bytes"), "a later view replaces the earlier one");
    }

    @Test
    void theJournalsHealthIsAGaugeAndItsFailuresACounter() {
        metrics.publish(new SchedulerMetricsView(4000, 3000, List.of(), 0, new SchedulerMetricsView.Journal(false, 3,
                java.util.Optional.of("No space left on device"))));
        Exposition e = scrape();
        assertEquals(0, e.value("nvgpu_journal_healthy"));
        assertEquals(3, e.value("nvgpu_journal_write_failures_total"));
        assertEquals(java.util.Optional.of("the ledger journal cannot be written: No space left on device"),
                metrics.problem());
        metrics.publish(new SchedulerMetricsView(4000, 3000, List.of(), 0, new SchedulerMetricsView.Journal(true, 3,
                java.util.Optional.empty())));
        e = scrape();
        assertEquals(1, e.value("nvgpu_journal_healthy"));
        assertEquals(3, e.value("nvgpu_journal_write_failures_total"), "a counter: failures stay counted");
        assertEquals(java.util.Optional.empty(), metrics.problem());
    }

    @Test
    void aBadViewIsRefusedWithAMessage() {
        assertThrows(IllegalArgumentException.class, () -> new SchedulerMetricsView.Journal(true, 0,
                java.util.Optional.of("x")));
        assertThrows(IllegalArgumentException.class, () -> new SchedulerMetricsView.Journal(false, 1,
                java.util.Optional.empty()));
        assertThrows(IllegalArgumentException.class, () -> new SchedulerMetricsView.Journal(true, -1,
                java.util.Optional.empty()));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new SchedulerMetricsView(1, 0,
                List.of(new SchedulerMetricsView.ServiceVram("a", 0, 0), new SchedulerMetricsView.ServiceVram("a", 0, 0)),
                0));
        assertTrue(e.getMessage().contains("twice"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new SchedulerMetricsView(-1, 0, List.of(), 0));
        assertTrue(e.getMessage().contains("negative"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new SchedulerMetricsView.ServiceVram("a", -5, 0));
        assertTrue(e.getMessage().contains("service a"), e.getMessage());
    }

    @Test
    void withoutConfiguredServicesEveryNameCountsAsItIs() {
        GpuMetrics open = GpuMetrics.builder().jvmMetrics(false).build();
        open.scheduler().preempted("immich");
        assertEquals(1, Exposition.parse(open.scrapeText()).value("nvgpu_preemptions_total{service=\"immich\"}"));
    }

    @Test
    void reasonLabelsAreLowerSnakeCase() {
        assertEquals("insufficient_vram", SchedulerMetrics.reasonLabel("INSUFFICIENT_VRAM"));
        assertEquals("a_b_c", SchedulerMetrics.reasonLabel("a-b c"));
        assertEquals("unspecified", SchedulerMetrics.reasonLabel(""));
    }
}
