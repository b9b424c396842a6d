package org.gpuagent.scheduler.journal;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import org.gpuagent.scheduler.Lease;
import org.gpuagent.scheduler.LeaseId;

/**
 * Rebuilds the ledger from a journal's bytes, telling the one kind of damage that loses nothing
 * acknowledged (tolerated, with a warning) from every other (refused, with its byte offset).
 *
 * <p>How the file is written decides what may be tolerated. It is created only by renaming a
 * finished, synced file that holds the header and a snapshot, so a short header, a missing or
 * damaged first record is never a crash's doing. After that, records are appended and synced
 * before anything they say is acknowledged; a crash can only cut the last append short. So:
 * <ul>
 *   <li><b>Unfinished last record</b>, tolerated and dropped after a run that did not close the
 *       journal (a crash, {@code kill -9}, power loss): the file ends inside the record, or the
 *       rest of the file from a record's start is zeros (a file system that extended the file
 *       before the data landed). Nothing in it was acknowledged.</li>
 *   <li>Everything else is refused: a record whose checksum does not match (whatever its place: a
 *       crash leaves a record short, not changed), an impossible length, a last record whose length
 *       runs past the end although its checksum matches the bytes that are there, a record that cannot be
 *       read, a snapshot after the start, a lease id granted twice, a file shorter or longer than
 *       the last clean close left it (its length is kept in {@link FileJournal#CLOSED_NAME}), and an
 *       unfinished last record after a clean close.</li>
 * </ul>
 */
final class JournalReplay {

    /** The outcome: either a ledger (with warnings) or a reason the file cannot be trusted. */
    sealed interface Result {
    }

    record Recovered(RecoveredLedger ledger, long validBytes) implements Result {
    }

    /** @param offset where the damage starts, in bytes from the start of the file */
    record Corrupt(long offset, String reason) implements Result {
    }

    /** The file claims a version this code does not know: neither torn nor corrupt. */
    record UnsupportedVersion(int version) implements Result {
    }

    private JournalReplay() {
    }

    /**
     * @param closedLength the file's length at the last clean close, or empty when the run that
     *                     wrote it ended otherwise (or never said)
     */
    static Result replay(byte[] data, OptionalLong closedLength) {
        if (data.length < JournalCodec.HEADER_BYTES) {
            return new Corrupt(0, (data.length == 0 ? "it is empty" : "it is " + data.length + " bytes long")
                    + ", shorter than its " + JournalCodec.HEADER_BYTES + "-byte header (the agent only ever creates it"
                    + " whole, by renaming a finished file)");
        }
        if (!Arrays.equals(data, 0, JournalCodec.MAGIC.length, JournalCodec.MAGIC, 0, JournalCodec.MAGIC.length)) {
            return new Corrupt(0, "it does not start with the ledger journal header (\"GALEDGER\")");
        }
        ByteBuffer all = ByteBuffer.wrap(data);
        int version = all.getInt(JournalCodec.MAGIC.length);
        if (version != JournalCodec.VERSION) {
            return new UnsupportedVersion(version);
        }
        long closed = closedLength.orElse(data.length);
        String shouldBe = "it is " + data.length + " bytes long, but the agent closed it cleanly at " + closed + " bytes";
        if (closed > data.length) {
            return new Corrupt(data.length, shouldBe + ": everything from byte " + data.length + " on is missing");
        }
        if (closed < data.length) {
            return new Corrupt(closed, shouldBe + ": " + (data.length - closed) + " bytes were added after that");
        }

        List<String> warnings = new ArrayList<>();
        JournaledLeases leases = null;
        int offset = JournalCodec.HEADER_BYTES;
        int index = 0;
        while (offset < data.length) {
            int remaining = data.length - offset;
            String where = "record " + (index + 1) + " at byte " + offset;
            String unfinished = null;
            int length = remaining < JournalCodec.FRAME_HEADER_BYTES ? 0 : all.getInt(offset);
            if (remaining < JournalCodec.FRAME_HEADER_BYTES) {
                unfinished = "the file ends inside its frame header";
            } else if (allZero(data, offset)) {
                unfinished = "the rest of the file is zeros";
            } else if (length <= 0 || length > JournalCodec.MAX_BODY_BYTES) {
                return new Corrupt(offset, where + " claims an impossible length of " + length + " bytes");
            } else if (length > remaining - JournalCodec.FRAME_HEADER_BYTES) {
                if (validRecordAfter(data, offset + 1)) {
                    return new Corrupt(offset, where + " claims " + length + " bytes, more than the file holds,"
                            + " yet valid records follow it");
                }
                int present = remaining - JournalCodec.FRAME_HEADER_BYTES;
                if (JournalCodec.crc(data, offset + JournalCodec.FRAME_HEADER_BYTES, present) == all.getInt(offset + 4)) {
                    // A write cut short does not leave a checksum that matches what is there.
                    return new Corrupt(offset, where + " claims " + length + " bytes, but its checksum matches the "
                            + present + " bytes that follow: its length changed after it was written");
                }
                unfinished = "the file ends inside it";
            }
            if (unfinished != null) {
                if (index == 0) {
                    return new Corrupt(offset, where + ": " + unfinished + "; the first record is the snapshot the"
                            + " file was created with, which is always whole");
                }
                if (closedLength.isPresent()) {
                    return new Corrupt(offset, where + ": " + unfinished + ", although the agent closed the journal"
                            + " cleanly");
                }
                warnings.add("dropped an unfinished last record (" + where + " of " + data.length + ": " + unfinished
                        + "): the previous run ended without closing the journal, and a crash only interrupts a"
                        + " write that was never acknowledged");
                break;
            }
            int bodyStart = offset + JournalCodec.FRAME_HEADER_BYTES;
            if (JournalCodec.crc(data, bodyStart, length) != all.getInt(offset + 4)) {
                return new Corrupt(offset, where + ": its checksum does not match (the bytes changed after they were"
                        + " written)");
            }
            JournalRecord record;
            try {
                record = JournalCodec.decodeBody(ByteBuffer.wrap(data, bodyStart, length).slice());
            } catch (JournalCodec.MalformedRecordException e) {
                return new Corrupt(offset, where + " has a valid checksum but cannot be read: " + e.getMessage());
            }
            String wrong = misplaced(record, index, leases);
            if (wrong != null) {
                return new Corrupt(offset, where + " " + wrong);
            }
            if (leases == null) {
                leases = new JournaledLeases((JournalRecord.Snapshot) record);
            } else {
                String ignored = leases.apply(record);
                if (ignored != null) {
                    warnings.add(where + " " + ignored + "; ignored");
                }
            }
            offset = bodyStart + length;
            index++;
        }
        if (leases == null) {
            return new Corrupt(JournalCodec.HEADER_BYTES, "it ends after its header, without the snapshot the file"
                    + " was created with");
        }
        return new Recovered(new RecoveredLedger(leases.nextLeaseId(), leases.leases(), warnings), offset);
    }

    /** Why a readable record cannot be at this place, or null when it can. */
    private static String misplaced(JournalRecord record, int index, JournaledLeases leases) {
        if (record instanceof JournalRecord.Snapshot s) {
            if (index != 0) {
                return "is a snapshot, which may only be the first record";
            }
            Set<LeaseId> seen = new HashSet<>();
            for (Lease l : s.leases()) {
                if (!seen.add(l.id())) {
                    return "lists lease " + l.id() + " twice";
                }
            }
            return null;
        }
        if (index == 0) {
            return "is not the snapshot every journal starts with";
        }
        if (record instanceof JournalRecord.Granted g && g.lease().id().value() < leases.nextLeaseId()) {
            return "grants lease " + g.lease().id() + " although ids up to " + (leases.nextLeaseId() - 1)
                    + " were already handed out (a lease would be counted twice)";
        }
        return null;
    }

    /**
     * Whether a checksummed record starts anywhere at or after {@code from}: what tells a length
     * damaged in the middle from an unfinished last record. A false match needs a random CRC32C
     * hit (about 2^-32 per plausible position).
     */
    private static boolean validRecordAfter(byte[] data, int from) {
        ByteBuffer all = ByteBuffer.wrap(data);
        for (int at = from; at + JournalCodec.FRAME_HEADER_BYTES < data.length; at++) {
            int length = all.getInt(at);
            if (length > 0 && length <= data.length - at - JournalCodec.FRAME_HEADER_BYTES
                    && JournalCodec.crc(data, at + JournalCodec.FRAME_HEADER_BYTES, length) == all.getInt(at + 4)) {
                return true;
            }
        }
        return false;
    }

    private static boolean allZero(byte[] data, int from) {
        for (int i = from; i < data.length; i++) {
            if (data[i] != 0) {
                return false;
            }
        }
        return true;
    }
}
