package org.gpuagent.agent.ollama;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import org.gpuagent.scheduler.ByteSize;
import org.gpuagent.scheduler.Lease;
import org.gpuagent.scheduler.LeaseId;
import org.junit.jupiter.api.Test;

/** The Ollama service's own leases shrunk to the runner's overhead, without a ledger. */
class RunnerOverheadTest {
    private static final long MIB = ByteSize.MIB;

    /** Only what RunnerOverhead asks of a ledger: the service's leases, and resizing them. */
    private static final class ServiceLeases implements ModelLedger {
        final List<Lease> leases;
        final Map<Long, Long> resized = new TreeMap<>();

        ServiceLeases(Lease... leases) {
            this.leases = List.of(leases);
        }

        @Override
        public List<Lease> serviceLeases() {
            return leases;
        }

        @Override
        public CompletableFuture<Long> resize(LeaseId lease, long bytes) {
            resized.put(lease.value(), bytes);
            return CompletableFuture.completedFuture(bytes);
        }

        @Override
        public CompletableFuture<Grant> acquire(String holder, long bytes, Duration wait) {
            throw new UnsupportedOperationException();
        }

        @Override
        public CompletableFuture<Boolean> release(LeaseId lease) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void touch(LeaseId lease) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void onPreempt(LeaseId lease, String what, PreemptAction action) {
            throw new UnsupportedOperationException();
        }

        @Override
        public List<Lease> leasesHeldBy(String holderPrefix) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Optional<Lease> lease(LeaseId lease) {
            throw new UnsupportedOperationException();
        }
    }

    private static Lease lease(long id, long bytes, String holder) {
        return Lease.active(new LeaseId(id), "ollama", bytes, Optional.of(holder), List.of(), Instant.EPOCH);
    }

    @Test
    void serviceLeasesShrinkToTheirUseButNeverBelowTheFloorNorForASmallDifference() throws Exception {
        ServiceLeases ledger = new ServiceLeases(
                lease(1, 4096 * MIB, "systemd:ollama.service"),
                lease(2, 4096 * MIB, "systemd:idle.service"),
                lease(3, 300 * MIB, "systemd:close.service"),
                lease(4, 4096 * MIB, ModelName.holder("small:1b")));
        RunnerOverhead overhead = new RunnerOverhead(ledger);
        overhead.observed(Map.of(
                Optional.of("systemd:ollama.service"), 500 * MIB,
                Optional.of("systemd:idle.service"), 1 * MIB,
                Optional.of("systemd:close.service"), 250 * MIB,
                Optional.of(ModelName.holder("small:1b")), 1 * MIB));
        StringBuilder did = new StringBuilder();
        overhead.shrink(did);
        assertEquals(Map.of(1L, 500 * MIB, 2L, RunnerOverhead.FLOOR), ledger.resized,
                "to its use, at least the floor; within the floor of its use, or a model lease: left alone");
        assertTrue(did.toString().startsWith("shrank ollama lease 1 (4 GiB) to the runner's 500 MiB; "), did.toString());
    }

    @Test
    void nothingShrinksBeforeTheFirstObservation() throws Exception {
        ServiceLeases ledger = new ServiceLeases(lease(1, 4096 * MIB, "systemd:ollama.service"));
        StringBuilder did = new StringBuilder();
        new RunnerOverhead(ledger).shrink(did);
        assertEquals(Map.of(), ledger.resized);
        assertEquals("", did.toString());
    }
}
