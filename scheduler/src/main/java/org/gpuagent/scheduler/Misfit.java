package org.gpuagent.scheduler;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One way a configuration cannot work on a device of a given size. {@link #of} is the project's one
 * fit check: {@code gpu-agent check-config} runs it against {@code device-memory}, {@code gpu-agent
 * run} against the GPU it found, and {@link SchedulerConfig} refuses a headroom that leaves no
 * budget with it.
 *
 * @param kind     which rule the configuration breaks
 * @param service  the service a {@link Kind#REQUEST_EXCEEDS_BUDGET} is about; empty otherwise
 * @param sentence what is wrong, for a person; it does not name the service (the configuration's
 *                 path does)
 */
public record Misfit(Kind kind, Optional<String> service, String sentence) {

    public enum Kind {
        /** The headroom leaves nothing of the device to lease. */
        NO_BUDGET,
        /** A service's default request alone is more than the whole budget: it could never be admitted. */
        REQUEST_EXCEEDS_BUDGET,
        /** The critical services' default requests together are more than the budget: they are never preempted. */
        CRITICAL_EXCEED_BUDGET
    }

    public Misfit {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(service, "service");
        Objects.requireNonNull(sentence, "sentence");
        if (service.isPresent() != (kind == Kind.REQUEST_EXCEEDS_BUDGET)) {
            throw new IllegalArgumentException("a service is named exactly for " + Kind.REQUEST_EXCEEDS_BUDGET);
        }
    }

    /**
     * Every misfit of {@code services} on a device of {@code deviceTotalBytes}, in configuration
     * order: none when everything can run. When the headroom leaves no budget, that is the only one.
     */
    public static List<Misfit> of(long deviceTotalBytes, Headroom headroom, List<Service> services) {
        Optional<Misfit> noBudget = noBudget(deviceTotalBytes, headroom);
        if (noBudget.isPresent()) {
            return List.of(noBudget.get());
        }
        Budget budget = Budget.on(deviceTotalBytes, headroom);
        List<Misfit> found = new ArrayList<>();
        long critical = 0;
        for (Service s : services) {
            long request = s.defaultRequestBytes();
            if (budget.exceededBy(request)) {
                found.add(new Misfit(Kind.REQUEST_EXCEEDS_BUDGET, Optional.of(s.name()),
                        Sentences.requestExceedsBudget(request, budget)));
            }
            if (s.priority() == PriorityClass.CRITICAL) {
                // Saturating: two huge requests must not add up to a small negative number.
                critical = critical > Long.MAX_VALUE - request ? Long.MAX_VALUE : critical + request;
            }
        }
        if (budget.exceededBy(critical)) {
            found.add(new Misfit(Kind.CRITICAL_EXCEED_BUDGET, Optional.empty(),
                    Sentences.criticalExceedBudget(critical, budget)));
        }
        return List.copyOf(found);
    }

    /** The headroom leaves no budget on a device of {@code deviceTotalBytes}. */
    static Optional<Misfit> noBudget(long deviceTotalBytes, Headroom headroom) {
        long headroomBytes = headroom.bytesFor(deviceTotalBytes);
        if (headroomBytes < deviceTotalBytes) {
            return Optional.empty();
        }
        return Optional.of(new Misfit(Kind.NO_BUDGET, Optional.empty(),
                Sentences.noBudget(headroomBytes, deviceTotalBytes)));
    }
}
