package org.gpuagent.scheduler.journal;

import java.nio.ByteBuffer;
import java.util.Arrays;

/** A growable big-endian byte buffer for encoding records; reused to avoid garbage. */
final class FrameBuffer {
    private byte[] buf;
    private int size;

    FrameBuffer(int initialCapacity) {
        buf = new byte[Math.max(64, initialCapacity)];
    }

    int size() {
        return size;
    }

    void reset() {
        size = 0;
    }

    byte[] toByteArray() {
        return Arrays.copyOf(buf, size);
    }

    ByteBuffer asByteBuffer() {
        return ByteBuffer.wrap(buf, 0, size);
    }

    byte[] array() {
        return buf;
    }

    private void ensure(int more) {
        if (size + more > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, size + more));
        }
    }

    void putByte(int v) {
        ensure(1);
        buf[size++] = (byte) v;
    }

    void putShort(int v) {
        ensure(2);
        buf[size++] = (byte) (v >>> 8);
        buf[size++] = (byte) v;
    }

    void putInt(int v) {
        ensure(4);
        setInt(size, v);
        size += 4;
    }

    void setInt(int at, int v) {
        buf[at] = (byte) (v >>> 24);
        buf[at + 1] = (byte) (v >>> 16);
        buf[at + 2] = (byte) (v >>> 8);
        buf[at + 3] = (byte) v;
    }

    void putLong(long v) {
        putInt((int) (v >>> 32));
        putInt((int) v);
    }

    void putBytes(byte[] b) {
        ensure(b.length);
        System.arraycopy(b, 0, buf, size, b.length);
        size += b.length;
    }

    /**
     * A string as u16 length + UTF-8, where a lone surrogate (which Java strings may hold and
     * UTF-8 cannot express) is written as its own 3-byte sequence, as WTF-8 does: every string
     * reads back identical ({@link JournalCodec#readString}), and a well-formed one is plain UTF-8.
     *
     * @throws IllegalArgumentException the encoding is longer than 65,535 bytes (nothing is written)
     */
    void putString(String s) {
        int start = size;
        putShort(0);
        for (int i = 0; i < s.length(); ) {
            int c = s.codePointAt(i);
            i += Character.charCount(c);
            if (c < 0x80) {
                putByte(c);
            } else if (c < 0x800) {
                putByte(0xC0 | c >>> 6);
                putByte(0x80 | c & 0x3F);
            } else if (c < 0x10000) {
                putByte(0xE0 | c >>> 12);
                putByte(0x80 | c >>> 6 & 0x3F);
                putByte(0x80 | c & 0x3F);
            } else {
                putByte(0xF0 | c >>> 18);
                putByte(0x80 | c >>> 12 & 0x3F);
                putByte(0x80 | c >>> 6 & 0x3F);
                putByte(0x80 | c & 0x3F);
            }
        }
        int length = size - start - 2;
        if (length > 0xFFFF) {
            size = start;
            throw new IllegalArgumentException("string too long for the journal: " + length + " bytes");
        }
        buf[start] = (byte) (length >>> 8);
        buf[start + 1] = (byte) length;
    }
}
