package org.gpuagent.agent.ollama;

import java.io.IOException;
import java.io.InputStream;

/**
 * A request body read from the connection as the handler asks for it, framed by
 * {@code Content-Length} ({@link BoundedInput}) or chunked ({@link ChunkedInput}). Closing it leaves
 * the connection's stream open for the next request.
 */
abstract class RequestBody extends InputStream {
    final InputStream in;

    RequestBody(InputStream in) {
        this.in = in;
    }

    @Override
    public final int read() throws IOException {
        byte[] b = new byte[1];
        return read(b, 0, 1) < 0 ? -1 : b[0] & 0xff;
    }

    /** At most {@code max} of the bytes the framing says are still due; they must come. */
    final int readDue(byte[] b, int off, int len, long max) throws IOException {
        int n = in.read(b, off, (int) Math.min(len, max));
        if (n < 0) {
            throw new IOException("the request body ended early");
        }
        return n;
    }

    @Override
    public final void close() {
        // the connection's stream stays open for the next request
    }
}
