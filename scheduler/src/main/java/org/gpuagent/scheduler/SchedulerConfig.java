package org.gpuagent.scheduler;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What the ledger needs to know before the first observation.
 *
 * @param deviceTotalBytes the card's memory; used until an {@link Observation} reports the real
 *                         total
 * @param headroom         memory kept free for the driver, the display and fragmentation, on
 *                         whatever total the device reports
 * @param services         every service that may ask; names unique
 */
public record SchedulerConfig(long deviceTotalBytes, Headroom headroom, List<Service> services) {

    /**
     * @throws IllegalArgumentException the total is not positive, a service is configured twice,
     *                                  or the headroom leaves no budget ({@link Misfit.Kind#NO_BUDGET});
     *                                  the other misfits are for the caller to refuse ({@link #misfits()})
     */
    public SchedulerConfig {
        Objects.requireNonNull(headroom, "headroom");
        services = List.copyOf(services);
        if (deviceTotalBytes <= 0) {
            throw new IllegalArgumentException("device total must be positive, got " + deviceTotalBytes);
        }
        Map<String, Service> seen = new LinkedHashMap<>();
        for (Service s : services) {
            if (seen.putIfAbsent(s.name(), s) != null) {
                throw new IllegalArgumentException("service " + s.name() + " is configured twice");
            }
        }
        Optional<Misfit> noBudget = Misfit.noBudget(deviceTotalBytes, headroom);
        if (noBudget.isPresent()) {
            throw new IllegalArgumentException(noBudget.get().sentence());
        }
    }

    /** The budget on a device of {@code total} bytes (the ledger follows the total it observes). */
    public Budget budgetOn(long total) {
        return Budget.on(total, headroom);
    }

    /** What keeps these services from running on the configured device: see {@link Misfit#of}. */
    public List<Misfit> misfits() {
        return Misfit.of(deviceTotalBytes, headroom, services);
    }

    public Optional<Service> service(String name) {
        for (Service s : services) {
            if (s.name().equals(name)) {
                return Optional.of(s);
            }
        }
        return Optional.empty();
    }

    /** Services by name, in configuration order. */
    public Map<String, Service> servicesByName() {
        Map<String, Service> m = new LinkedHashMap<>();
        services.forEach(s -> m.put(s.name(), s));
        return Collections.unmodifiableMap(m);
    }
}
