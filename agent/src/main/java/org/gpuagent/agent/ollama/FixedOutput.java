package org.gpuagent.agent.ollama;

import java.io.IOException;
import java.io.OutputStream;

/** An answer body of a declared length. */
final class FixedOutput extends AnswerBody {
    private long left;

    FixedOutput(OutputStream out, long length) {
        super(out);
        this.left = length;
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
    public void close() throws IOException {
        out.flush();
    }

    boolean complete() {
        return left == 0;
    }
}
