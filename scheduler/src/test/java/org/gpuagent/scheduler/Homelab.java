package org.gpuagent.scheduler;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.gpuagent.scheduler.testing.ManualTime;

/**
 * The four services of the architecture on a card with round numbers: 4 GiB, no headroom unless a
 * test asks, so budgets read plainly. Times start at 12:00:00 UTC.
 */
final class Homelab {
    static final long MIB = ByteSize.MIB;
    static final long GIB = ByteSize.GIB;
    static final Instant START = Instant.parse("2025-06-01T12:00:00Z");

    static final Service FRIGATE = new Service("frigate", PriorityClass.CRITICAL, GIB, false,
            Duration.ofSeconds(30), Duration.ofSeconds(30), 64 * MIB);
    static final Service JELLYFIN = new Service("jellyfin", PriorityClass.INTERACTIVE, 512 * MIB, true,
            Duration.ofSeconds(10), Duration.ofSeconds(30), 64 * MIB);
    static final Service IMMICH = new Service("immich", PriorityClass.BATCH, GIB, true,
            Duration.ofSeconds(20), Duration.ofSeconds(30), 64 * MIB);
    static final Service OLLAMA = new Service("ollama", PriorityClass.OPPORTUNISTIC, 2560 * MIB, true,
            Duration.ofSeconds(30), Duration.ofSeconds(30), 64 * MIB);
    /** An opportunistic service that cannot be evicted. */
    static final Service BACKUP = new Service("backup", PriorityClass.OPPORTUNISTIC, 256 * MIB, false,
            Duration.ofSeconds(30), Duration.ofSeconds(30), 64 * MIB);

    static final List<Service> SERVICES = List.of(FRIGATE, JELLYFIN, IMMICH, OLLAMA, BACKUP);

    private Homelab() {
    }

    static SchedulerConfig config(long totalBytes, long headroomBytes) {
        return new SchedulerConfig(totalBytes, Headroom.fixed(headroomBytes), SERVICES);
    }

    /** A controller on a 4 GiB card without headroom, in virtual time, journal-less. */
    static Rig rig() {
        return rig(config(4 * GIB, 0));
    }

    static Rig rig(SchedulerConfig config) {
        return new Rig(config);
    }

    /** A controller plus its clock, an evictor that records orders, and an event log. */
    static final class Rig {
        final ManualTime time = new ManualTime(START);
        final List<Evictor.Order> evictions = Collections.synchronizedList(new ArrayList<>());
        final List<LedgerEvent> events = Collections.synchronizedList(new ArrayList<>());
        final AdmissionController controller;

        Rig(SchedulerConfig config) {
            controller = AdmissionController.builder(config, time, time)
                    .zone(ZoneOffset.UTC)
                    .evictor(order -> {
                        evictions.add(order);
                        return CompletableFuture.completedFuture(null);
                    })
                    .listener(events::add)
                    .build();
        }

        Admission ask(String service, long bytes) {
            return controller.request(AdmissionRequest.of(service).withBytes(bytes));
        }

        Admission ask(String service, long bytes, String holder) {
            return controller.request(AdmissionRequest.of(service).withBytes(bytes).withHolder(holder));
        }

        Admission askWaiting(String service, long bytes, String holder, Duration wait) {
            return controller.request(AdmissionRequest.of(service).withBytes(bytes).withHolder(holder).withWait(wait));
        }

        /** Asks and expects an immediate admission; returns the lease. */
        Lease admit(String service, long bytes, String holder) {
            Decision.Final d = now(ask(service, bytes, holder).outcome());
            if (!(d instanceof Decision.Admitted a)) {
                throw new AssertionError("expected an admission, got " + d);
            }
            return a.lease();
        }

        void observe(Observation o) {
            now(controller.observe(o));
        }

        LedgerView view() {
            return controller.view();
        }

        <T> List<T> eventsOf(Class<T> type) {
            List<T> out = new ArrayList<>();
            synchronized (events) {
                for (LedgerEvent e : events) {
                    if (type.isInstance(e)) {
                        out.add(type.cast(e));
                    }
                }
            }
            return out;
        }

        Observation.Builder observation() {
            return Observation.builder(time.instant(), controller.view().deviceTotalBytes());
        }
    }

    /** The value of a future that must already be complete (the in-memory ledger decides inline). */
    static <T> T now(CompletableFuture<T> f) {
        if (!f.isDone()) {
            throw new AssertionError("expected the future to be complete already");
        }
        return f.join();
    }

    static <T> T await(CompletableFuture<T> f) {
        try {
            return f.get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("future did not complete: " + e, e);
        }
    }
}
