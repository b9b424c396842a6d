package org.gpuagent.scheduler;

import java.time.Duration;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A GPU consumer the ledger arbitrates for.
 *
 * @param name                 unique, as used in requests, sentences and metric labels
 *                             ({@code [A-Za-z0-9][A-Za-z0-9._-]*}, at most 64 characters)
 * @param priority             its class; decides queue order and who may preempt whom
 * @param defaultRequestBytes  what a request without a size asks for; includes the CUDA context
 *                             overhead of each process (about 150-300 MiB on Pascal)
 * @param preemptible          whether a more important request may evict it; never true for
 *                             {@link PriorityClass#CRITICAL}
 * @param evictionDeadline     how long its actuator may take to give the memory back; a request
 *                             that preempted it waits at least this long for the memory
 * @param reconciliationGrace  how long its holder must be seen gone before its lease is reclaimed
 *                             (covers a unit that is still starting when its lease is granted)
 * @param overUseToleranceBytes how far observed use may exceed the lease before an over-use event,
 *                             and how much residual use still counts as "memory back" after
 *                             an eviction
 */
public record Service(
        String name,
        PriorityClass priority,
        long defaultRequestBytes,
        boolean preemptible,
        Duration evictionDeadline,
        Duration reconciliationGrace,
        long overUseToleranceBytes) {

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

    public static final Duration DEFAULT_EVICTION_DEADLINE = Duration.ofSeconds(30);
    public static final Duration DEFAULT_RECONCILIATION_GRACE = Duration.ofSeconds(30);
    public static final long DEFAULT_OVER_USE_TOLERANCE = 64 * ByteSize.MIB;

    public Service {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(priority, "priority");
        Objects.requireNonNull(evictionDeadline, "evictionDeadline");
        Objects.requireNonNull(reconciliationGrace, "reconciliationGrace");
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("service name '" + name
                    + "' must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit");
        }
        if (defaultRequestBytes <= 0) {
            throw new IllegalArgumentException("service " + name + ": default request must be positive, got "
                    + defaultRequestBytes + " bytes");
        }
        if (preemptible && priority == PriorityClass.CRITICAL) {
            throw new IllegalArgumentException("service " + name + ": a critical service is never preemptible");
        }
        if (evictionDeadline.isNegative() || reconciliationGrace.isNegative()) {
            throw new IllegalArgumentException("service " + name + ": durations must not be negative");
        }
        if (overUseToleranceBytes < 0) {
            throw new IllegalArgumentException("service " + name + ": over-use tolerance must not be negative");
        }
    }

    /** A service with the default deadline, grace and tolerance. */
    public static Service of(String name, PriorityClass priority, long defaultRequestBytes, boolean preemptible) {
        return new Service(name, priority, defaultRequestBytes, preemptible, DEFAULT_EVICTION_DEADLINE,
                DEFAULT_RECONCILIATION_GRACE, DEFAULT_OVER_USE_TOLERANCE);
    }

    public Service withEvictionDeadline(Duration deadline) {
        return new Service(name, priority, defaultRequestBytes, preemptible, deadline, reconciliationGrace,
                overUseToleranceBytes);
    }

    public Service withReconciliationGrace(Duration grace) {
        return new Service(name, priority, defaultRequestBytes, preemptible, evictionDeadline, grace,
                overUseToleranceBytes);
    }

    public Service withOverUseTolerance(long bytes) {
        return new Service(name, priority, defaultRequestBytes, preemptible, evictionDeadline, reconciliationGrace,
                bytes);
    }
}
