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
}
