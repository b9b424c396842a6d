package org.gpuagent.scheduler.journal;

import static org.gpuagent.scheduler.journal.JournalReplayTest.T;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.time.InstantSource;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.gpuagent.scheduler.Lease;
import org.gpuagent.scheduler.LeaseId;
import org.gpuagent.scheduler.LeaseState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The byte format: every record and every string the journal accepts comes back identical. */
class JournalCodecTest {
    @TempDir
    Path dir;

    private static String roundTrip(String s) throws JournalCodec.MalformedRecordException {
        FrameBuffer b = new FrameBuffer(8);
        b.putString(s);
        return JournalCodec.readString(ByteBuffer.wrap(b.toByteArray()));
    }

    /** Strings a holder may be: ASCII, 2-, 3- and 4-byte UTF-8, and what UTF-8 cannot express. */
    @ParameterizedTest(name = "string {index}")
    @ValueSource(strings = {"", "systemd:ollama.service", "ünïcödé", "\u0800\uffff\u07ff\u0080\u007f", "emoji 😀 𝄞",
        "lone high \ud800", "lone low \udc00 in the middle", "\udbff", "reversed \udc00\ud800", "nul \u0000 inside",
        "high then supplementary \ud800😀", "\ud800\ud800\udc00", "plane 14 \udb40\udc41 and the last \udbff\udfff"})
    void everyStringComesBackIdentical(String s) throws Exception {
        assertEquals(s, roundTrip(s));
    }

    @Test
    void aLongStringKeepsItsLength() throws Exception {
        String s = "ü".repeat(200) + "x";
        assertEquals(s, roundTrip(s));
        FrameBuffer b = new FrameBuffer(8);
        b.putString(s);
        assertEquals(401, ByteBuffer.wrap(b.toByteArray()).getShort());
    }

    @Test
    void aWellFormedStringIsPlainUtf8() {
        String s = "oci:abc ünï 😀 \u0800";
        FrameBuffer b = new FrameBuffer(8);
        b.putString(s);
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        assertEquals(utf8.length, ByteBuffer.wrap(b.toByteArray()).getShort());
        assertArrayEquals(utf8, java.util.Arrays.copyOfRange(b.toByteArray(), 2, b.size()));
    }

    @Test
    void aLoneSurrogateIsItsOwnThreeByteSequence() {
        FrameBuffer b = new FrameBuffer(8);
        b.putString("\ud800\udfff");
        assertEquals("0004f0908fbf", HexFormat.of().formatHex(b.toByteArray()), "a pair is one 4-byte sequence");
        FrameBuffer lone = new FrameBuffer(8);
        lone.putString("a\ud800");
        assertEquals("000461eda080", HexFormat.of().formatHex(lone.toByteArray()));
    }

    /** The case: a holder with a lone surrogate came back different after a restart. */
    @Test
    void aHolderWithALoneSurrogateSurvivesARestartIdentical() throws Exception {
        String holder = "oci:\ud83dcam";
        Lease lease = Lease.active(new LeaseId(1), "frigate", 1 << 20, Optional.of(holder), List.of(), T);
        InstantSource clock = InstantSource.fixed(Instant.parse("2025-06-01T12:00:00Z"));
        try (FileJournal j = FileJournal.open(dir, clock)) {
            FileJournalTest.commit(j, new JournalRecord.Granted(lease)).await();
        }
        try (FileJournal j = FileJournal.open(dir, clock)) {
            assertEquals(List.of(lease), j.recovered().leases());
            assertEquals(Optional.of(holder), j.recovered().leases().get(0).holder());
        }
    }

    @Test
    void aStringTooLongIsRefusedAndNothingIsWritten() {
        FrameBuffer b = new FrameBuffer(8);
        b.putByte(7);
        String big = "\u0800".repeat(0xFFFF / 3 + 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> b.putString(big));
        assertEquals("string too long for the journal: " + (big.length() * 3) + " bytes", e.getMessage());
        assertEquals(1, b.size());
        String justFits = "a".repeat(0xFFFF);
        b.putString(justFits);
        assertEquals(1 + 2 + 0xFFFF, b.size());
    }

    @ParameterizedTest(name = "{0}: {1}")
    @CsvSource(delimiter = '|', value = {
        "0002c080 | byte 0xc0 cannot start a UTF-8 sequence",
        "0002c1bf | byte 0xc1 cannot start a UTF-8 sequence",
        "000180 | byte 0x80 cannot start a UTF-8 sequence",
        "0001f5 | byte 0xf5 cannot start a UTF-8 sequence",
        "0001ff | byte 0xff cannot start a UTF-8 sequence",
        "0003e08080 | an overlong UTF-8 sequence",
        "0003e09fbf | an overlong UTF-8 sequence",
        "0004f08f bfbf | a 4-byte UTF-8 sequence outside the supplementary planes",
        "0004f4908080 | a 4-byte UTF-8 sequence outside the supplementary planes",
        "0001c3 | a UTF-8 sequence cut off by the string's end",
        "0002e282 | a UTF-8 sequence cut off by the string's end",
        "0002c341 | byte 0x41 is not a UTF-8 continuation",
        "0002c3c3 | byte 0xc3 is not a UTF-8 continuation",
        "0006eda080edb080 | a surrogate pair written as two 3-byte sequences",
        "0009ff | a string of 9 bytes runs past the record's end"})
    void malformedStringsAreRefused(String hex, String why) {
        byte[] bytes = HexFormat.of().parseHex(hex.replace(" ", ""));
        JournalCodec.MalformedRecordException e = assertThrows(JournalCodec.MalformedRecordException.class,
                () -> JournalCodec.readString(ByteBuffer.wrap(bytes)));
        assertEquals(why, e.getMessage());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "0002c280 | \u0080",
        "0002dfbf | \u07ff",
        "0003e0a080 | \u0800",
        "0003efbfbf | \uffff",
        "0004f0908080 | \ud800\udc00",
        "0004f48fbfbf | \udbff\udfff",
        "0006eda080eda080 | \ud800\ud800",
        "0006edb080eda080 | \udc00\ud800"})
    void theBoundariesOfEachSequenceLengthRead(String hex, String expected) throws Exception {
        assertEquals(expected, JournalCodec.readString(ByteBuffer.wrap(HexFormat.of().parseHex(hex))));
    }

    @Test
    void everyRecordTypeRoundTrips() throws Exception {
        Lease evicting = new Lease(new LeaseId(7), "ollama", 5L << 30, Optional.empty(), List.of(1L, 2L, 1L << 40), T,
                LeaseState.EVICTING, Optional.of(T.plusNanos(123_456_789)));
        List<JournalRecord> all = List.of(
                new JournalRecord.Snapshot(9, List.of(evicting, JournalReplayTest.lease(8, "h"))),
                new JournalRecord.Granted(JournalReplayTest.lease(9, null)),
                new JournalRecord.Evicting(new LeaseId(9), T.minusSeconds(5)),
                new JournalRecord.Resized(new LeaseId(9), 3L << 30, T.plusNanos(7)),
                new JournalRecord.Released(new LeaseId(8), T, JournalRecord.Cause.ROLLED_BACK),
                new JournalRecord.Released(new LeaseId(7), T, JournalRecord.Cause.RECLAIMED));
        for (JournalRecord r : all) {
            FrameBuffer b = new FrameBuffer(8);
            JournalCodec.writeFrame(b, r);
            ByteBuffer frame = ByteBuffer.wrap(b.toByteArray());
            int length = frame.getInt();
            assertEquals(b.size() - JournalCodec.FRAME_HEADER_BYTES, length);
            assertEquals(JournalCodec.crc(b.array(), JournalCodec.FRAME_HEADER_BYTES, length), frame.getInt());
            assertEquals(r, JournalCodec.decodeBody(frame.slice()));
        }
    }

    @ParameterizedTest(name = "{1}")
    @CsvSource(delimiter = '|', value = {
        "06 | unknown record type 6",
        "05 0000000000000001 0000000000000000 0000000000000000 00000000 | lease 1: a resize to 0 bytes",
        "05 0000000000000001 0000000000000001 | record ends early",
        "00 | unknown record type 0",
        "040000000000000001000000000000000000000000 04 | unknown release cause 4",
        "02 | record ends early",
        "030000000000000001000000000000000000000000 00 | 1 unexpected bytes after a record of type 3",
        "0100000000000000020000000a | snapshot claims 10 leases",
        "010000000000000002ffffffff | snapshot claims -1 leases",
        "010000000000000002 00000003 00000000000000000000000000000000000000000000000000000000000000000000000000000000"
            + "0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000 | snapshot"
            + " claims 3 leases",
        "0200000000000000010001610000000000000001 02 | bad holder flag 2",
        "0200000000000000010001610000000000000001 00 0000 0000000000000000 00000000 02 | bad lease state 2",
        "0200000000000000000001610000000000000001 00 0000 0000000000000000 00000000 00 | lease id must be positive, got 0",
        "0300000000000000017fffffffffffffff 00000000 | Instant exceeds minimum or maximum instant"})
    void aBodyThatMakesNoSenseIsMalformed(String hex, String why) {
        byte[] body = HexFormat.of().parseHex(hex.replace(" ", ""));
        JournalCodec.MalformedRecordException e = assertThrows(JournalCodec.MalformedRecordException.class,
                () -> JournalCodec.decodeBody(ByteBuffer.wrap(body)));
        assertEquals(why, e.getMessage());
    }
}
