package org.gpuagent.agent.ollama;

import java.io.IOException;

/** A request that cannot be read as HTTP/1.1; answered with {@code status} and closed. */
final class BadRequest extends IOException {
    private static final long serialVersionUID = 1L;
    final int status;

    BadRequest(int status, String message) {
        super(message);
        this.status = status;
    }
}
