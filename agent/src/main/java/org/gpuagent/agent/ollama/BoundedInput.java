package org.gpuagent.agent.ollama;

import java.io.IOException;
import java.io.InputStream;

/** A request body of {@code Content-Length} bytes. */
final class BoundedInput extends InputStream {
    private final InputStream in;
    private long left;

    BoundedInput(InputStream in, long length) {
        this.in = in;
        this.left = length;
    }

    @Override
    public int read() throws IOException {
        byte[] b = new byte[1];
        return read(b, 0, 1) < 0 ? -1 : b[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (left <= 0) {
            return -1;
        }
        int n = in.read(b, off, (int) Math.min(len, left));
        if (n < 0) {
            throw new IOException("the request body ended early");
        }
        left -= n;
        return n;
    }

    @Override
    public void close() {
        // the connection's stream stays open for the next request
    }
}
