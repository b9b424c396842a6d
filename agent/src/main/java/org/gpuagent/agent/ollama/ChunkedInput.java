package org.gpuagent.agent.ollama;

import java.io.IOException;
import java.io.InputStream;

/** A chunked request body (RFC 9112 7.1), trailers skipped. */
final class ChunkedInput extends RequestBody {
    private long left;
    private boolean done;

    ChunkedInput(InputStream in) {
        super(in);
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (done) {
            return -1;
        }
        if (left == 0) {
            String size = ProxyRequestReader.line(in, false);
            int semi = size.indexOf(';');
            try {
                left = Long.parseLong((semi >= 0 ? size.substring(0, semi) : size).strip(), 16);
            } catch (NumberFormatException e) {
                throw new BadRequest(400, "a chunk size is not hexadecimal");
            }
            if (left < 0) {
                throw new BadRequest(400, "a chunk size is negative");
            }
            if (left == 0) {
                while (!ProxyRequestReader.line(in, false).isEmpty()) {
                    // trailers: not passed on
                }
                done = true;
                return -1;
            }
        }
        int n = readDue(b, off, len, left);
        left -= n;
        if (left == 0) {
            ProxyRequestReader.line(in, false);
        }
        return n;
    }
}
