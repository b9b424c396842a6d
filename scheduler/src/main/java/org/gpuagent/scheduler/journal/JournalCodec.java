package org.gpuagent.scheduler.journal;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.time.DateTimeException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.zip.CRC32C;
import org.gpuagent.scheduler.Lease;
import org.gpuagent.scheduler.LeaseId;
import org.gpuagent.scheduler.LeaseState;

/**
 * The journal's byte format (version 1), big-endian:
 * <pre>
 * file   = header record*
 * header = "GALEDGER" (8 bytes ASCII) u32 version
 * record = u32 bodyLength  u32 crc32c(body)  body
 * body   = u8 type, then per type:
 *   1 snapshot  i64 nextLeaseId, u32 count, lease*count
 *   2 granted   lease
 *   3 evicting  i64 leaseId, instant
 *   4 released  i64 leaseId, instant, u8 cause
 *   5 resized   i64 leaseId, i64 bytes, instant   (added later within version 1: older journals
 *               simply do not contain it, so they still read; an agent older than it refuses a
 *               journal that does, as it refuses any unknown record, rather than miscount)
 * lease   = i64 id, str service, i64 bytes, u8 hasHolder [str holder], u16 pidCount i64*pidCount,
 *           instant grantedAt, u8 state (0 active, 1 evicting) [instant evictingSince if evicting]
 * instant = i64 epochSecond, i32 nano
 * str     = u16 length, UTF-8 bytes (a lone surrogate as its own 3-byte sequence, as in WTF-8)
 * </pre>
 */
final class JournalCodec {
    static final byte[] MAGIC = {'G', 'A', 'L', 'E', 'D', 'G', 'E', 'R'};
    static final int VERSION = 1;
    static final int HEADER_BYTES = MAGIC.length + 4;
    static final int FRAME_HEADER_BYTES = 8;
    /** Far above any real record (a snapshot of 100,000 leases is a few MiB); more means garbage. */
    static final int MAX_BODY_BYTES = 64 << 20;

    private static final int SNAPSHOT = 1;
    private static final int GRANTED = 2;
    private static final int EVICTING = 3;
    private static final int RELEASED = 4;
    private static final int RESIZED = 5;

    private JournalCodec() {
    }

    static void writeHeader(FrameBuffer out) {
        out.putBytes(MAGIC);
        out.putInt(VERSION);
    }

    /** Appends one framed record. */
    static void writeFrame(FrameBuffer out, JournalRecord record) {
        int start = out.size();
        out.putInt(0);
        out.putInt(0);
        int bodyStart = out.size();
        writeBody(out, record);
        int length = out.size() - bodyStart;
        CRC32C crc = new CRC32C();
        crc.update(out.array(), bodyStart, length);
        out.setInt(start, length);
        out.setInt(start + 4, (int) crc.getValue());
    }

    static int crc(byte[] data, int offset, int length) {
        CRC32C crc = new CRC32C();
        crc.update(data, offset, length);
        return (int) crc.getValue();
    }

    private static void writeBody(FrameBuffer out, JournalRecord record) {
        if (record instanceof JournalRecord.Snapshot s) {
            out.putByte(SNAPSHOT);
            out.putLong(s.nextLeaseId());
            out.putInt(s.leases().size());
            for (Lease l : s.leases()) {
                writeLease(out, l);
            }
        } else if (record instanceof JournalRecord.Granted g) {
            out.putByte(GRANTED);
            writeLease(out, g.lease());
        } else if (record instanceof JournalRecord.Evicting e) {
            out.putByte(EVICTING);
            out.putLong(e.id().value());
            writeInstant(out, e.at());
        } else if (record instanceof JournalRecord.Resized r) {
            out.putByte(RESIZED);
            out.putLong(r.id().value());
            out.putLong(r.bytes());
            writeInstant(out, r.at());
        } else if (record instanceof JournalRecord.Released r) {
            out.putByte(RELEASED);
            out.putLong(r.id().value());
            writeInstant(out, r.at());
            out.putByte(r.cause().ordinal());
        } else {
            throw new IllegalArgumentException("unknown record " + record);
        }
    }

    private static void writeLease(FrameBuffer out, Lease l) {
        out.putLong(l.id().value());
        out.putString(l.service());
        out.putLong(l.bytes());
        out.putByte(l.holder().isPresent() ? 1 : 0);
        l.holder().ifPresent(out::putString);
        out.putShort(l.pids().size());
        for (long pid : l.pids()) {
            out.putLong(pid);
        }
        writeInstant(out, l.grantedAt());
        switch (l.state()) {
            case ACTIVE -> out.putByte(0);
            case EVICTING -> {
                out.putByte(1);
                writeInstant(out, l.evictingSince().orElseThrow());
            }
            default -> throw new IllegalArgumentException("released leases are not journaled as leases");
        }
    }

    private static void writeInstant(FrameBuffer out, Instant at) {
        out.putLong(at.getEpochSecond());
        out.putInt(at.getNano());
    }

    /** A body whose checksum matched but whose content makes no sense. */
    static final class MalformedRecordException extends Exception {
        private static final long serialVersionUID = 1L;

        MalformedRecordException(String message) {
            super(message);
        }
    }

    static JournalRecord decodeBody(ByteBuffer body) throws MalformedRecordException {
        try {
            int type = body.get() & 0xFF;
            JournalRecord r = switch (type) {
                case SNAPSHOT -> {
                    long next = body.getLong();
                    int count = body.getInt();
                    if (count < 0 || count > body.remaining() / 30) {
                        throw new MalformedRecordException("snapshot claims " + count + " leases");
                    }
                    List<Lease> leases = new ArrayList<>(count);
                    for (int i = 0; i < count; i++) {
                        leases.add(readLease(body));
                    }
                    yield new JournalRecord.Snapshot(next, leases);
                }
                case GRANTED -> new JournalRecord.Granted(readLease(body));
                case EVICTING -> new JournalRecord.Evicting(new LeaseId(body.getLong()), readInstant(body));
                case RELEASED -> {
                    LeaseId id = new LeaseId(body.getLong());
                    Instant at = readInstant(body);
                    int cause = body.get() & 0xFF;
                    if (cause >= JournalRecord.Cause.values().length) {
                        throw new MalformedRecordException("unknown release cause " + cause);
                    }
                    yield new JournalRecord.Released(id, at, JournalRecord.Cause.values()[cause]);
                }
                case RESIZED -> new JournalRecord.Resized(new LeaseId(body.getLong()), body.getLong(), readInstant(body));
                default -> throw new MalformedRecordException("unknown record type " + type);
            };
            if (body.hasRemaining()) {
                throw new MalformedRecordException(body.remaining() + " unexpected bytes after a record of type " + type);
            }
            return r;
        } catch (BufferUnderflowException e) {
            throw new MalformedRecordException("record ends early");
        } catch (IllegalArgumentException | DateTimeException e) {
            throw new MalformedRecordException(e.getMessage());
        }
    }

    private static Lease readLease(ByteBuffer b) throws MalformedRecordException {
        LeaseId id = new LeaseId(b.getLong());
        String service = readString(b);
        long bytes = b.getLong();
        int hasHolder = b.get();
        Optional<String> holder = hasHolder == 1 ? Optional.of(readString(b)) : Optional.empty();
        if (hasHolder != 0 && hasHolder != 1) {
            throw new MalformedRecordException("bad holder flag " + hasHolder);
        }
        int pidCount = b.getShort() & 0xFFFF;
        List<Long> pids = new ArrayList<>(Math.min(pidCount, 64));
        for (int i = 0; i < pidCount; i++) {
            pids.add(b.getLong());
        }
        Instant grantedAt = readInstant(b);
        int state = b.get();
        return switch (state) {
            case 0 -> new Lease(id, service, bytes, holder, pids, grantedAt, LeaseState.ACTIVE, Optional.empty());
            case 1 -> new Lease(id, service, bytes, holder, pids, grantedAt, LeaseState.EVICTING,
                    Optional.of(readInstant(b)));
            default -> throw new MalformedRecordException("bad lease state " + state);
        };
    }

    private static Instant readInstant(ByteBuffer b) {
        long seconds = b.getLong();
        int nanos = b.getInt();
        return Instant.ofEpochSecond(seconds, nanos);
    }

    /**
     * Reads what {@link FrameBuffer#putString} wrote: UTF-8 in its shortest form, plus lone
     * surrogates as 3-byte sequences; a surrogate pair written as two such sequences is refused
     * (it has a 4-byte form), so that every string has exactly one encoding.
     */
    static String readString(ByteBuffer b) throws MalformedRecordException {
        int n = b.getShort() & 0xFFFF;
        if (n > b.remaining()) {
            throw new MalformedRecordException("a string of " + n + " bytes runs past the record's end");
        }
        int end = b.position() + n;
        StringBuilder s = new StringBuilder(n);
        while (b.position() < end) {
            int first = b.get() & 0xFF;
            int c;
            if (first < 0x80) {
                c = first;
            } else if (first >= 0xC2 && first < 0xE0) {
                c = (first & 0x1F) << 6 | continuation(b, end);
            } else if (first >= 0xE0 && first < 0xF0) {
                c = (first & 0x0F) << 12 | continuation(b, end) << 6 | continuation(b, end);
                if (c < 0x800) {
                    throw new MalformedRecordException("an overlong UTF-8 sequence");
                }
                if (Character.isLowSurrogate((char) c) && s.length() > 0
                        && Character.isHighSurrogate(s.charAt(s.length() - 1))) {
                    throw new MalformedRecordException("a surrogate pair written as two 3-byte sequences");
                }
            } else if (first >= 0xF0 && first < 0xF5) {
                c = (first & 0x07) << 18 | continuation(b, end) << 12 | continuation(b, end) << 6
                        | continuation(b, end);
                if (c < 0x10000 || c > Character.MAX_CODE_POINT) {
                    throw new MalformedRecordException("a 4-byte UTF-8 sequence outside the supplementary planes");
                }
            } else {
                throw new MalformedRecordException("byte 0x" + Integer.toHexString(first) + " cannot start a UTF-8 sequence");
            }
            s.appendCodePoint(c);
        }
        return s.toString();
    }

    private static int continuation(ByteBuffer b, int end) throws MalformedRecordException {
        if (b.position() == end) {
            throw new MalformedRecordException("a UTF-8 sequence cut off by the string's end");
        }
        int next = b.get() & 0xFF;
        if ((next & 0xC0) != 0x80) {
            throw new MalformedRecordException("byte 0x" + Integer.toHexString(next) + " is not a UTF-8 continuation");
        }
        return next & 0x3F;
    }
}
