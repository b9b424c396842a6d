package org.gpuagent.agent.ollama;

import java.io.IOException;
import java.io.OutputStream;

/**
 * An answer body written to the connection, framed by a declared length ({@link FixedOutput}) or
 * chunked ({@link ChunkedOutput}); closing it ends the body, not the connection.
 */
abstract class AnswerBody extends OutputStream {
    final OutputStream out;

    AnswerBody(OutputStream out) {
        this.out = out;
    }

    @Override
    public final void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public final void flush() throws IOException {
        out.flush();
    }
}
