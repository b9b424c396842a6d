package org.gpuagent.scheduler.journal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.SplittableRandom;
import org.gpuagent.scheduler.Lease;
import org.gpuagent.scheduler.LeaseId;
import org.gpuagent.scheduler.LeaseState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The integrity policy, case by case: which damage is tolerated (an unfinished last record after
 * a run that did not close the journal) and which refuses the start, with the byte offset.
 */
class JournalReplayTest {
    static final Instant T = Instant.parse("2025-06-01T12:00:00Z");
    private static final OptionalLong CRASHED = OptionalLong.empty();

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
        return recovered(data, CRASHED);
    }

    static RecoveredLedger recovered(byte[] data, OptionalLong closedLength) {
        JournalReplay.Result r = JournalReplay.replay(data, closedLength);
        return assertInstanceOf(JournalReplay.Recovered.class, r, () -> "expected recovery, got " + r).ledger();
    }

    static JournalReplay.Corrupt corrupt(byte[] data, OptionalLong closedLength) {
        JournalReplay.Result r = JournalReplay.replay(data, closedLength);
        return assertInstanceOf(JournalReplay.Corrupt.class, r, () -> "expected corruption, got " + r);
    }

    /** Corrupt whether or not the agent closed the journal; returns the reason after a crash. */
    static JournalReplay.Corrupt corruptEitherWay(byte[] data) {
        JournalReplay.Corrupt afterCrash = corrupt(data, CRASHED);
        assertEquals(afterCrash, corrupt(data, OptionalLong.of(data.length)), "the same after a clean close");
        return afterCrash;
    }

    private static List<Long> ids(RecoveredLedger l) {
        return l.leases().stream().map(x -> x.id().value()).toList();
    }

    @Test
    void replaysEveryRecordType() {
        byte[] data = encode(records(), new ArrayList<>());
        RecoveredLedger l = recovered(data);
        assertEquals(recovered(data, OptionalLong.of(data.length)), l, "a clean close changes nothing");
        assertEquals(5, l.nextLeaseId());
        assertEquals(List.of(2L, 3L, 4L), ids(l));
        Lease two = l.leases().get(0);
        assertEquals(LeaseState.EVICTING, two.state());
        assertEquals(Optional.of(T.plusSeconds(60)), two.evictingSince());
        assertEquals(lease(2, "oci:abc").bytes(), two.bytes());
        assertEquals(lease(3, null), l.leases().get(1));
        assertEquals(lease(4, "ünïcödé:holder"), l.leases().get(2));
        assertTrue(l.warnings().isEmpty());
        JournalReplay.Recovered r = assertInstanceOf(JournalReplay.Recovered.class, JournalReplay.replay(data, CRASHED));
        assertEquals(data.length, r.validBytes());
    }

    /** The file is only ever created whole (a renamed, synced file): nothing shorter is a crash's doing. */
    @ParameterizedTest(name = "{0} bytes")
    @ValueSource(ints = {0, 1, 5, 11})
    void aFileShorterThanItsHeaderIsDamageAtByteZero(int length) {
        byte[] data = Arrays.copyOf(encode(records(), new ArrayList<>()), length);
        JournalReplay.Corrupt c = corruptEitherWay(data);
        assertEquals(0, c.offset());
        assertTrue(c.reason().startsWith(length == 0 ? "it is empty, shorter than its 12-byte header"
                : "it is " + length + " bytes long, shorter than its 12-byte header"), c.reason());
    }

    @Test
    void aHeaderWithoutTheSnapshotIsDamage() {
        byte[] data = encode(List.of(), new ArrayList<>());
        JournalReplay.Corrupt c = corruptEitherWay(data);
        assertEquals(JournalCodec.HEADER_BYTES, c.offset());
        assertTrue(c.reason().contains("without the snapshot"), c.reason());
    }

    @Test
    void anUnfinishedFirstRecordIsDamage() {
        List<Integer> starts = new ArrayList<>();
        byte[] full = encode(records(), starts);
        for (int cut : new int[] {JournalCodec.HEADER_BYTES + 3, starts.get(1) - 1}) {
            JournalReplay.Corrupt c = corrupt(Arrays.copyOf(full, cut), CRASHED);
            assertEquals(JournalCodec.HEADER_BYTES, c.offset());
            assertTrue(c.reason().startsWith("record 1 at byte 12: the file ends inside")
                    && c.reason().contains("the first record is the snapshot the file was created with"), c.reason());
        }
        byte[] zeros = Arrays.copyOf(Arrays.copyOf(full, JournalCodec.HEADER_BYTES), 100);
        assertTrue(corrupt(zeros, CRASHED).reason().contains("the rest of the file is zeros"));
    }

    @Test
    void aFirstRecordOtherThanASnapshotIsDamage() {
        List<Integer> starts = new ArrayList<>();
        byte[] data = encode(records().subList(1, 3), starts);
        JournalReplay.Corrupt c = corruptEitherWay(data);
        assertEquals(12, c.offset());
        assertEquals("record 1 at byte 12 is not the snapshot every journal starts with", c.reason());
    }

    /**
     * The file cut {@code cut} bytes into the last record (grant 4), as a crash mid-append leaves
     * it: after a run that did not close the journal the record is dropped and the rest kept; after
     * a clean close nothing may be missing, so it is refused.
     */
    @ParameterizedTest(name = "cut {0} bytes into the last record")
    @CsvSource({"1, inside its frame header", "4, inside its frame header", "7, inside its frame header",
        "8, inside it", "9, inside it", "20, inside it", "-1, inside it"})
    void anUnfinishedLastRecordIsDroppedAfterACrashOnly(int cut, String where) {
        List<Integer> starts = new ArrayList<>();
        byte[] full = encode(records(), starts);
        int last = starts.get(starts.size() - 1);
        int length = cut < 0 ? full.length + cut : last + cut;
        byte[] data = Arrays.copyOf(full, length);
        RecoveredLedger l = recovered(data);
        assertEquals(List.of(2L, 3L), ids(l));
        assertEquals(4, l.nextLeaseId());
        assertEquals(1, l.warnings().size());
        String w = l.warnings().get(0);
        assertTrue(w.startsWith("dropped an unfinished last record (record 6 at byte " + last + " of " + length + ": "
                + "the file ends " + where), w);
        assertTrue(w.endsWith("the previous run ended without closing the journal, and a crash only interrupts a"
                + " write that was never acknowledged"), w);

        JournalReplay.Corrupt c = corrupt(data, OptionalLong.of(length));
        assertEquals(last, c.offset());
        assertTrue(c.reason().startsWith("record 6 at byte " + last + ": the file ends " + where), c.reason());
        assertTrue(c.reason().endsWith(", although the agent closed the journal cleanly"), c.reason());
    }

    @Test
    void aZeroFilledTailIsDroppedAfterACrashOnly() {
        byte[] valid = encode(records(), new ArrayList<>());
        for (int zeros : new int[] {3, 8, 4096}) {
            byte[] data = Arrays.copyOf(valid, valid.length + zeros);
            RecoveredLedger l = recovered(data);
            assertEquals(3, l.leases().size());
            assertTrue(l.warnings().get(0).contains(zeros < 8 ? "frame header" : "the rest of the file is zeros"),
                    l.warnings().get(0));
            assertEquals(valid.length, corrupt(data, OptionalLong.of(data.length)).offset());
        }
    }

    /**
     * A bit flip in the last record (a release): dropping it would bring an acknowledged-released
     * lease back. A crash leaves a record short, never complete with other bytes, so this is damage.
     */
    @Test
    void aBitFlipInTheLastRecordIsDamageNotATornWrite() {
        List<JournalRecord> rs = new ArrayList<>(records());
        rs.add(new JournalRecord.Released(new LeaseId(3), T.plusSeconds(70), JournalRecord.Cause.RELEASED));
        List<Integer> starts = new ArrayList<>();
        byte[] data = encode(rs, starts);
        int last = starts.get(starts.size() - 1);
        data[last + 12] ^= 0x04;
        JournalReplay.Corrupt c = corruptEitherWay(data);
        assertEquals(last, c.offset());
        assertEquals("record 7 at byte " + last + ": its checksum does not match (the bytes changed after they were"
                + " written)", c.reason());
    }

    /** Damage anywhere before the last record: the length, the checksum or the body. */
    @ParameterizedTest(name = "byte {0} of record {1} xor {2}")
    @CsvSource({"0, 2, 1", "1, 2, 1", "2, 3, 16", "3, 1, 1", "5, 2, 1", "10, 3, 1", "8, 4, 128", "12, 5, 1",
        "0, 5, 128", "3, 6, 1"})
    void aDamagedRecordIsDamageAtItsOffset(int offsetInRecord, int record, int mask) {
        List<Integer> starts = new ArrayList<>();
        byte[] data = encode(records(), starts);
        data[starts.get(record - 1) + offsetInRecord] ^= (byte) mask;
        JournalReplay.Corrupt c = corruptEitherWay(data);
        assertEquals(starts.get(record - 1), (int) c.offset());
        assertTrue(c.reason().startsWith("record " + record + " at byte " + starts.get(record - 1)), c.reason());
    }

    @ParameterizedTest(name = "length {0}")
    @ValueSource(ints = {-1, Integer.MIN_VALUE, JournalCodec.MAX_BODY_BYTES + 1})
    void anImpossibleLengthIsDamage(int length) {
        List<Integer> starts = new ArrayList<>();
        byte[] data = encode(records(), starts);
        int at = starts.get(2);
        java.nio.ByteBuffer.wrap(data).putInt(at, length);
        JournalReplay.Corrupt c = corruptEitherWay(data);
        assertEquals(at, c.offset());
        assertEquals("record 3 at byte " + at + " claims an impossible length of " + length + " bytes", c.reason());
    }

    @Test
    void theLargestPossibleLengthIsNotImpossibleButRunsPastTheEnd() {
        List<Integer> starts = new ArrayList<>();
        byte[] data = encode(records(), starts);
        data = Arrays.copyOf(data, data.length - 5);
        int last = starts.get(starts.size() - 1);
        java.nio.ByteBuffer.wrap(data).putInt(last, JournalCodec.MAX_BODY_BYTES);
        assertTrue(recovered(data).warnings().get(0).contains("the file ends inside it"));
    }

    /** A bit flip that makes the last record's length run past the end is not a crash's cut. */
    @Test
    void aLastRecordWhoseLengthGrewIsDamage() {
        List<Integer> starts = new ArrayList<>();
        byte[] data = encode(records(), starts);
        int last = starts.get(starts.size() - 1);
        int length = java.nio.ByteBuffer.wrap(data).getInt(last);
        java.nio.ByteBuffer.wrap(data).putInt(last, length + 64);
        JournalReplay.Corrupt c = corruptEitherWay(data);
        assertEquals(last, c.offset());
        assertEquals("record 6 at byte " + last + " claims " + (length + 64) + " bytes, but its checksum matches the "
                + length + " bytes that follow: its length changed after it was written", c.reason());
    }

    @Test
    void aZeroLengthBeforeOtherBytesIsDamage() {
        List<Integer> starts = new ArrayList<>();
        byte[] data = encode(records(), starts);
        int at = starts.get(4);
        java.nio.ByteBuffer.wrap(data).putInt(at, 0);
        assertEquals("record 5 at byte " + at + " claims an impossible length of 0 bytes", corruptEitherWay(data).reason());
    }

    /** The one valid record after the damaged one ends exactly at the end of the file. */
    @Test
    void aLengthRunningPastTheEndWithOnlyTheLastRecordAfterItIsDamage() {
        List<Integer> starts = new ArrayList<>();
        byte[] data = encode(records(), starts);
        int at = starts.get(4);
        java.nio.ByteBuffer.wrap(data).putInt(at, data.length);
        assertEquals(at, corruptEitherWay(data).offset());
    }

    /** A write cut short, the file then extended with zeros (a file system that sized it first). */
    @Test
    void aRecordCutShortAndFollowedByZerosIsUnfinished() {
        List<Integer> starts = new ArrayList<>();
        byte[] full = encode(records(), starts);
        int last = starts.get(starts.size() - 1);
        byte[] data = Arrays.copyOf(Arrays.copyOf(full, last + 11), last + 11 + 12);
        RecoveredLedger l = recovered(data);
        assertEquals(List.of(2L, 3L), ids(l));
        assertTrue(l.warnings().get(0).contains("the file ends inside it"), l.warnings().get(0));
    }

    /** Looking for valid records after a damaged one never reads past the end of the file. */
    @Test
    void theSearchForLaterRecordsStaysInsideTheFile() {
        List<Integer> starts = new ArrayList<>();
        byte[] data = encode(records(), starts);
        int fifth = starts.get(4);
        int last = starts.get(5);
        java.nio.ByteBuffer.wrap(data).putInt(fifth, data.length);
        java.nio.ByteBuffer.wrap(data).putInt(last, data.length - last - JournalCodec.FRAME_HEADER_BYTES + 4);
        RecoveredLedger l = recovered(data);
        assertEquals(List.of(1L, 2L, 3L), ids(l), "record 5 (the release of lease 1) unfinished, nothing valid after it");
    }

    @Test
    void recoveredLeasesComeInIdOrderWhateverTheSnapshotsOrder() {
        List<JournalRecord> rs = List.of(new JournalRecord.Snapshot(9, List.of(lease(5, "e"), lease(2, "b"),
                lease(7, "g"))), new JournalRecord.Granted(lease(9, "i")));
        assertEquals(List.of(2L, 5L, 7L, 9L), ids(recovered(encode(rs, new ArrayList<>()))));
    }

    @Test
    void aSnapshotMayOnlyHoldCountedLeasesBelowItsNextId() {
        assertThrows(IllegalArgumentException.class, () -> new JournalRecord.Snapshot(5, List.of(lease(5, "x"))));
        assertThrows(IllegalArgumentException.class, () -> new JournalRecord.Snapshot(9, List.of(new Lease(
                new LeaseId(5), "s", 1, Optional.empty(), List.of(), T, LeaseState.RELEASED, Optional.empty()))));
        assertEquals(1, new JournalRecord.Snapshot(6, List.of(lease(5, "x"))).leases().size());
        assertThrows(IllegalArgumentException.class, () -> new JournalRecord.Granted(new Lease(new LeaseId(1), "s", 1,
                Optional.empty(), List.of(), T, LeaseState.EVICTING, Optional.of(T))));
    }

    @Test
    void aLengthRunningPastTheEndWithValidRecordsAfterItIsDamage() {
        List<Integer> starts = new ArrayList<>();
        byte[] data = encode(records(), starts);
        int at = starts.get(3);
        java.nio.ByteBuffer.wrap(data).putInt(at, data.length);
        JournalReplay.Corrupt c = corruptEitherWay(data);
        assertEquals(at, c.offset());
        assertEquals("record 4 at byte " + at + " claims " + data.length + " bytes, more than the file holds, yet valid"
                + " records follow it", c.reason());
    }

    /** Case "a truncation in the middle": after a clean close, any change of length is refused. */
    @Test
    void aJournalCutShortAfterACleanCloseIsRefusedWhereverItIsCut() {
        List<Integer> starts = new ArrayList<>();
        byte[] full = encode(records(), starts);
        for (int cut : new int[] {starts.get(2), starts.get(2) + 5, starts.get(5) + 3}) {
            JournalReplay.Corrupt c = corrupt(Arrays.copyOf(full, cut), OptionalLong.of(full.length));
            assertEquals(cut, c.offset());
            assertEquals("it is " + cut + " bytes long, but the agent closed it cleanly at " + full.length
                    + " bytes: everything from byte " + cut + " on is missing", c.reason());
        }
        // After a crash, a cut at a record boundary cannot be told from the end of the last write.
        assertEquals(List.of(1L, 2L), ids(recovered(Arrays.copyOf(full, starts.get(2)))));
    }

    @Test
    void bytesAddedAfterACleanCloseAreRefused() {
        byte[] full = encode(records(), new ArrayList<>());
        byte[] longer = Arrays.copyOf(full, full.length + 10);
        JournalReplay.Corrupt c = corrupt(longer, OptionalLong.of(full.length));
        assertEquals(full.length, c.offset());
        assertTrue(c.reason().endsWith(": 10 bytes were added after that"), c.reason());
    }

    @Test
    void garbageIsDamage() {
        byte[] data = new byte[1000];
        new SplittableRandom(42).nextBytes(data);
        JournalReplay.Corrupt c = corruptEitherWay(data);
        assertEquals(0, c.offset());
        assertEquals("it does not start with the ledger journal header (\"GALEDGER\")", c.reason());
        byte[] valid = encode(records(), new ArrayList<>());
        byte[] tail = Arrays.copyOf(valid, valid.length + 1000);
        System.arraycopy(data, 0, tail, valid.length, 1000);
        assertEquals(valid.length, corruptEitherWay(tail).offset());
    }

    @Test
    void aSnapshotInTheMiddleIsDamage() {
        List<JournalRecord> rs = new ArrayList<>(records());
        rs.add(2, new JournalRecord.Snapshot(9, List.of()));
        rs.add(new JournalRecord.Granted(lease(10, "x")));
        List<Integer> starts = new ArrayList<>();
        JournalReplay.Corrupt c = corruptEitherWay(encode(rs, starts));
        assertEquals(starts.get(2), (int) c.offset());
        assertTrue(c.reason().endsWith("is a snapshot, which may only be the first record"), c.reason());
    }

    @Test
    void aSnapshotListingALeaseTwiceIsDamage() {
        List<JournalRecord> rs = List.of(new JournalRecord.Snapshot(3, List.of(lease(1, "a"), lease(2, "b"),
                lease(1, "c"))));
        assertEquals("record 1 at byte 12 lists lease 1 twice", corruptEitherWay(encode(rs, new ArrayList<>())).reason());
    }

    @Test
    void aLeaseGrantedTwiceIsDamage() {
        List<JournalRecord> rs = new ArrayList<>(records());
        rs.add(new JournalRecord.Granted(lease(3, "again")));
        rs.add(new JournalRecord.Granted(lease(11, "x")));
        List<Integer> starts = new ArrayList<>();
        JournalReplay.Corrupt c = corruptEitherWay(encode(rs, starts));
        assertEquals(starts.get(6), (int) c.offset());
        assertTrue(c.reason().endsWith("grants lease 3 although ids up to 4 were already handed out (a lease would be"
                + " counted twice)"), c.reason());
    }

    @Test
    void aGrantAtTheNextIdIsNotAReuse() {
        List<JournalRecord> rs = List.of(new JournalRecord.Snapshot(5, List.of()),
                new JournalRecord.Granted(lease(5, "x")));
        RecoveredLedger l = recovered(encode(rs, new ArrayList<>()));
        assertEquals(List.of(5L), ids(l));
        assertEquals(6, l.nextLeaseId());
    }

    @Test
    void aRecordThatChecksOutButCannotBeReadIsDamage() {
        FrameBuffer b = new FrameBuffer(64);
        JournalCodec.writeHeader(b);
        JournalCodec.writeFrame(b, new JournalRecord.Snapshot(1, List.of()));
        int at = b.size();
        int bodyStart = at + JournalCodec.FRAME_HEADER_BYTES;
        b.putInt(1);
        b.putInt(0);
        b.putByte(9);
        b.setInt(at + 4, JournalCodec.crc(b.array(), bodyStart, 1));
        JournalReplay.Corrupt c = corruptEitherWay(b.toByteArray());
        assertEquals(at, c.offset());
        assertEquals("record 2 at byte " + at + " has a valid checksum but cannot be read: unknown record type 9",
                c.reason());
    }

    @Test
    void anUnknownVersionIsNeitherTornNorCorrupt() {
        byte[] data = encode(records(), new ArrayList<>());
        data[JournalCodec.MAGIC.length + 3] = 9;
        assertEquals(new JournalReplay.UnsupportedVersion(9), JournalReplay.replay(data, CRASHED));
    }

    @Test
    void aReleaseOrEvictionOfALeaseNotCountedIsToleratedWithAWarning() {
        List<JournalRecord> rs = new ArrayList<>(records());
        rs.add(new JournalRecord.Released(new LeaseId(77), T, JournalRecord.Cause.RECLAIMED));
        rs.add(new JournalRecord.Evicting(new LeaseId(78), T));
        rs.add(new JournalRecord.Evicting(new LeaseId(2), T));
        rs.add(new JournalRecord.Granted(lease(12, "x")));
        List<Integer> starts = new ArrayList<>();
        RecoveredLedger l = recovered(encode(rs, starts));
        assertEquals(List.of(2L, 3L, 4L, 12L), ids(l));
        assertEquals(List.of(
                "record 7 at byte " + starts.get(6) + " releases lease 77, which is not in the ledger; ignored",
                "record 8 at byte " + starts.get(7) + " marks lease 78 evicting, but it is not in the ledger; ignored",
                "record 9 at byte " + starts.get(8) + " marks lease 2 evicting, but it is EVICTING; ignored"),
                l.warnings());
        assertEquals(Optional.of(T.plusSeconds(60)), l.leases().get(0).evictingSince(), "the first eviction counts");
    }

    /** A resize keeps the lease's id, holder, grant time and state; one of a lease not counted is ignored. */
    @Test
    void aResizeChangesOnlyTheSize() {
        List<JournalRecord> rs = new ArrayList<>(records());
        rs.add(new JournalRecord.Resized(new LeaseId(4), 3L << 30, T.plusSeconds(90)));
        rs.add(new JournalRecord.Resized(new LeaseId(2), 1L << 20, T.plusSeconds(91)));
        rs.add(new JournalRecord.Resized(new LeaseId(77), 1L << 20, T.plusSeconds(92)));
        List<Integer> starts = new ArrayList<>();
        RecoveredLedger l = recovered(encode(rs, starts));
        RecoveredLedger before = recovered(encode(records(), new ArrayList<>()));
        assertEquals(List.of(2L, 3L, 4L), ids(l));
        Lease four = before.leases().get(2);
        assertEquals(new Lease(four.id(), four.service(), 3L << 30, four.holder(), four.pids(), four.grantedAt(),
                four.state(), four.evictingSince()), l.leases().get(2));
        Lease two = l.leases().get(0);
        assertEquals(LeaseState.EVICTING, two.state(), "an evicting lease may shrink and stays evicting");
        assertEquals(1L << 20, two.bytes());
        assertEquals(List.of("record " + rs.size() + " at byte " + starts.get(rs.size() - 1)
                + " resizes lease 77, which is not in the ledger; ignored"), l.warnings());
    }

    @Test
    void encodingIsStable() {
        byte[] a = encode(records(), new ArrayList<>());
        byte[] b = encode(records(), new ArrayList<>());
        assertArrayEquals(a, b);
        assertArrayEquals(JournalCodec.MAGIC, Arrays.copyOf(a, 8));
    }
}
