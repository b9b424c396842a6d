package org.gpuagent.exporter;

import com.codahale.metrics.Timer;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.Unit;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.gpuagent.scheduler.Decision;

/**
 * The scheduler's event counters, owned by the exporter and driven by the agent from the ledger's
 * events (the scheduler itself imports nothing of Prometheus or Dropwizard), plus the series of
 * the ledger view ({@link SchedulerMetricsView}).
 *
 * <p>{@code nvgpu_admissions_total{service,outcome}}: outcome {@code admitted},
 * {@code admitted_after_preemption}, or {@code denied_<reason>} with the scheduler's reason label
 * ({@code denied_insufficient_vram}, {@code denied_deadline_passed}, ...), so
 * {@code outcome=~"denied_.*"} selects every denial. Every series a configured service can have
 * exists at 0 from the start (both admitted outcomes, a denial per scheduler reason but the
 * resize-only {@code lease_not_found} and {@code lease_evicting}, preemptions,
 * fail-open admissions),
 * so rate() and increase() see the first event: a series born at 4 after a burst of four denials
 * within one scrape would read as no increase. A service name outside the configured set (a
 * request for an unknown service) is counted under {@code service="unknown"} so that bad requests
 * cannot grow the label set; that series, {@code denied_unknown_service}, starts at 0 too.
 * {@code nvgpu_fail_open_admissions_total{service}}: starts that went ahead without the agent
 * (fail-open), reported from the record a client leaves in the state directory.
 *
 * <p>Thread-safe; the methods are cheap (a counter increment, a timer update).
 */
public final class SchedulerMetrics {
    public static final String OUTCOME_ADMITTED = "admitted";
    public static final String OUTCOME_ADMITTED_AFTER_PREEMPTION = "admitted_after_preemption";
    public static final String OUTCOME_DENIED_PREFIX = "denied_";
    public static final String UNKNOWN_SERVICE = "unknown";

    private final Set<String> services;
    private final Counter admissions;
    private final Counter preemptions;
    private final Counter failOpenAdmissions;
    private final Timer admissionTimer;
    private final PublishedFamilies view = new PublishedFamilies();
    private final Runnable changed;
    private volatile Optional<String> problem = Optional.empty();

    SchedulerMetrics(PrometheusRegistry registry, List<String> services, Timer admissionTimer, Runnable changed) {
        this.services = Set.copyOf(services);
        this.changed = changed;
        this.admissionTimer = admissionTimer;
        this.admissions = Counter.builder()
                .name("nvgpu_admissions")
                .help("Admission requests decided, per service and outcome (admitted, admitted_after_preemption, "
                        + "denied_<reason>).")
                .labelNames("service", "outcome")
                .register(registry);
        this.preemptions = Counter.builder()
                .name("nvgpu_preemptions")
                .help("Leases preempted (their service asked to give the memory back) to admit a more important "
                        + "request, per preempted service.")
                .labelNames("service")
                .register(registry);
        this.failOpenAdmissions = Counter.builder()
                .name("nvgpu_fail_open_admissions")
                .help("Starts of a fail-open service that went ahead without a lease because the agent could not "
                        + "be reached, per service; counted from the state directory's record when the agent "
                        + "starts again.")
                .labelNames("service")
                .register(registry);
        for (String s : services) {
            admissions.labelValues(s, OUTCOME_ADMITTED);
            admissions.labelValues(s, OUTCOME_ADMITTED_AFTER_PREEMPTION);
            for (Decision.Reason r : Decision.Reason.values()) {
                if (r != Decision.Reason.UNKNOWN_SERVICE && !resizeOnly(r)) {
                    admissions.labelValues(s, OUTCOME_DENIED_PREFIX + r.label());
                }
            }
            preemptions.labelValues(s);
            failOpenAdmissions.labelValues(s);
        }
        if (!services.isEmpty()) {
            admissions.labelValues(UNKNOWN_SERVICE, OUTCOME_DENIED_PREFIX + Decision.Reason.UNKNOWN_SERVICE.label());
        }
        registry.register(view);
    }

    /**
     * Reasons only a resize gets (a lease gone or being evicted): their series are born when one
     * happens, not at 0, so that the exposition of a ledger nobody resizes stays as it was.
     */
    private static boolean resizeOnly(Decision.Reason r) {
        return r == Decision.Reason.LEASE_NOT_FOUND || r == Decision.Reason.LEASE_EVICTING;
    }

    /** A request of {@code service} was granted after {@code waited} (zero when it did not wait). */
    public void admitted(String service, boolean afterPreemption, Duration waited) {
        admissions.labelValues(serviceLabel(service),
                afterPreemption ? OUTCOME_ADMITTED_AFTER_PREEMPTION : OUTCOME_ADMITTED).inc();
        admissionTimer.update(nonNegative(waited));
        changed.run();
    }

    /**
     * A request of {@code service} was refused; {@code reason} is the scheduler's reason label (e.g.
     * {@code insufficient_vram}), lower-cased and reduced to {@code [a-z0-9_]}.
     */
    public void denied(String service, String reason, Duration waited) {
        admissions.labelValues(serviceLabel(service), OUTCOME_DENIED_PREFIX + reasonLabel(reason)).inc();
        admissionTimer.update(nonNegative(waited));
        changed.run();
    }

    /** A lease of {@code victimService} was preempted. */
    public void preempted(String victimService) {
        preemptions.labelValues(serviceLabel(victimService)).inc();
        changed.run();
    }

    /**
     * {@code count} admissions of {@code service} went ahead without the agent (read from the
     * fail-open record at start).
     */
    public void failOpenAdmissions(String service, long count) {
        if (count > 0) {
            failOpenAdmissions.labelValues(serviceLabel(service)).inc(count);
            changed.run();
        }
    }

    void publish(SchedulerMetricsView v) {
        Families f = new Families();
        f.gauge("nvgpu_vram_budget_bytes", "VRAM the scheduler may hand out in bytes: device total minus the "
                + "configured reserve.", Unit.BYTES).add(Labels.EMPTY, v.budgetBytes());
        f.gauge("nvgpu_vram_committed_bytes", "VRAM counted against the budget in bytes: per lease the larger of "
                + "leased and observed, plus use no lease accounts for.", Unit.BYTES).add(Labels.EMPTY,
                v.committedBytes());
        f.gauge("nvgpu_vram_headroom_bytes", "VRAM a new request could get now without preemption, in bytes: "
                + "budget minus committed, at least 0.", Unit.BYTES).add(Labels.EMPTY, v.headroomBytes());
        Families.Family leased = f.gauge("nvgpu_vram_leased_bytes", "VRAM leased to a service in bytes (active "
                + "and evicting leases).", Unit.BYTES);
        Families.Family observed = f.gauge("nvgpu_vram_observed_bytes", "VRAM a service's processes use in "
                + "bytes, as NVML showed it in the scheduler's last observation.", Unit.BYTES);
        for (SchedulerMetricsView.ServiceVram s : v.services()) {
            Labels l = Labels.of("service", s.service());
            leased.add(l, s.leasedBytes());
            observed.add(l, s.observedBytes());
        }
        f.gauge("nvgpu_admission_queue_length", "Admission requests waiting in the queue.", null)
                .add(Labels.EMPTY, v.queueLength());
        f.gauge("nvgpu_journal_healthy", "1 while the ledger journal can be written; 0 from a failed write until "
                + "a retry succeeds (admissions are refused meanwhile).", null)
                .add(Labels.EMPTY, v.journal().healthy() ? 1 : 0);
        f.counter("nvgpu_journal_write_failures", "Failed writes of the ledger journal, retries included (a full "
                + "or failing disk).", null).add(Labels.EMPTY, v.journal().writeFailures());
        List<MetricSnapshot> built = f.build();
        view.set(built);
        problem = v.journal().problem().map(p -> "the ledger journal cannot be written: " + p);
    }

    /** What makes the agent unhealthy ({@code /healthz} answers 503 with it), or empty. */
    Optional<String> problem() {
        return problem;
    }

    private String serviceLabel(String service) {
        Objects.requireNonNull(service, "service");
        return services.isEmpty() || services.contains(service) ? service : UNKNOWN_SERVICE;
    }

    static String reasonLabel(String reason) {
        Objects.requireNonNull(reason, "reason");
        String lower = reason.toLowerCase(Locale.ROOT);
        StringBuilder b = new StringBuilder(lower.length());
        for (int i = 0; i < lower.length(); i++) {
            char c = lower.charAt(i);
            b.append((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ? c : '_');
        }
        return b.length() == 0 ? "unspecified" : b.toString();
    }

    private static Duration nonNegative(Duration d) {
        Objects.requireNonNull(d, "waited");
        return d.isNegative() ? Duration.ZERO : d;
    }
}
