package org.gpuagent.agent.daemon;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.gpuagent.agent.api.LeaseJson;
import org.gpuagent.scheduler.ByteSize;
import org.gpuagent.agent.notify.Notification;
import org.gpuagent.agent.notify.NotificationEvent;
import org.gpuagent.agent.notify.Severity;
import org.gpuagent.scheduler.Lease;
import org.gpuagent.scheduler.LedgerEvent;

/**
 * The notification of a ledger event: which kind it is, a headline, its sentence, and its fields
 * (always {@code service} first, then what the event carries: the lease as the API shows it, sizes
 * in bytes, waits in milliseconds). Rollbacks and unattributed use are not notified.
 */
final class LedgerNotifications {
    private static final Map<Class<? extends LedgerEvent>, NotificationEvent> KINDS = Map.of(
            LedgerEvent.Admitted.class, NotificationEvent.ADMITTED,
            LedgerEvent.Queued.class, NotificationEvent.QUEUED,
            LedgerEvent.Denied.class, NotificationEvent.DENIED,
            LedgerEvent.Preempted.class, NotificationEvent.PREEMPTED,
            LedgerEvent.Evicted.class, NotificationEvent.EVICTED,
            LedgerEvent.Released.class, NotificationEvent.RELEASED,
            LedgerEvent.Reclaimed.class, NotificationEvent.RECLAIMED,
            LedgerEvent.OverUse.class, NotificationEvent.OVER_USE);

    private LedgerNotifications() {
    }

    /** The notification event of a ledger event; empty for those not notified. */
    static Optional<NotificationEvent> eventOf(LedgerEvent e) {
        return Optional.ofNullable(KINDS.get(e.getClass()));
    }

    /** The notification of ledger event {@code e}, of kind {@code kind}: a denial's severity depends on its reason. */
    static Notification notification(NotificationEvent kind, LedgerEvent e) {
        Headline h = headline(e);
        Severity severity = e instanceof LedgerEvent.Denied d ? NotificationEvent.severityOfDenial(d.reason().label())
                : kind.severity();
        return new Notification(kind, severity, h.title(), e.sentence(), e.at(), Optional.of(h.service()), Map.of(),
                h.fields());
    }

    private record Headline(String service, String title, Map<String, Object> fields) {
    }

    private static Headline headline(LedgerEvent e) {
        if (e instanceof LedgerEvent.Admitted a) {
            Lease l = a.lease();
            return of(l.service(), l.service() + " got " + ByteSize.format(l.bytes()) + " of VRAM"
                    + (a.victims().isEmpty() ? "" : " by preemption"), "lease", LeaseJson.of(l),
                    "preempted", a.victims().stream().map(v -> v.id().value()).toList(),
                    "waitedMs", a.waited().toMillis());
        } else if (e instanceof LedgerEvent.Queued q) {
            return of(q.service(), q.service() + " waits for " + ByteSize.format(q.bytes()) + " of VRAM",
                    "bytes", q.bytes(), "position", q.position(), "deadline", q.deadline().toString());
        } else if (e instanceof LedgerEvent.Denied d) {
            return of(d.service(), d.service() + " denied " + ByteSize.format(d.bytes()) + " of VRAM",
                    "bytes", d.bytes(), "reason", d.reason().label(), "shortfallBytes", d.shortfallBytes(),
                    "waitedMs", d.waited().toMillis());
        } else if (e instanceof LedgerEvent.Preempted p) {
            Lease l = p.victim();
            return of(l.service(), l.service() + " preempted for " + p.forService(), "lease", LeaseJson.of(l),
                    "forService", p.forService());
        } else if (e instanceof LedgerEvent.Evicted ev) {
            return of(ev.lease().service(), ev.lease().service() + " gave its VRAM back",
                    "lease", LeaseJson.of(ev.lease()));
        } else if (e instanceof LedgerEvent.Released r) {
            Lease l = r.lease();
            return of(l.service(), l.service() + " released " + ByteSize.format(l.bytes()) + " of VRAM",
                    "lease", LeaseJson.of(l));
        } else if (e instanceof LedgerEvent.Reclaimed r) {
            Lease l = r.lease();
            return of(l.service(), l.service() + "'s lease reclaimed: its holder is gone", "lease", LeaseJson.of(l),
                    "goneSince", r.goneSince().toString());
        } else if (e instanceof LedgerEvent.OverUse o) {
            return of(o.service(), o.service() + " uses " + ByteSize.format(o.observedBytes()) + " of VRAM, leased "
                    + ByteSize.format(o.leasedBytes()), "holder", o.holder().orElse(null),
                    "leasedBytes", o.leasedBytes(), "observedBytes", o.observedBytes());
        }
        throw new IllegalArgumentException("no notification for " + e.getClass().getSimpleName());
    }

    /** {@code service}, then the fields given as name, value, name, value... */
    private static Headline of(String service, String title, Object... namesAndValues) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("service", service);
        for (int i = 0; i < namesAndValues.length; i += 2) {
            m.put((String) namesAndValues[i], namesAndValues[i + 1]);
        }
        return new Headline(service, title, m);
    }
}
