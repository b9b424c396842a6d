package org.gpuagent.agent.daemon;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;
import org.gpuagent.agent.FailOpenRecord;
import org.gpuagent.agent.api.LeaseJson;
import org.gpuagent.agent.logging.DaemonLog;
import org.gpuagent.agent.notify.Notification;
import org.gpuagent.agent.notify.NotificationEvent;
import org.gpuagent.agent.notify.Notifier;
import org.gpuagent.agent.notify.Severity;
import org.gpuagent.exporter.SchedulerMetrics;
import org.gpuagent.nvml.sampler.GpuSnapshot;
import org.gpuagent.nvml.sampler.XidCount;
import org.gpuagent.nvml.sampler.XidEvent;
import org.gpuagent.scheduler.ByteSize;
import org.gpuagent.scheduler.LedgerEvent;
import org.gpuagent.scheduler.LedgerListener;

/**
 * What the daemon says about what happens: one log line per ledger event (its sentence), the
 * admission and preemption counters, notifications, the GPU's own events (lost, back, Xid
 * errors) from the sampler's snapshots, and the fail-open starts a client recorded while the
 * agent was away.
 *
 * <p>The ledger calls {@link #onEvent} on its writer: the counters are updated there (an
 * increment), and the log line and the notifications are handed to one reporting thread, in
 * order, so neither a slow stderr nor a slow receiver can hold the writer (the {@link Notifier}
 * itself only queues).
 */
final class EventReporter implements LedgerListener, Consumer<GpuSnapshot> {
    /** Unattributed use is logged when it moved by at least this much since the last line. */
    static final long UNATTRIBUTED_LOG_STEP = 64 * ByteSize.MIB;

    private final SchedulerMetrics metrics;
    private final Notifier notifier;
    private final ExecutorService reporting;
    private long lastLoggedUnattributed;
    // sampler thread only
    private GpuSnapshot.Status lastStatus;
    private long xidTotal;

    EventReporter(SchedulerMetrics metrics, Notifier notifier, ExecutorService reporting) {
        this.metrics = metrics;
        this.notifier = notifier;
        this.reporting = reporting;
    }

    @Override
    public void onEvent(LedgerEvent event) {
        if (event instanceof LedgerEvent.Admitted a) {
            metrics.admitted(a.lease().service(), !a.victims().isEmpty(), a.waited());
        } else if (event instanceof LedgerEvent.Denied d) {
            metrics.denied(d.service(), d.reason().label(), d.waited());
        } else if (event instanceof LedgerEvent.Preempted p) {
            metrics.preempted(p.victim().service());
        }
        if (event instanceof LedgerEvent.UnattributedUse u) {
            if (Math.abs(u.bytes() - lastLoggedUnattributed) < UNATTRIBUTED_LOG_STEP) {
                return;
            }
            lastLoggedUnattributed = u.bytes();
        }
        submit(() -> report(event));
    }

    private void report(LedgerEvent event) {
        DaemonLog.Severity severity = event instanceof LedgerEvent.OverUse || event instanceof LedgerEvent.RolledBack
                ? DaemonLog.Severity.WARN : DaemonLog.Severity.INFO;
        DaemonLog.log(severity, event.sentence(), null);
        Optional<NotificationEvent> kind = LedgerNotifications.eventOf(event);
        if (kind.isPresent() && notifier.wants(kind.get())) {
            notifier.notify(LedgerNotifications.notification(kind.get(), event));
        }
    }

    /**
     * What clients recorded in {@code stateDir} while the agent was away ({@link FailOpenRecord}):
     * reported once ({@link #failOpen}), then emptied. A record that cannot be read is one warning.
     */
    void failOpenRecord(Path stateDir, Instant now) {
        try {
            FailOpenRecord.Contents record = FailOpenRecord.drain(stateDir);
            if (!record.isEmpty()) {
                failOpen(record, now);
            }
        } catch (IOException | RuntimeException e) {
            DaemonLog.warn("cannot read the fail-open record " + FailOpenRecord.file(stateDir) + ": "
                    + DaemonLog.describe(e) + "; starts made without the agent are not reported");
        }
    }

    /**
     * Starts that went ahead without the agent (fail-open), from the state directory's record
     * read at start: per entry a warning line, the {@code nvgpu_fail_open_admissions_total}
     * counter and a {@code fail-open} webhook; entries the full record could only count are
     * reported as counts.
     */
    void failOpen(FailOpenRecord.Contents record, Instant readAt) {
        for (FailOpenRecord.Entry e : record.entries()) {
            metrics.failOpenAdmissions(e.service(), 1);
            String sentence = e.service() + " started without a lease at " + e.at()
                    + e.holder().map(h -> " (holder " + h + ")").orElse("") + ": the agent could not be reached ("
                    + e.reason() + ") and " + e.service() + " is fail-open";
            submit(() -> {
                DaemonLog.warn(sentence);
                Map<String, Object> details = new LinkedHashMap<>();
                details.put("service", e.service());
                details.put("holder", e.holder().orElse(null));
                details.put("reason", e.reason());
                details.put("count", 1);
                failOpenEvent(e.service(), e.service() + " started without a lease", sentence, e.at(), details);
            });
        }
        record.dropped().forEach((service, count) -> {
            metrics.failOpenAdmissions(service, count);
            String sentence = count + " more start(s) of " + service + " without a lease were not recorded in "
                    + "detail (the fail-open record was full)";
            submit(() -> {
                DaemonLog.warn(sentence);
                Map<String, Object> details = new LinkedHashMap<>();
                details.put("service", service);
                details.put("count", count);
                failOpenEvent(service, service + " started " + count + " time(s) without a lease", sentence, readAt,
                        details);
            });
        });
        if (record.unreadableLines() > 0) {
            submit(() -> DaemonLog.warn(record.unreadableLines() + " line(s) of the fail-open record could not be read"));
        }
    }

    private void failOpenEvent(String service, String title, String sentence, Instant at, Map<String, Object> details) {
        if (notifier.wants(NotificationEvent.FAIL_OPEN)) {
            notifier.notify(new Notification(NotificationEvent.FAIL_OPEN, NotificationEvent.FAIL_OPEN.severity(), title,
                    sentence, at, Optional.of(service), Map.of(), details));
        }
    }

    /** Sampler listener: the GPU lost or back, and new Xid errors. */
    @Override
    public void accept(GpuSnapshot s) {
        GpuSnapshot.Status previous = lastStatus;
        lastStatus = s.status();
        if (previous != null && previous != s.status()) {
            String detail = s.statusDetail().map(d -> ": " + d).orElse("");
            if (s.status() == GpuSnapshot.Status.LOST) {
                String sentence = "the GPU was lost" + detail;
                submit(() -> {
                    DaemonLog.error(sentence);
                    gpuEvent(NotificationEvent.GPU_LOST, NotificationEvent.GPU_LOST.severity(), "GPU lost", sentence,
                            s.publishedAt(), Map.of(), Map.of());
                });
            } else if (s.status() == GpuSnapshot.Status.STALE) {
                submit(() -> DaemonLog.warn("GPU data is stale" + detail));
            } else if (s.status() == GpuSnapshot.Status.OK) {
                String sentence = "the GPU answers again (was " + previous.name().toLowerCase(java.util.Locale.ROOT) + ")";
                boolean wasLost = previous == GpuSnapshot.Status.LOST;
                submit(() -> {
                    DaemonLog.info(sentence);
                    if (wasLost) {
                        gpuEvent(NotificationEvent.GPU_RECOVERED, NotificationEvent.GPU_RECOVERED.severity(),
                                "GPU back", sentence, s.publishedAt(), Map.of(), Map.of());
                    }
                });
            }
        }
        long total = 0;
        for (XidCount c : s.xidCounts()) {
            total += c.count();
        }
        long fresh = total - xidTotal;
        xidTotal = total;
        List<XidEvent> recent = s.recentXids();
        for (int i = (int) Math.max(0, recent.size() - fresh); i < recent.size(); i++) {
            XidEvent x = recent.get(i);
            String sentence = "Xid " + x.xid() + " on GPU " + x.deviceIndex() + " (" + x.uuid() + ")";
            submit(() -> {
                DaemonLog.warn(sentence);
                Map<String, Object> details = new LinkedHashMap<>();
                details.put("xid", x.xid());
                details.put("gpu", x.deviceIndex());
                details.put("uuid", x.uuid());
                gpuEvent(NotificationEvent.XID, NotificationEvent.severityOfXid(x.xid()), "Xid " + x.xid() + " on GPU "
                        + x.deviceIndex(), sentence, x.observedAt(), Map.of("gpu", Integer.toString(x.deviceIndex()),
                        "uuid", x.uuid(), "xid", Long.toString(x.xid())), details);
            });
        }
    }

    private void gpuEvent(NotificationEvent kind, Severity severity, String title, String sentence, Instant at,
                          Map<String, String> labels, Map<String, Object> details) {
        if (notifier.wants(kind)) {
            notifier.notify(new Notification(kind, severity, title, sentence, at, Optional.empty(), labels, details));
        }
    }

    private void submit(Runnable r) {
        try {
            reporting.execute(r);
        } catch (RejectedExecutionException e) {
            // shutting down: the line is not worth blocking for
        }
    }
}
