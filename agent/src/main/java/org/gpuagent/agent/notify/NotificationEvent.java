package org.gpuagent.agent.notify;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The events the agent notifies about, each with its severity and the Alertmanager alert name it
 * becomes. This is the one list: configuration validates {@code events} against it and the
 * documentation's table follows it.
 *
 * <p>Severities: a lost GPU is critical; so is an Xid that means lost memory or a GPU off the bus
 * ({@link #CRITICAL_XIDS}, the same list as the GpuXidCritical alert rule); a refusal, a preemption,
 * a reclaimed lease, an over-use and any other Xid are warnings; the rest is info. A refusal the
 * caller withdrew or one at shutdown is info ({@link #severityOfDenial}).
 */
public enum NotificationEvent {
    ADMITTED("admitted", Severity.INFO, null),
    QUEUED("queued", Severity.INFO, null),
    DENIED("denied", Severity.WARNING, null),
    PREEMPTED("preempted", Severity.WARNING, null),
    EVICTED("evicted", Severity.INFO, null),
    RELEASED("released", Severity.INFO, null),
    RECLAIMED("reclaimed", Severity.WARNING, null),
    OVER_USE("over-use", Severity.WARNING, null),
    GPU_LOST("gpu-lost", Severity.CRITICAL, null),
    /** NVML answers again after {@link #GPU_LOST}; Alertmanager gets the gpu-lost alert resolved. */
    GPU_RECOVERED("gpu-recovered", Severity.INFO, GPU_LOST),
    XID("xid", Severity.WARNING, null),
    /** A fail-open service started without a lease while the agent was unreachable (reported at the next start). */
    FAIL_OPEN("fail-open", Severity.WARNING, null);

    /** Xids that mean lost memory, a GPU off the bus or failed firmware (see the GpuXidCritical rule). */
    public static final Set<Long> CRITICAL_XIDS = Set.of(48L, 63L, 64L, 74L, 79L, 92L, 94L, 95L, 119L, 120L);

    private final String label;
    private final Severity severity;
    private final NotificationEvent resolves;

    NotificationEvent(String label, Severity severity, NotificationEvent resolves) {
        this.label = label;
        this.severity = severity;
        this.resolves = resolves;
    }

    /** The name in configuration ({@code events}) and in the JSON payload's {@code event}. */
    public String label() {
        return label;
    }

    /** The usual severity; {@link #XID} and {@link #DENIED} depend on the details. */
    public Severity severity() {
        return severity;
    }

    /** The event this one ends, if any (its alert is resolved rather than a new one raised). */
    public Optional<NotificationEvent> resolves() {
        return Optional.ofNullable(resolves);
    }

    /** {@code GpuAgent} and the label in CamelCase: {@code GpuAgentDenied}, {@code GpuAgentGpuLost}. */
    public String alertName() {
        StringBuilder b = new StringBuilder("GpuAgent");
        for (String part : label.split("-")) {
            b.append(Character.toUpperCase(part.charAt(0))).append(part.substring(1));
        }
        return b.toString();
    }

    public static Severity severityOfXid(long xid) {
        return CRITICAL_XIDS.contains(xid) ? Severity.CRITICAL : Severity.WARNING;
    }

    /** A refusal is a warning unless the caller withdrew the request or the agent was shutting down. */
    public static Severity severityOfDenial(String reasonLabel) {
        return reasonLabel.equals("cancelled") || reasonLabel.equals("shutdown") ? Severity.INFO : Severity.WARNING;
    }

    public static Optional<NotificationEvent> byLabel(String label) {
        return Arrays.stream(values()).filter(e -> e.label.equals(label)).findFirst();
    }

    public static List<String> labels() {
        return Arrays.stream(values()).map(NotificationEvent::label).toList();
    }
}
