package org.gpuagent.scheduler.journal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import org.gpuagent.scheduler.Lease;
import org.gpuagent.scheduler.LeaseId;
import org.gpuagent.scheduler.LeaseState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class JournalReplayTest {
    static final Instant T = Instant.parse("2025-06-01T12:00:00Z");

    static Lease lease(long id, String holder) {
        return Lease.active(new LeaseId(id), "ollama", id * 1_000_000, Optional.ofNullable(holder), List.of(id + 100),
                T.plusSeconds(id));
    }

    /** Header, a snapshot with lease 1, then: grant 2, grant 3, evicting 2, release 1, grant 4. */
    static List<JournalRecord> records() {
        return List.of(
                new JournalRecord.Snapshot(2, List.of(lease(1, "systemd:ollama.service"))),
                new JournalRecord.Granted(lease(2, "oci:abc")),
                new JournalRecord.Granted(lease(3, null)),
                new JournalRecord.Evicting(new LeaseId(2), T.plusSeconds(60)),
                new JournalRecord.Released(new LeaseId(1), T.plusSeconds(61), JournalRecord.Cause.RELEASED),
                new JournalRecord.Granted(lease(4, "ünïcödé:holder")));
    }

    /** The bytes, and the offset where each record starts. */
    static byte[] encode(List<JournalRecord> records, List<Integer> starts) {
        FrameBuffer b = new FrameBuffer(64);
        JournalCodec.writeHeader(b);
        for (JournalRecord r : records) {
            starts.add(b.size());
            JournalCodec.writeFrame(b, r);
        }
        return b.toByteArray();
    }

    static RecoveredLedger recovered(byte[] data) {
        JournalReplay.Result r = JournalReplay.replay(data);
        return assertInstanceOf(JournalReplay.Recovered.class, r, () -> "expected recovery, got " + r).ledger();
    }

    static String corrupt(byte[] data) {
        JournalReplay.Result r = JournalReplay.replay(data);
        return assertInstanceOf(JournalReplay.Corrupt.class, r, () -> "expected corruption, got " + r).reason();
    }

    @Test
    void replaysEveryRecordType() {
        RecoveredLedger l = recovered(encode(records(), new ArrayList<>()));
        assertEquals(5, l.nextLeaseId());
        assertEquals(List.of(2L, 3L, 4L), l.leases().stream().map(x -> x.id().value()).toList());
        Lease two = l.leases().get(0);
        assertEquals(LeaseState.EVICTING, two.state());
        assertEquals(Optional.of(T.plusSeconds(60)), two.evictingSince());
        assertEquals(lease(3, null), l.leases().get(1));
        assertEquals(lease(4, "ünïcödé:holder"), l.leases().get(2));
        assertTrue(l.warnings().isEmpty());
    }

    @Test
    void anEmptyFileIsAnEmptyLedger() {
        RecoveredLedger l = recovered(new byte[0]);
        assertEquals(1, l.nextLeaseId());
        assertTrue(l.leases().isEmpty());
        assertTrue(l.warnings().isEmpty());
    }

    @Test
    void aTornHeaderIsAnEmptyLedgerWithAWarning() {
        RecoveredLedger l = recovered(Arrays.copyOf(encode(List.of(), new ArrayList<>()), 5));
        assertTrue(l.leases().isEmpty());
        assertEquals(1, l.warnings().size());
    }

    /** The file cut {@code cut} bytes into the last record (grant 4): it is dropped, the rest kept. */
    @ParameterizedTest(name = "cut {0} bytes into the last record")
    @CsvSource({"1", "4", "7", "8", "9", "20", "-1"})
    void aTornLastRecordIsDroppedWithAWarning(int cut) {
        List<Integer> starts = new ArrayList<>();
        byte[] full = encode(records(), starts);
        int last = starts.get(starts.size() - 1);
        int length = cut < 0 ? full.length + cut : last + cut;
        RecoveredLedger l = recovered(Arrays.copyOf(full, length));
        assertEquals(List.of(2L, 3L), l.leases().stream().map(x -> x.id().value()).toList());
        assertEquals(4, l.nextLeaseId());
        assertEquals(1, l.warnings().size());
        assertTrue(l.warnings().get(0).startsWith("dropped a torn last record (record 6 at byte " + last),
                l.warnings().get(0));
    }

    @Test
    void aDamagedLastRecordIsTorn() {
        List<Integer> starts = new ArrayList<>();
        byte[] data = encode(records(), starts);
        data[data.length - 3] ^= 0x40;
        RecoveredLedger l = recovered(data);
        assertEquals(List.of(2L, 3L), l.leases().stream().map(x -> x.id().value()).toList());
        assertTrue(l.warnings().get(0).contains("checksum does not match"), l.warnings().get(0));
    }

    @Test
    void aZeroFilledTailIsTorn() {
        byte[] valid = encode(records(), new ArrayList<>());
        byte[] data = Arrays.copyOf(valid, valid.length + 4096);
        RecoveredLedger l = recovered(data);
        assertEquals(3, l.leases().size());
        assertTrue(l.warnings().get(0).contains("zeros"), l.warnings().get(0));
    }

    /** Damage anywhere before the last record: the length, the checksum or the body. */
    @ParameterizedTest(name = "byte {0} of record {1} xor {2}")
    @CsvSource({"0, 2, 1", "1, 2, 1", "2, 3, 16", "3, 1, 1", "5, 2, 1", "10, 3, 1", "8, 4, 128", "12, 5, 1",
        "0, 5, 128"})
    void aDamagedRecordWithValidRecordsAfterItIsCorruption(int offsetInRecord, int record, int mask) {
        List<Integer> starts = new ArrayList<>();
        byte[] data = encode(records(), starts);
        data[starts.get(record - 1) + offsetInRecord] ^= (byte) mask;
        String reason = corrupt(data);
        assertTrue(reason.startsWith("record " + record + " at byte " + starts.get(record - 1)), reason);
    }

    @Test
    void garbageIsCorruption() {
        byte[] data = new byte[1000];
        new SplittableRandom(42).nextBytes(data);
        assertTrue(corrupt(data).contains("header"));
        byte[] valid = encode(records(), new ArrayList<>());
        byte[] tail = Arrays.copyOf(valid, valid.length + 1000);
        System.arraycopy(data, 0, tail, valid.length, 1000);
        corrupt(tail);
    }

    @Test
    void aSnapshotInTheMiddleIsCorruption() {
        List<JournalRecord> rs = new ArrayList<>(records());
        rs.add(2, new JournalRecord.Snapshot(9, List.of()));
        rs.add(new JournalRecord.Granted(lease(10, "x")));
        assertTrue(corrupt(encode(rs, new ArrayList<>())).contains("snapshot"));
    }

    @Test
    void aLeaseGrantedTwiceIsCorruption() {
        List<JournalRecord> rs = new ArrayList<>(records());
        rs.add(new JournalRecord.Granted(lease(3, "again")));
        rs.add(new JournalRecord.Granted(lease(11, "x")));
        assertTrue(corrupt(encode(rs, new ArrayList<>())).contains("counted twice"));
    }

    @Test
    void anUnknownVersionIsNeitherTornNorCorrupt() {
        byte[] data = encode(records(), new ArrayList<>());
        data[JournalCodec.MAGIC.length + 3] = 9;
        assertEquals(new JournalReplay.UnsupportedVersion(9), JournalReplay.replay(data));
    }

    @Test
    void aReleaseOfAnUnknownLeaseIsToleratedWithAWarning() {
        List<JournalRecord> rs = new ArrayList<>(records());
        rs.add(new JournalRecord.Released(new LeaseId(77), T, JournalRecord.Cause.RECLAIMED));
        rs.add(new JournalRecord.Granted(lease(12, "x")));
        RecoveredLedger l = recovered(encode(rs, new ArrayList<>()));
        assertEquals(4, l.leases().size());
        assertEquals(1, l.warnings().size());
    }

    @Test
    void encodingIsStable() {
        byte[] a = encode(records(), new ArrayList<>());
        byte[] b = encode(records(), new ArrayList<>());
        assertArrayEquals(a, b);
        assertArrayEquals(JournalCodec.MAGIC, Arrays.copyOf(a, 8));
    }
}
