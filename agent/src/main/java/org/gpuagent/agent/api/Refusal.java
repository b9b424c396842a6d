package org.gpuagent.agent.api;

/**
 * A request the protocol layer refuses (malformed, too large, cut short): answered with
 * {@link #error}, then the connection closes. Thrown often by design, so it carries no stack trace.
 */
final class Refusal extends Exception {
    private static final long serialVersionUID = 1L;
    final transient ApiError error;

    Refusal(int status, String code, String message) {
        super(message, null, false, false);
        this.error = new ApiError(status, code, message);
    }
}
