package org.gpuagent.agent.ollama;

import java.io.IOException;
import java.io.OutputStream;

/** An answer body of a declared length. */
final class FixedOutput extends OutputStream {
    private final OutputStream out;
    private long left;

    FixedOutput(OutputStream out, long length) {
        this.out = out;
        this.left = length;
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        if (len > left) {
            throw new IOException("the answer is longer than its Content-Length");
        }
        out.write(b, off, len);
        left -= len;
    }

    @Override
    public void flush() throws IOException {
        out.flush();
    }

    @Override
    public void close() throws IOException {
        out.flush();
    }

    boolean complete() {
        return left == 0;
    }
}
