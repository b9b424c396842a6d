package org.gpuagent.agent.ollama;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import org.gpuagent.agent.logging.DaemonLog;
import org.gpuagent.scheduler.ByteSize;
import org.gpuagent.scheduler.Lease;
import org.gpuagent.scheduler.LeaseState;

/**
 * Keeps the Ollama service's own leases (not model leases) at the runner's overhead: with the
 * proxy, the models' memory is leased per model, and a service lease admitted for "Ollama and its
 * models" would count it twice. {@link ModelLeases#poll} shrinks them to what they are seen to use
 * once each model lease has had its share ({@link ModelUse#split}), at least {@link #FLOOR}.
 * Thread-safe: the observation is replaced whole.
 */
final class RunnerOverhead {
    /** The smallest size a service lease is shrunk to, and the slack kept before shrinking one. */
    static final long FLOOR = 64 * ByteSize.MIB;

    private final ModelLedger ledger;
    private volatile Map<Optional<String>, Long> serviceUse = Map.of();

    RunnerOverhead(ModelLedger ledger) {
        this.ledger = ledger;
    }

    /** The service's observed use by holder, models' shares taken out. */
    void observed(Map<Optional<String>, Long> use) {
        serviceUse = Map.copyOf(use);
    }

    /**
     * Shrinks each active service lease more than {@link #FLOOR} above its observed use (so a
     * poll does not journal a resize for every small change) to that use, at least {@link #FLOOR};
     * never grows one. Nothing before the first observation. Appends what it did to {@code did}.
     */
    void shrink(StringBuilder did) throws InterruptedException {
        Map<Optional<String>, Long> use = serviceUse;
        if (use.isEmpty()) {
            return;
        }
        for (Lease l : ledger.serviceLeases()) {
            if (l.state() != LeaseState.ACTIVE || l.holder().map(h -> h.startsWith(ModelName.HOLDER_PREFIX))
                    .orElse(false)) {
                continue;
            }
            long target = Math.max(FLOOR, use.getOrDefault(l.holder(), 0L));
            if (l.bytes() > target + FLOOR) {
                try {
                    long after = ledger.resize(l.id(), target).get();
                    did.append("shrank ").append(l.describe()).append(" to the runner's ")
                            .append(ByteSize.format(after)).append("; ");
                } catch (ExecutionException e) {
                    did.append("cannot shrink ").append(l.describe()).append(": ")
                            .append(DaemonLog.describe(e.getCause())).append("; ");
                }
            }
        }
    }
}
