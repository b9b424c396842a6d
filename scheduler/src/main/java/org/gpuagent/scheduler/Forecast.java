package org.gpuagent.scheduler;

import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What the ledger would decide for a request now, without deciding it (a dry run): nothing is
 * leased, queued, evicted, journaled, counted or told to listeners. The same rules as
 * {@link AdmissionController#request}, on the ledger as it is at that moment; a request made a
 * moment later may meet another ledger.
 *
 * @param outcome        what would happen
 * @param service        the service asked for
 * @param bytes          the size asked for (the service's default when none was given)
 * @param preempted      for {@link Outcome#PREEMPT}: the leases that would be evicted
 * @param awaited        for {@link Outcome#WAIT}: evicting leases whose memory it would wait for
 * @param position       for {@link Outcome#WAIT}: its 1-based place in the queue; else 0
 * @param deadline       for WAIT and PREEMPT: when it would give up
 * @param reason         for {@link Outcome#DENY}: why
 * @param shortfallBytes for DENY: as {@link Decision.Denied#shortfallBytes()}; else 0
 * @param sentence       the decision's sentence (for ADMIT, one saying what would be left free)
 */
public record Forecast(Outcome outcome, String service, long bytes, List<Lease> preempted, List<Lease> awaited,
        int position, Optional<Instant> deadline, Optional<Decision.Reason> reason, long shortfallBytes,
        String sentence) {

    public Forecast {
        Objects.requireNonNull(outcome, "outcome");
        Objects.requireNonNull(service, "service");
        Objects.requireNonNull(deadline, "deadline");
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(sentence, "sentence");
        preempted = List.copyOf(preempted);
        awaited = List.copyOf(awaited);
    }

    public enum Outcome {
        /** Admitted on arrival. */
        ADMIT,
        /** Lower-priority leases would be preempted; admitted once their memory is back. */
        PREEMPT,
        /** It would queue (behind others, or for memory evictions are giving back, or to free). */
        WAIT,
        /** Refused. */
        DENY;

        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    static Forecast deny(String service, long bytes, Decision.Reason reason, long shortfall, String sentence) {
        return new Forecast(Outcome.DENY, service, bytes, List.of(), List.of(), 0, Optional.empty(),
                Optional.of(reason), Math.max(0, shortfall), sentence);
    }

    static Forecast waiting(String service, long bytes, List<Lease> awaited, int position, Instant deadline,
            String sentence) {
        return new Forecast(Outcome.WAIT, service, bytes, List.of(), awaited, position, Optional.of(deadline),
                Optional.empty(), 0, sentence);
    }
}
