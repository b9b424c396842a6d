package org.gpuagent.agent.daemon;

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
        Optional<NotificationEvent> kind = eventOf(event);
        if (kind.isPresent() && notifier.wants(kind.get())) {
            notifier.notify(notification(kind.get(), event));
        }
    }

    /** The notification event of a ledger event; empty for those not notified (rollbacks, unattributed use). */
    static Optional<NotificationEvent> eventOf(LedgerEvent e) {
        NotificationEvent n = null;
        if (e instanceof LedgerEvent.Admitted) {
            n = NotificationEvent.ADMITTED;
        } else if (e instanceof LedgerEvent.Queued) {
            n = NotificationEvent.QUEUED;
        } else if (e instanceof LedgerEvent.Denied) {
            n = NotificationEvent.DENIED;
        } else if (e instanceof LedgerEvent.Preempted) {
            n = NotificationEvent.PREEMPTED;
        } else if (e instanceof LedgerEvent.Evicted) {
            n = NotificationEvent.EVICTED;
        } else if (e instanceof LedgerEvent.Released) {
            n = NotificationEvent.RELEASED;
        } else if (e instanceof LedgerEvent.Reclaimed) {
            n = NotificationEvent.RECLAIMED;
        } else if (e instanceof LedgerEvent.OverUse) {
            n = NotificationEvent.OVER_USE;
        }
        return Optional.ofNullable(n);
    }

    /** The notification of ledger event {@code e}: its severity, a headline, its sentence and its fields. */
    static Notification notification(NotificationEvent kind, LedgerEvent e) {
        Map<String, Object> m = new LinkedHashMap<>();
        String service;
        String title;
        Severity severity = kind.severity();
        if (e instanceof LedgerEvent.Admitted a) {
            service = a.lease().service();
            m.put("service", service);
            m.put("lease", LeaseJson.of(a.lease()));
            m.put("preempted", a.victims().stream().map(v -> v.id().value()).toList());
            m.put("waitedMs", a.waited().toMillis());
            title = service + " got " + ByteSize.format(a.lease().bytes()) + " of VRAM"
                    + (a.victims().isEmpty() ? "" : " by preemption");
        } else if (e instanceof LedgerEvent.Queued q) {
            service = q.service();
            m.put("service", service);
            m.put("bytes", q.bytes());
            m.put("position", q.position());
            m.put("deadline", q.deadline().toString());
            title = service + " waits for " + ByteSize.format(q.bytes()) + " of VRAM";
        } else if (e instanceof LedgerEvent.Denied d) {
            service = d.service();
            m.put("service", service);
            m.put("bytes", d.bytes());
            m.put("reason", d.reason().label());
            m.put("shortfallBytes", d.shortfallBytes());
            m.put("waitedMs", d.waited().toMillis());
            severity = NotificationEvent.severityOfDenial(d.reason().label());
            title = service + " denied " + ByteSize.format(d.bytes()) + " of VRAM";
        } else if (e instanceof LedgerEvent.Preempted p) {
            service = p.victim().service();
            m.put("service", service);
            m.put("lease", LeaseJson.of(p.victim()));
            m.put("forService", p.forService());
            title = service + " preempted for " + p.forService();
        } else if (e instanceof LedgerEvent.Evicted ev) {
            service = ev.lease().service();
            m.put("service", service);
            m.put("lease", LeaseJson.of(ev.lease()));
            title = service + " gave its VRAM back";
        } else if (e instanceof LedgerEvent.Released r) {
            service = r.lease().service();
            m.put("service", service);
            m.put("lease", LeaseJson.of(r.lease()));
            title = service + " released " + ByteSize.format(r.lease().bytes()) + " of VRAM";
        } else if (e instanceof LedgerEvent.Reclaimed r) {
            service = r.lease().service();
            m.put("service", service);
            m.put("lease", LeaseJson.of(r.lease()));
            m.put("goneSince", r.goneSince().toString());
            title = service + "'s lease reclaimed: its holder is gone";
        } else if (e instanceof LedgerEvent.OverUse o) {
            service = o.service();
            m.put("service", service);
            m.put("holder", o.holder().orElse(null));
            m.put("leasedBytes", o.leasedBytes());
            m.put("observedBytes", o.observedBytes());
            title = service + " uses " + ByteSize.format(o.observedBytes()) + " of VRAM, leased "
                    + ByteSize.format(o.leasedBytes());
        } else {
            throw new IllegalArgumentException("no notification for " + e.getClass().getSimpleName());
        }
        return new Notification(kind, severity, title, e.sentence(), e.at(), Optional.of(service), Map.of(), m);
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
