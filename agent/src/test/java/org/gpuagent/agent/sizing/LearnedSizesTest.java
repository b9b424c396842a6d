package org.gpuagent.agent.sizing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LearnedSizesTest {
    private static final Instant T0 = Instant.parse("2026-12-01T20:00:00Z");
    private static final long MIB = 1L << 20;

    @TempDir
    Path dir;

    @Test
    void anEmptyStateDirectoryHasNoHistory() throws Exception {
        LearnedSizes s = LearnedSizes.open(dir);
        assertEquals(OptionalLong.empty(), s.learnedPeak("jellyfin", "ffmpeg:x"));
        assertTrue(s.all().isEmpty());
        assertFalse(Files.exists(LearnedSizes.file(dir)));
    }

    @Test
    void aRecordedPeakSurvivesAReopenInAnOwnerOnlyFile() throws Exception {
        LearnedSizes s = LearnedSizes.open(dir);
        s.record("jellyfin", "ffmpeg:a", 700 * MIB, T0);
        s.record("jellyfin", "ffmpeg:a", 900 * MIB, T0.plusSeconds(60));
        s.record("ollama", "model:llama3", 2600 * MIB, T0.plusSeconds(120));

        LearnedSizes again = LearnedSizes.open(dir);
        assertEquals(OptionalLong.of(900 * MIB), again.learnedPeak("jellyfin", "ffmpeg:a"));
        assertEquals(OptionalLong.of(2600 * MIB), again.learnedPeak("ollama", "model:llama3"));
        assertEquals(List.of(new LearnedSizes.Peak(T0, 700 * MIB), new LearnedSizes.Peak(T0.plusSeconds(60), 900 * MIB)),
                again.history("jellyfin", "ffmpeg:a"));
        assertEquals(List.of(new LearnedSizes.Key("jellyfin", "ffmpeg:a"), new LearnedSizes.Key("ollama", "model:llama3")),
                List.copyOf(again.all().keySet()));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(LearnedSizes.file(dir))));
    }

    @Test
    void historyPerKeyKeepsTheNewestPeaks() throws Exception {
        LearnedSizes s = LearnedSizes.open(dir);
        for (int i = 0; i < LearnedSizes.HISTORY_PER_KEY + 3; i++) {
            // the three oldest are the largest: once dropped, the peak falls
            s.record("jellyfin", "", i < 3 ? 5000 * MIB : (i + 1) * MIB, T0.plusSeconds(i));
        }
        List<LearnedSizes.Peak> h = LearnedSizes.open(dir).history("jellyfin", "");
        assertEquals(LearnedSizes.HISTORY_PER_KEY, h.size());
        assertEquals(T0.plusSeconds(3), h.get(0).at());
        assertEquals(OptionalLong.of((LearnedSizes.HISTORY_PER_KEY + 3) * MIB), s.learnedPeak("jellyfin", ""));
    }

    @Test
    void theKeyRecordedLongestAgoGoesFirstWhenFull() throws Exception {
        LearnedSizes s = LearnedSizes.open(dir);
        for (int i = 0; i < LearnedSizes.MAX_KEYS; i++) {
            s.record("svc", "sig" + i, MIB, T0.plusSeconds(i));
        }
        s.record("svc", "sig0", 2 * MIB, T0.plusSeconds(10_000)); // sig0 is now the newest
        s.record("svc", "new", MIB, T0.plusSeconds(10_001));
        LearnedSizes again = LearnedSizes.open(dir);
        assertEquals(LearnedSizes.MAX_KEYS, again.all().size());
        assertTrue(again.learnedPeak("svc", "sig0").isPresent());
        assertTrue(again.learnedPeak("svc", "sig1").isEmpty());
        assertTrue(again.learnedPeak("svc", "new").isPresent());
    }

    @Test
    void aDamagedFileIsAnErrorNamingIt() throws Exception {
        Files.writeString(LearnedSizes.file(dir), "{\"version\":1,\"keys\":[{\"service\":\"jellyfin\"}]}");
        LearnedSizes.DamagedException e = assertThrows(LearnedSizes.DamagedException.class, () -> LearnedSizes.open(dir));
        assertEquals(LearnedSizes.file(dir) + ": keys[0] needs \"service\", \"signature\" and \"peaks\"", e.getMessage());

        Files.writeString(LearnedSizes.file(dir), "{not json", StandardCharsets.UTF_8);
        assertTrue(assertThrows(LearnedSizes.DamagedException.class, () -> LearnedSizes.open(dir)).getMessage()
                .startsWith(LearnedSizes.file(dir) + " is not JSON"));
    }

    @Test
    void settingADamagedFileAsideStartsEmptyAndKeepsTheEvidence() throws Exception {
        Files.writeString(LearnedSizes.file(dir), "[1,2,3]");
        StringBuilder warned = new StringBuilder();
        LearnedSizes s = LearnedSizes.openSettingAside(dir, warned::append);
        assertTrue(s.all().isEmpty());
        assertEquals("[1,2,3]", Files.readString(dir.resolve(LearnedSizes.FILE_NAME + LearnedSizes.DAMAGED_SUFFIX)));
        assertTrue(warned.toString().contains("learned sizes start empty"), warned.toString());
        s.record("immich", "", MIB, T0);
        assertEquals(OptionalLong.of(MIB), LearnedSizes.open(dir).learnedPeak("immich", ""));
    }

    @Test
    void badNamesAndNegativePeaksAreRefused() throws Exception {
        LearnedSizes s = LearnedSizes.open(dir);
        assertThrows(IllegalArgumentException.class, () -> s.record(" ", "", MIB, T0));
        assertThrows(IllegalArgumentException.class, () -> s.record("a", "x".repeat(LearnedSizes.MAX_NAME + 1), MIB, T0));
        assertThrows(IllegalArgumentException.class, () -> s.record("a", "", -1, T0));
        assertTrue(s.all().isEmpty());
    }

    @Test
    void aFailedWriteLeavesTheHistoryUnchanged() throws Exception {
        LearnedSizes s = LearnedSizes.open(dir);
        s.record("jellyfin", "", MIB, T0);
        Files.createDirectory(dir.resolve(LearnedSizes.FILE_NAME + ".tmp"));
        Files.writeString(dir.resolve(LearnedSizes.FILE_NAME + ".tmp").resolve("x"), "blocks the delete");
        assertThrows(java.io.IOException.class, () -> s.record("jellyfin", "", 9 * MIB, T0.plusSeconds(1)));
        assertEquals(OptionalLong.of(MIB), s.learnedPeak("jellyfin", ""));
    }

    @Test
    void summaryUsesNearestRanks() {
        List<LearnedSizes.Peak> peaks = new java.util.ArrayList<>();
        for (int i = 1; i <= 200; i++) {
            peaks.add(new LearnedSizes.Peak(T0, i * MIB));
        }
        PeakSummary s = PeakSummary.of(peaks);
        assertEquals(new PeakSummary(200, 100 * MIB, 198 * MIB, 200 * MIB), s);
        assertEquals(new PeakSummary(1, 7, 7, 7), PeakSummary.of(List.of(new LearnedSizes.Peak(T0, 7))));
        assertEquals(2, PeakSummary.above(peaks, 198 * MIB));
    }
}
