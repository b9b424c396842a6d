package org.gpuagent.scheduler;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * What the ledger needs to know before the first observation.
 *
 * @param deviceTotalBytes the card's memory; used until an {@link Observation} reports the real
 *                         total
 * @param headroomBytes    memory kept free for the driver, the display and fragmentation; when
 *                         absent, the larger of 5 % of the total and 192 MiB
 * @param services         every service that may ask; names unique
 */
public record SchedulerConfig(long deviceTotalBytes, OptionalLong headroomBytes, List<Service> services) {

    public static final long MIN_DEFAULT_HEADROOM = 192 * ByteSize.MIB;

    public SchedulerConfig {
        Objects.requireNonNull(headroomBytes, "headroomBytes");
        services = List.copyOf(services);
        if (deviceTotalBytes <= 0) {
            throw new IllegalArgumentException("device total must be positive, got " + deviceTotalBytes);
        }
        if (headroomBytes.isPresent() && headroomBytes.getAsLong() < 0) {
            throw new IllegalArgumentException("headroom must not be negative, got " + headroomBytes.getAsLong());
        }
        Map<String, Service> seen = new LinkedHashMap<>();
        for (Service s : services) {
            if (seen.putIfAbsent(s.name(), s) != null) {
                throw new IllegalArgumentException("service " + s.name() + " is configured twice");
            }
        }
        long budget = deviceTotalBytes - headroomFor(deviceTotalBytes, headroomBytes);
        if (budget <= 0) {
            throw new IllegalArgumentException("headroom " + ByteSize.format(headroomFor(deviceTotalBytes, headroomBytes))
                    + " leaves no budget on a " + ByteSize.format(deviceTotalBytes) + " device");
        }
    }

    /** The default headroom for {@code total}: the larger of 5 % and 192 MiB. */
    public static long defaultHeadroom(long total) {
        return Math.max(total / 20, MIN_DEFAULT_HEADROOM);
    }

    private static long headroomFor(long total, OptionalLong configured) {
        return configured.isPresent() ? configured.getAsLong() : defaultHeadroom(total);
    }

    /** The headroom on a device of {@code total} bytes. */
    public long headroomFor(long total) {
        return Math.min(total, headroomFor(total, headroomBytes));
    }

    /** B = total − headroom, never negative. */
    public long budgetFor(long total) {
        return Math.max(0, total - headroomFor(total));
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
