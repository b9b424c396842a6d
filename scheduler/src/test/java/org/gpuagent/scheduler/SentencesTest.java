package org.gpuagent.scheduler;

import static org.gpuagent.scheduler.Homelab.GIB;
import static org.gpuagent.scheduler.Homelab.MIB;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** The parts sentences are made of, at their boundaries, and the sentences no scenario test reads. */
class SentencesTest {
    private static Lease lease(long id, long bytes, String holder) {
        return Lease.active(new LeaseId(id), "ollama", bytes, Optional.ofNullable(holder), List.of(7L),
                Homelab.START);
    }

    @ParameterizedTest(name = "{0} ms")
    @CsvSource({"0, 0 ms", "999, 999 ms", "1000, 1 s", "1250, 1.2 s", "59999, 59.9 s", "60000, 1 min 0 s",
        "61000, 1 min 1 s", "3599999, 59 min 59 s", "3600000, 1 h 0 min", "5460000, 1 h 31 min",
        "90061000, 25 h 1 min"})
    void durationsReadAtEveryScale(long ms, String expected) {
        assertEquals(expected, Sentences.duration(Duration.ofMillis(ms)));
    }

    @Test
    void leaseListsNameThreeAndCountTheRest() {
        Lease a = lease(1, GIB, null);
        Lease b = lease(2, 512 * MIB, null);
        Lease c = lease(3, 2 * GIB, null);
        Lease d = lease(4, MIB, null);
        assertEquals("", Sentences.leases(List.of()));
        assertEquals("ollama lease 1 (1 GiB)", Sentences.leases(List.of(a)));
        assertEquals("ollama lease 1 (1 GiB) and ollama lease 2 (512 MiB)", Sentences.leases(List.of(a, b)));
        assertEquals("ollama lease 1 (1 GiB), ollama lease 2 (512 MiB) and ollama lease 3 (2 GiB)",
                Sentences.leases(List.of(a, b, c)));
        assertEquals("ollama lease 1 (1 GiB), ollama lease 2 (512 MiB), ollama lease 3 (2 GiB) and 1 more",
                Sentences.leases(List.of(a, b, c, d)));
        assertEquals("ollama lease 1 (1 GiB), ollama lease 2 (512 MiB), ollama lease 3 (2 GiB) and 2 more",
                Sentences.leases(List.of(a, b, c, d, d)));
    }

    @Test
    void theSentencesOfRefusalsAndEvents() {
        Sentences say = new Sentences(ZoneOffset.UTC);
        Instant now = Homelab.START;
        assertEquals("frigate needs 1 GiB, 0 B is free; evicted ollama lease 1 (1 GiB) are giving memory back;"
                + " waiting until 12:00:30", say.comingBack("frigate", GIB, -5, List.of(lease(1, GIB, null)),
                now.plusSeconds(30), now));
        assertEquals("immich's request for 1 GiB was cancelled after waiting 2.5 s",
                Sentences.cancelled("immich", GIB, Duration.ofMillis(2500)));
        assertEquals("immich's request for 1 GiB was withdrawn after waiting 3 s: its holder oci:x released everything",
                Sentences.withdrawn("immich", GIB, "oci:x", Duration.ofSeconds(3)));
        assertEquals("immich's request for 1 GiB was refused: the ledger is shutting down",
                Sentences.shutdown("immich", GIB));
        assertEquals("ollama lease 4 (1 GiB) rolled back: the journal could not store it (No space left on device)",
                Sentences.rolledBack(lease(4, GIB, null), new IOException("No space left on device")));
        assertEquals("ollama (o) uses 3 GiB but leased 2 GiB, more than its 64 MiB tolerance",
                Sentences.overUse("ollama", Optional.of("o"), 2 * GIB, 3 * GIB, 64 * MIB));
        assertEquals("ollama uses 3 GiB but leased 2 GiB, more than its 64 MiB tolerance",
                Sentences.overUse("ollama", Optional.empty(), 2 * GIB, 3 * GIB, 64 * MIB));
        assertEquals("the next day at 2025-06-02 12:00:00", "the next day at " + say.time(now.plus(Duration.ofDays(1)),
                now));
    }
}
