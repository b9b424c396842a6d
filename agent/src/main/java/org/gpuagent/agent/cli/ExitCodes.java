package org.gpuagent.agent.cli;

/** The contract's exit codes. */
public final class ExitCodes {
    public static final int OK = 0;
    /** A bad configuration, or the daemon could not start. */
    public static final int FAILURE = 1;
    /** A usage error: an unknown option, a bad size or duration, a malformed request. */
    public static final int USAGE = 2;
    /** The admission was denied (the reason is on stderr). */
    public static final int DENIED = 3;
    /** The agent cannot be reached (and the service is fail-closed). */
    public static final int UNREACHABLE = 4;

    private ExitCodes() {
    }

    /**
     * The exit code of an answer that is not a success, its sentence on {@code err}: a refusal
     * (404, 409) is {@link #DENIED}, a request the agent could not take (400, 413) is {@link #USAGE},
     * anything else {@link #UNREACHABLE}. One rule for every command that talks to the API.
     */
    static int ofRefusal(ApiClient.Response r, ApiClient api, java.io.PrintStream err) {
        switch (r.status()) {
            case 404, 409 -> {
                err.println("gpu-agent: " + r.message());
                return DENIED;
            }
            case 400, 413 -> {
                err.println("gpu-agent: the agent refused the request: " + r.message());
                return USAGE;
            }
            default -> {
                err.println("gpu-agent: " + api.answered(r));
                return UNREACHABLE;
            }
        }
    }
}
