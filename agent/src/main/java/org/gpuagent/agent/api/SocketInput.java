package org.gpuagent.agent.api;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.Arrays;

/**
 * A connection's input: a buffer over the socket whose reads honour a deadline (the socket
 * timeout is set to what is left of it before every read, so a client sending a byte at a time
 * cannot stretch it). It reads lines of a request's head, and bytes; {@link RequestReader} makes
 * requests of them. One connection's thread uses it, except {@link #peerClosed()}, which the
 * handler of that connection's request calls on the same thread.
 */
final class SocketInput {
    private final Socket socket;
    private InputStream stream;
    private byte[] buf = new byte[8192];
    private int pos;
    private int end;
    private long deadline = Long.MAX_VALUE;
    private boolean eof;

    SocketInput(Socket socket) {
        this.socket = socket;
    }

    private InputStream stream() throws IOException {
        if (stream == null) {
            stream = socket.getInputStream();
        }
        return stream;
    }

    void deadline(long nanos) {
        deadline = nanos;
    }

    /** Waits up to {@code wait} for a request's first byte; false on end of stream or silence. */
    boolean awaitByte(Duration wait) throws IOException {
        if (pos < end) {
            return true;
        }
        deadline = System.nanoTime() + wait.toNanos();
        try {
            return fill();
        } catch (SocketTimeoutException e) {
            return false;
        }
    }

    /** Reads more into the buffer; false at end of stream. */
    private boolean fill() throws IOException {
        if (eof) {
            return false;
        }
        if (pos == end) {
            pos = 0;
            end = 0;
        } else if (end == buf.length) {
            if (pos > 0) {
                System.arraycopy(buf, pos, buf, 0, end - pos);
                end -= pos;
                pos = 0;
            } else {
                buf = Arrays.copyOf(buf, buf.length * 2);
            }
        }
        long left = (deadline - System.nanoTime()) / 1_000_000;
        if (left <= 0) {
            throw new SocketTimeoutException("request deadline");
        }
        socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, left));
        int n = stream().read(buf, end, buf.length - end);
        if (n < 0) {
            eof = true;
            return false;
        }
        end += n;
        return true;
    }

    private int read() throws IOException {
        if (pos == end && !fill()) {
            return -1;
        }
        return buf[pos++] & 0xff;
    }

    interface TooLong {
        Refusal refusal();
    }

    /** A line ending in LF (a CR before it dropped), ISO-8859-1, at most {@code max} bytes. */
    String line(int max, TooLong tooLong) throws IOException, Refusal {
        StringBuilder b = new StringBuilder(64);
        while (true) {
            int c = read();
            if (c < 0) {
                throw truncated();
            }
            if (c == '\n') {
                int len = b.length();
                if (len > 0 && b.charAt(len - 1) == '\r') {
                    b.setLength(len - 1);
                }
                return b.toString();
            }
            if (b.length() >= max) {
                throw tooLong.refusal();
            }
            if (c == 0) {
                throw new Refusal(400, "bad_request", "a NUL byte in the request head");
            }
            b.append((char) c);
        }
    }

    /**
     * The stream ended inside a request: answered (a client that only half-closed still reads),
     * then the connection closes.
     */
    private static Refusal truncated() {
        return new Refusal(400, "bad_request", "the request ended before it was complete");
    }

    byte[] bytes(int n) throws IOException, Refusal {
        byte[] out = new byte[n];
        int at = 0;
        while (at < n) {
            if (pos == end && !fill()) {
                throw truncated();
            }
            int k = Math.min(n - at, end - pos);
            System.arraycopy(buf, pos, out, at, k);
            pos += k;
            at += k;
        }
        return out;
    }

    void skip(long n) throws IOException, Refusal {
        long left = n;
        while (left > 0) {
            if (pos == end && !fill()) {
                throw truncated();
            }
            int k = (int) Math.min(left, end - pos);
            pos += k;
            left -= k;
        }
    }

    /**
     * Whether the peer closed or reset the connection, looking without waiting: bytes that
     * arrive (a pipelined request) stay in the buffer.
     */
    boolean peerClosed() {
        if (eof) {
            return true;
        }
        if (socket.isClosed()) {
            return true;
        }
        if (pos < end || end == buf.length) {
            return false;
        }
        try {
            deadline = System.nanoTime() + 2_000_000;
            return !fill();
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true;
        }
    }
}
