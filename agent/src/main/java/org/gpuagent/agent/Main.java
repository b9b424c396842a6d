package org.gpuagent.agent;

import java.util.OptionalInt;
import org.gpuagent.agent.cli.CliContext;
import org.gpuagent.agent.cli.GpuAgentCommand;
import org.gpuagent.agent.cli.QuickAdmit;

/** {@code gpu-agent}: the launcher script and {@code java -jar gpu-agent.jar} start here. */
public final class Main {
    /**
     * The API's longest wait (ApiServer.MAX_WAIT, 10 minutes) plus two: a literal, so that a
     * client command does not load the server's classes to read it (a test checks they agree).
     */
    static final long MAX_RESPONSE_SECONDS = 720;
    static final int MAX_METRICS_CONNECTIONS = 256;

    private Main() {
    }

    public static void main(String[] args) {
        configureHttpServer();
        CliContext ctx = CliContext.system();
        // admit first, before any picocli class loads: see QuickAdmit
        OptionalInt quick = QuickAdmit.tryRun(args, ctx);
        System.exit(quick.isPresent() ? quick.getAsInt() : GpuAgentCommand.executeWithPicocli(args, ctx));
    }

    /**
     * JDK HttpServer settings (the metrics listener's), read once when its first server is made, so
     * set before any: TCP_NODELAY (else a keep-alive response waits ~40 ms for Nagle and a delayed
     * ACK), at most {@value #MAX_METRICS_CONNECTIONS} connections (idle ones cost no thread, but a
     * file descriptor each), 30 s to read a request's headers and body (the metrics listener's
     * SlowClientGuard cuts a slow header read at 5 s), and a response time above the longest wait
     * an admission may ask for.
     */
    static void configureHttpServer() {
        setIfAbsent("sun.net.httpserver.nodelay", "true");
        setIfAbsent("sun.net.httpserver.maxConnections", Integer.toString(MAX_METRICS_CONNECTIONS));
        setIfAbsent("sun.net.httpserver.maxReqTime", "30");
        setIfAbsent("sun.net.httpserver.maxRspTime", Long.toString(MAX_RESPONSE_SECONDS));
    }

    private static void setIfAbsent(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }
}
