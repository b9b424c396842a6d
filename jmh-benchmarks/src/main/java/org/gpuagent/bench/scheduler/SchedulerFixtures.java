package org.gpuagent.bench.scheduler;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import org.gpuagent.scheduler.ByteSize;
import org.gpuagent.scheduler.Headroom;
import org.gpuagent.scheduler.PriorityClass;
import org.gpuagent.scheduler.SchedulerConfig;
import org.gpuagent.scheduler.Service;
import org.gpuagent.scheduler.Timers;

/** Shared set-up for the scheduler benchmarks: the four homelab services, a fixed clock. */
final class SchedulerFixtures {
    static final Instant START = Instant.parse("2025-06-01T12:00:00Z");
    static final InstantSource CLOCK = InstantSource.fixed(START);

    /** No benchmark waits in the queue; a timer being asked for means the set-up is wrong. */
    static final Timers NO_TIMERS = (at, action) -> {
        throw new IllegalStateException("benchmark requests must not wait");
    };

    static final List<Service> SERVICES = List.of(
            new Service("frigate", PriorityClass.CRITICAL, ByteSize.GIB, false, Duration.ofSeconds(30),
                    Duration.ofSeconds(30), 64 * ByteSize.MIB),
            new Service("jellyfin", PriorityClass.INTERACTIVE, 512 * ByteSize.MIB, true, Duration.ofSeconds(10),
                    Duration.ofSeconds(30), 64 * ByteSize.MIB),
            new Service("immich", PriorityClass.BATCH, ByteSize.GIB, true, Duration.ofSeconds(20),
                    Duration.ofSeconds(30), 64 * ByteSize.MIB),
            new Service("ollama", PriorityClass.OPPORTUNISTIC, 2560 * ByteSize.MIB, true, Duration.ofSeconds(30),
                    Duration.ofSeconds(30), 64 * ByteSize.MIB));

    static final List<String> NON_CRITICAL = List.of("jellyfin", "immich", "ollama");

    private SchedulerFixtures() {
    }

    static SchedulerConfig config(long totalBytes) {
        return new SchedulerConfig(totalBytes, Headroom.fixed(0), SERVICES);
    }
}
