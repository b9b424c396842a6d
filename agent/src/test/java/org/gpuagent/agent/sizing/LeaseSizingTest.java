package org.gpuagent.agent.sizing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.gpuagent.scheduler.Lease;
import org.gpuagent.scheduler.LeaseId;
import org.gpuagent.scheduler.LedgerEvent;
import org.gpuagent.scheduler.LedgerView;
import org.gpuagent.scheduler.Observation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LeaseSizingTest {
    private static final long MIB = 1L << 20;
    private static final Instant T0 = Instant.parse("2026-12-06T20:00:00Z");
    private static final String HDR = "ffmpeg:dec=gpu,enc=gpu,out=1080p,tonemap=cuda,outputs=1";

    @TempDir
    Path state;
    private final List<String> warnings = new ArrayList<>();
    private int recorded;

    private LeaseSizing sizing() throws Exception {
        return new LeaseSizing(LearnedSizes.open(state), FfmpegSizeTable.DEFAULTS, Runnable::run, warnings::add,
                () -> recorded++);
    }

    private static Lease lease(long id, String holder) {
        return Lease.active(new LeaseId(id), "jellyfin", 700 * MIB, Optional.of(holder), List.of(), T0);
    }

    private static LedgerView view(Lease... leases) {
        return new LedgerView(1, 4096 * MIB, 0, 4096 * MIB, 0, 0, 0, Optional.empty(), List.of(leases), List.of(),
                List.of());
    }

    private static Observation seen(String holder, long bytes) {
        return Observation.builder(T0, 4096 * MIB).holder("jellyfin", holder, bytes).build();
    }

    @Test
    void aLeaseLearnedElsewhereIsNeitherFollowedNorRecorded() throws Exception {
        LeaseSizing s = new LeaseSizing(LearnedSizes.open(state), FfmpegSizeTable.DEFAULTS, Runnable::run,
                warnings::add, () -> recorded++, l -> l.holder().orElse("").startsWith("model-owner:"));
        Lease own = lease(1, "model-owner:qwen");
        Lease adopted = lease(2, "model-owner:llama");
        Lease other = lease(3, "exec:100");
        s.adopt(List.of(adopted));
        s.onEvent(new LedgerEvent.Admitted(T0, 1, own, List.of(), Duration.ZERO, "granted"));
        s.onEvent(new LedgerEvent.Admitted(T0, 2, other, List.of(), Duration.ZERO, "granted"));
        Observation o = Observation.builder(T0, 4096 * MIB).holder("jellyfin", "model-owner:qwen", 900 * MIB)
                .holder("jellyfin", "model-owner:llama", 800 * MIB).holder("jellyfin", "exec:100", 300 * MIB).build();
        s.observe(o, view(own, adopted, other));
        for (Lease l : List.of(own, adopted, other)) {
            s.onEvent(new LedgerEvent.Released(T0.plusSeconds(60), l, "released"));
        }
        assertEquals(1, recorded);
        assertEquals(List.of(new LearnedSizes.Peak(T0.plusSeconds(60), 300 * MIB)),
                LearnedSizes.open(state).history("jellyfin", ""));
    }

    @Test
    void aLeasesPeakIsRecordedUnderItsSignatureWhenItEnds() throws Exception {
        LeaseSizing s = sizing();
        Lease l = lease(1, "exec:100");
        s.onEvent(new LedgerEvent.Admitted(T0, 1, l, List.of(), Duration.ZERO, "granted"));
        s.granted(l.id(), HDR);
        for (long mib : new long[] {200, 1400, 900}) {
            s.observe(seen("exec:100", mib * MIB), view(l));
        }
        s.onEvent(new LedgerEvent.Released(T0.plusSeconds(60), l, "released"));
        assertEquals(List.of(new LearnedSizes.Peak(T0.plusSeconds(60), 1400 * MIB)),
                LearnedSizes.open(state).history("jellyfin", HDR));
        assertEquals(1, recorded);
    }

    @Test
    void theLearnedPeakWinsOverTheTable() throws Exception {
        LeaseSizing s = sizing();
        assertEquals(OptionalLong.of(FfmpegSizeTable.DEFAULTS.estimate(FfmpegShape.fromSignature(HDR).orElseThrow())),
                s.autoBytes("jellyfin", Optional.of(HDR)));
        s.store().record("jellyfin", HDR, 1444 * MIB, T0);
        assertEquals(OptionalLong.of(1444 * MIB), s.autoBytes("jellyfin", Optional.of(HDR)));
        assertEquals(OptionalLong.empty(), s.autoBytes("jellyfin", Optional.of("exec:python3")),
                "no history and no table: the service's request");
        assertEquals(OptionalLong.empty(), s.autoBytes("jellyfin", Optional.empty()));
    }

    @Test
    void twoLeasesOfOneHolderOrNoUseLearnNothing() throws Exception {
        LeaseSizing s = sizing();
        Lease a = lease(1, "systemd:jellyfin.service");
        Lease b = lease(2, "systemd:jellyfin.service");
        Lease idle = lease(3, "exec:300");
        for (Lease l : List.of(a, b, idle)) {
            s.onEvent(new LedgerEvent.Admitted(T0, l.id().value(), l, List.of(), Duration.ZERO, "granted"));
        }
        s.observe(seen("systemd:jellyfin.service", 900 * MIB), view(a, b, idle));
        for (Lease l : List.of(a, b, idle)) {
            s.onEvent(new LedgerEvent.Reclaimed(T0, l, T0, "reclaimed"));
        }
        assertTrue(LearnedSizes.open(state).all().isEmpty());
        assertEquals(0, recorded);
    }
}
