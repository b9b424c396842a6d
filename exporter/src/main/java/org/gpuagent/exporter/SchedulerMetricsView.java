package org.gpuagent.exporter;

import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The ledger as the exporter shows it: the input behind {@code nvgpu_vram_*} and
 * {@code nvgpu_admission_queue_length}. The agent fills it from the scheduler's ledger view each
 * time the ledger changes (and after each reconciliation) and hands it to
 * {@link GpuMetrics#publish(SchedulerMetricsView)}.
 *
 * @param budgetBytes    B: device total minus the configured reserve
 * @param committedBytes C: Σ over leases of max(leased, observed) plus use no lease accounts for
 * @param services       every configured service, leased and observed, in configuration order
 * @param queueLength    requests waiting for admission
 * @param journal        whether the ledger journal can be written ({@code nvgpu_journal_*}, and
 *                       {@code /healthz})
 */
public record SchedulerMetricsView(long budgetBytes, long committedBytes, List<ServiceVram> services, int queueLength,
        Journal journal) {

    /** A view with a writable journal that never failed. */
    public SchedulerMetricsView(long budgetBytes, long committedBytes, List<ServiceVram> services, int queueLength) {
        this(budgetBytes, committedBytes, services, queueLength, Journal.HEALTHY);
    }

    /**
     * The ledger journal's health.
     *
     * @param healthy       it can store records (false from a failed write until a retry succeeds)
     * @param writeFailures failed writes and retries since the agent started
     * @param problem       why it is not healthy; present exactly when not
     */
    public record Journal(boolean healthy, long writeFailures, Optional<String> problem) {
        public static final Journal HEALTHY = new Journal(true, 0, Optional.empty());

        public Journal {
            Objects.requireNonNull(problem, "problem");
            if (healthy == problem.isPresent()) {
                throw new IllegalArgumentException("a journal problem is given exactly when it is not healthy");
            }
            if (writeFailures < 0) {
                throw new IllegalArgumentException("write failures must not be negative, got " + writeFailures);
            }
        }
    }

    /**
     * One service's share.
     *
     * @param leasedBytes   Σ of its counted (active and evicting) leases
     * @param observedBytes what NVML showed its processes using in the last observation
     */
    public record ServiceVram(String service, long leasedBytes, long observedBytes) {
        public ServiceVram {
            Objects.requireNonNull(service, "service");
            if (service.isBlank()) {
                throw new IllegalArgumentException("a service needs a name");
            }
            if (leasedBytes < 0 || observedBytes < 0) {
                throw new IllegalArgumentException("service " + service + ": leased (" + leasedBytes
                        + ") and observed (" + observedBytes + ") bytes must not be negative");
            }
        }
    }

    public SchedulerMetricsView {
        if (budgetBytes < 0 || committedBytes < 0) {
            throw new IllegalArgumentException("budget (" + budgetBytes + ") and committed (" + committedBytes
                    + ") bytes must not be negative");
        }
        if (queueLength < 0) {
            throw new IllegalArgumentException("queue length must not be negative, got " + queueLength);
        }
        Objects.requireNonNull(journal, "journal");
        services = List.copyOf(services);
        Set<String> seen = new HashSet<>();
        for (ServiceVram s : services) {
            if (!seen.add(s.service())) {
                throw new IllegalArgumentException("service " + s.service() + " appears twice in the scheduler view");
            }
        }
    }

    /**
     * What a request could still be granted now without preemption: B − C, at least 0. (Not the
     * configured reserve that the budget leaves free for the driver and the display.)
     */
    public long headroomBytes() {
        return Math.max(0, budgetBytes - committedBytes);
    }
}
