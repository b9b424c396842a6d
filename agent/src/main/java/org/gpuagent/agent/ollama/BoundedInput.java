package org.gpuagent.agent.ollama;

import java.io.IOException;
import java.io.InputStream;

/** A request body of {@code Content-Length} bytes. */
final class BoundedInput extends RequestBody {
    private long left;

    BoundedInput(InputStream in, long length) {
        super(in);
        this.left = length;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (left <= 0) {
            return -1;
        }
        int n = readDue(b, off, len, left);
        left -= n;
        return n;
    }
}
