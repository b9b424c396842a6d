package org.gpuagent.agent.daemon;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;
import org.gpuagent.agent.FailOpenRecord;
import org.gpuagent.agent.api.LeaseJson;
import org.gpuagent.agent.config.ByteSize;
import org.gpuagent.agent.logging.DaemonLog;
import org.gpuagent.exporter.SchedulerMetrics;
import org.gpuagent.nvml.sampler.GpuSnapshot;
import org.gpuagent.nvml.sampler.XidCount;
import org.gpuagent.nvml.sampler.XidEvent;
import org.gpuagent.scheduler.LedgerEvent;
import org.gpuagent.scheduler.LedgerListener;

/**
 * What the daemon says about what happens: one log line per ledger event (its sentence), the
 * admission and preemption counters, webhooks, the GPU's own events (lost, back, Xid errors)
 * from the sampler's snapshots, and the fail-open starts a client recorded while the agent was
 * away.
 *
 * <p>The ledger calls {@link #onEvent} on its writer: the counters are updated there (an
 * increment), and the log line and the webhooks are handed to one reporting thread, in order, so
 * neither a slow stderr nor a slow webhook can hold the writer.
 */
final class EventReporter implements LedgerListener, Consumer<GpuSnapshot> {
    /** Unattributed use is logged when it moved by at least this much since the last line. */
    static final long UNATTRIBUTED_LOG_STEP = 64 * ByteSize.MIB;
    static final String FAIL_OPEN = "fail-open";

    private final SchedulerMetrics metrics;
    private final WebhookNotifier webhooks;
    private final ExecutorService reporting;
    private long lastLoggedUnattributed;
    // sampler thread only
    private GpuSnapshot.Status lastStatus;
    private long xidTotal;

    EventReporter(SchedulerMetrics metrics, WebhookNotifier webhooks, ExecutorService reporting) {
        this.metrics = metrics;
        this.webhooks = webhooks;
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
        String name = eventName(event);
        if (name != null && webhooks.wants(name)) {
            webhooks.notify(name, payload(name, event));
        }
    }

    /** The webhook event name of a ledger event; null for those not offered to webhooks. */
    static String eventName(LedgerEvent e) {
        if (e instanceof LedgerEvent.Admitted) {
            return "admitted";
        } else if (e instanceof LedgerEvent.Queued) {
            return "queued";
        } else if (e instanceof LedgerEvent.Denied) {
            return "denied";
        } else if (e instanceof LedgerEvent.Preempted) {
            return "preempted";
        } else if (e instanceof LedgerEvent.Evicted) {
            return "evicted";
        } else if (e instanceof LedgerEvent.Released) {
            return "released";
        } else if (e instanceof LedgerEvent.Reclaimed) {
            return "reclaimed";
        } else if (e instanceof LedgerEvent.OverUse) {
            return "over-use";
        }
        return null;
    }

    static Map<String, Object> payload(String name, LedgerEvent e) {
        Map<String, Object> m = base(name, e.at(), e.sentence());
        if (e instanceof LedgerEvent.Admitted a) {
            m.put("service", a.lease().service());
            m.put("lease", LeaseJson.of(a.lease()));
            m.put("preempted", a.victims().stream().map(v -> v.id().value()).toList());
            m.put("waitedMs", a.waited().toMillis());
        } else if (e instanceof LedgerEvent.Queued q) {
            m.put("service", q.service());
            m.put("bytes", q.bytes());
            m.put("position", q.position());
            m.put("deadline", q.deadline().toString());
        } else if (e instanceof LedgerEvent.Denied d) {
            m.put("service", d.service());
            m.put("bytes", d.bytes());
            m.put("reason", d.reason().label());
            m.put("shortfallBytes", d.shortfallBytes());
            m.put("waitedMs", d.waited().toMillis());
        } else if (e instanceof LedgerEvent.Preempted p) {
            m.put("service", p.victim().service());
            m.put("lease", LeaseJson.of(p.victim()));
            m.put("forService", p.forService());
        } else if (e instanceof LedgerEvent.Evicted ev) {
            m.put("service", ev.lease().service());
            m.put("lease", LeaseJson.of(ev.lease()));
        } else if (e instanceof LedgerEvent.Released r) {
            m.put("service", r.lease().service());
            m.put("lease", LeaseJson.of(r.lease()));
        } else if (e instanceof LedgerEvent.Reclaimed r) {
            m.put("service", r.lease().service());
            m.put("lease", LeaseJson.of(r.lease()));
            m.put("goneSince", r.goneSince().toString());
        } else if (e instanceof LedgerEvent.OverUse o) {
            m.put("service", o.service());
            m.put("holder", o.holder().orElse(null));
            m.put("leasedBytes", o.leasedBytes());
            m.put("observedBytes", o.observedBytes());
        }
        return m;
    }

    private static Map<String, Object> base(String name, Instant at, String sentence) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("event", name);
        m.put("at", at.toString());
        m.put("message", sentence);
        return m;
    }

    /**
     * Starts that went ahead without the agent (fail-open), from the state directory's record
     * read at start: per entry a warning line, the {@code nvgpu_fail_open_admissions_total}
     * counter and a {@code fail-open} webhook; entries the full record could only count are
     * reported as counts.
     */
    void failOpen(FailOpenRecord.Contents record) {
        for (FailOpenRecord.Entry e : record.entries()) {
            metrics.failOpenAdmissions(e.service(), 1);
            String sentence = e.service() + " started without a lease at " + e.at()
                    + e.holder().map(h -> " (holder " + h + ")").orElse("") + ": the agent could not be reached ("
                    + e.reason() + ") and " + e.service() + " is fail-open";
            submit(() -> {
                DaemonLog.warn(sentence);
                if (webhooks.wants(FAIL_OPEN)) {
                    Map<String, Object> m = base(FAIL_OPEN, e.at(), sentence);
                    m.put("service", e.service());
                    m.put("holder", e.holder().orElse(null));
                    m.put("reason", e.reason());
                    m.put("count", 1);
                    webhooks.notify(FAIL_OPEN, m);
                }
            });
        }
        record.dropped().forEach((service, count) -> {
            metrics.failOpenAdmissions(service, count);
            String sentence = count + " more start(s) of " + service + " without a lease were not recorded in "
                    + "detail (the fail-open record was full)";
            submit(() -> {
                DaemonLog.warn(sentence);
                if (webhooks.wants(FAIL_OPEN)) {
                    Map<String, Object> m = base(FAIL_OPEN, java.time.Instant.now(), sentence);
                    m.put("service", service);
                    m.put("count", count);
                    webhooks.notify(FAIL_OPEN, m);
                }
            });
        });
        if (record.unreadableLines() > 0) {
            submit(() -> DaemonLog.warn(record.unreadableLines() + " line(s) of the fail-open record could not be read"));
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
                    if (webhooks.wants("gpu-lost")) {
                        webhooks.notify("gpu-lost", base("gpu-lost", s.publishedAt(), sentence));
                    }
                });
            } else if (s.status() == GpuSnapshot.Status.STALE) {
                submit(() -> DaemonLog.warn("GPU data is stale" + detail));
            } else if (s.status() == GpuSnapshot.Status.OK) {
                submit(() -> DaemonLog.info("the GPU answers again (was " + previous.name().toLowerCase(java.util.Locale.ROOT) + ")"));
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
                if (webhooks.wants("xid")) {
                    Map<String, Object> m = base("xid", x.observedAt(), sentence);
                    m.put("xid", x.xid());
                    m.put("gpu", x.deviceIndex());
                    m.put("uuid", x.uuid());
                    webhooks.notify("xid", m);
                }
            });
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
