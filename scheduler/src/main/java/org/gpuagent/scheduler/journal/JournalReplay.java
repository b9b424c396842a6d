package org.gpuagent.scheduler.journal;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.gpuagent.scheduler.Lease;
import org.gpuagent.scheduler.LeaseId;
import org.gpuagent.scheduler.LeaseState;

/**
 * Rebuilds the ledger from a journal's bytes, telling a torn tail (a crash mid-write: tolerated,
 * dropped with a warning) from corruption (refused).
 *
 * <p>Torn tail: a record that runs past the end of the file or fails its checksum, with no valid
 * record anywhere after it; or a tail of zeros (a file system that extended the file before the
 * data landed). A crash mid-write leaves exactly that, and such a record was never acknowledged
 * (acknowledgement follows the fsync). Everything else that does not check out is corruption: a
 * damaged record with valid records after it, an impossible length (garbage), a body that
 * decodes to nonsense, a snapshot after the start, a lease id granted twice.
 */
final class JournalReplay {

    /** The outcome: either a ledger (with warnings) or a reason the file cannot be trusted. */
    sealed interface Result {
    }

    record Recovered(RecoveredLedger ledger, long validBytes) implements Result {
    }

    record Corrupt(String reason) implements Result {
    }

    /** The file claims a version this code does not know: neither torn nor corrupt. */
    record UnsupportedVersion(int version) implements Result {
    }

    private JournalReplay() {
    }

    static Result replay(byte[] data) {
        List<String> warnings = new ArrayList<>();
        if (data.length < JournalCodec.HEADER_BYTES) {
            byte[] header = new byte[JournalCodec.HEADER_BYTES];
            System.arraycopy(JournalCodec.MAGIC, 0, header, 0, JournalCodec.MAGIC.length);
            header[JournalCodec.HEADER_BYTES - 1] = JournalCodec.VERSION;
            if (Arrays.equals(data, 0, data.length, header, 0, data.length)) {
                if (data.length > 0) {
                    warnings.add("the journal header is incomplete (" + data.length + " of "
                            + JournalCodec.HEADER_BYTES + " bytes): a crash while it was created; starting empty");
                }
                return new Recovered(new RecoveredLedger(1, List.of(), warnings), 0);
            }
            return new Corrupt("it is " + data.length + " bytes long and does not start with a ledger journal header");
        }
        if (!Arrays.equals(data, 0, JournalCodec.MAGIC.length, JournalCodec.MAGIC, 0, JournalCodec.MAGIC.length)) {
            return new Corrupt("it does not start with the ledger journal header (\"GALEDGER\")");
        }
        ByteBuffer all = ByteBuffer.wrap(data);
        int version = all.getInt(JournalCodec.MAGIC.length);
        if (version != JournalCodec.VERSION) {
            return new UnsupportedVersion(version);
        }

        Map<LeaseId, Lease> leases = new LinkedHashMap<>();
        long nextLeaseId = 1;
        int offset = JournalCodec.HEADER_BYTES;
        int index = 0;
        while (offset < data.length) {
            int remaining = data.length - offset;
            String where = "record " + (index + 1) + " at byte " + offset + " of " + data.length;
            if (remaining < JournalCodec.FRAME_HEADER_BYTES) {
                warnings.add(tornWarning(where, "the file ends inside its header", remaining));
                break;
            }
            int length = all.getInt(offset);
            int crc = all.getInt(offset + 4);
            if (length <= 0 || length > JournalCodec.MAX_BODY_BYTES) {
                if (allZero(data, offset)) {
                    warnings.add(tornWarning(where, "the rest of the file is zeros", remaining));
                    break;
                }
                return new Corrupt(where + " claims an impossible length of " + length + " bytes");
            }
            int bodyStart = offset + JournalCodec.FRAME_HEADER_BYTES;
            String damage = null;
            if (length > remaining - JournalCodec.FRAME_HEADER_BYTES) {
                damage = "the file ends inside it";
            } else if (JournalCodec.crc(data, bodyStart, length) != crc) {
                damage = "its checksum does not match";
            }
            if (damage != null) {
                if (validRecordAfter(data, offset + 1)) {
                    return new Corrupt(where + ": " + damage + ", yet valid records follow it");
                }
                warnings.add(tornWarning(where, damage, remaining));
                break;
            }
            int end = bodyStart + length;
            JournalRecord record;
            try {
                record = JournalCodec.decodeBody(ByteBuffer.wrap(data, bodyStart, length).slice());
            } catch (JournalCodec.MalformedRecordException e) {
                return new Corrupt(where + " has a valid checksum but cannot be read: " + e.getMessage());
            }
            if (record instanceof JournalRecord.Snapshot s) {
                if (index != 0) {
                    return new Corrupt(where + " is a snapshot, which may only be the first record");
                }
                for (Lease l : s.leases()) {
                    if (leases.put(l.id(), l) != null) {
                        return new Corrupt(where + " lists lease " + l.id() + " twice");
                    }
                }
                nextLeaseId = s.nextLeaseId();
            } else if (record instanceof JournalRecord.Granted g) {
                LeaseId id = g.lease().id();
                if (id.value() < nextLeaseId) {
                    return new Corrupt(where + " grants lease " + id + " although ids up to " + (nextLeaseId - 1)
                            + " were already handed out (a lease would be counted twice)");
                }
                leases.put(id, g.lease());
                nextLeaseId = id.value() + 1;
            } else if (record instanceof JournalRecord.Evicting e) {
                Lease l = leases.get(e.id());
                if (l == null || l.state() != LeaseState.ACTIVE) {
                    warnings.add(where + " marks lease " + e.id() + " evicting, but it is "
                            + (l == null ? "not in the ledger" : l.state()) + "; ignored");
                } else {
                    leases.put(e.id(), new Lease(l.id(), l.service(), l.bytes(), l.holder(), l.pids(), l.grantedAt(),
                            LeaseState.EVICTING, java.util.Optional.of(e.at())));
                }
            } else if (record instanceof JournalRecord.Released r) {
                if (leases.remove(r.id()) == null) {
                    warnings.add(where + " releases lease " + r.id() + ", which is not in the ledger; ignored");
                }
            }
            offset = end;
            index++;
        }
        List<Lease> ordered = new ArrayList<>(leases.values());
        ordered.sort((a, b) -> a.id().compareTo(b.id()));
        return new Recovered(new RecoveredLedger(nextLeaseId, ordered, warnings), offset);
    }

    private static String tornWarning(String where, String what, int bytes) {
        return "dropped a torn last record (" + where + ", " + bytes + " bytes: " + what
                + "); a crash interrupted its write, so it was never acknowledged";
    }

    /**
     * Whether a checksummed record starts anywhere at or after {@code from}: what tells damage in
     * the middle from a torn tail. A false match needs a random CRC32C hit (about 2^-32 per
     * plausible position).
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
