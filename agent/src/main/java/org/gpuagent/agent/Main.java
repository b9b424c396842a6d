package org.gpuagent.agent;

import java.util.OptionalInt;
import org.gpuagent.agent.cli.CliContext;
import org.gpuagent.agent.cli.GpuAgentCommand;
import org.gpuagent.agent.cli.QuickAdmit;
import org.gpuagent.agent.cli.QuickExec;

/** {@code gpu-agent}: the launcher script and {@code java -jar gpu-agent.jar} start here. */
public final class Main {
    /** Connections the metrics listener keeps open at most. */
    static final int MAX_METRICS_CONNECTIONS = 256;

    private Main() {
    }

    public static void main(String[] args) {
        configureHttpServer();
        CliContext ctx = CliContext.system();
        // admit and exec first, before any picocli class loads: see QuickAdmit, QuickExec
        OptionalInt quick = QuickAdmit.tryRun(args, ctx);
        if (quick.isEmpty()) {
            quick = QuickExec.tryRun(args, ctx);
        }
        System.exit(quick.isPresent() ? quick.getAsInt() : GpuAgentCommand.executeWithPicocli(args, ctx));
    }

    /**
     * JDK HttpServer settings (the metrics listener's; the API has its own server), read once when
     * the first such server is made, so set before any: TCP_NODELAY (else a keep-alive response
     * waits ~40 ms for Nagle and a delayed ACK), at most {@value #MAX_METRICS_CONNECTIONS}
     * connections (an idle one costs no thread, but a file descriptor), and 30 s to read a request's
     * headers and body (the listener's SlowClientGuard cuts a slow header read at 5 s) and to write
     * its answer.
     */
    static void configureHttpServer() {
        setIfAbsent("sun.net.httpserver.nodelay", "true");
        setIfAbsent("sun.net.httpserver.maxConnections", Integer.toString(MAX_METRICS_CONNECTIONS));
        setIfAbsent("sun.net.httpserver.maxReqTime", "30");
        setIfAbsent("sun.net.httpserver.maxRspTime", "30");
    }

    private static void setIfAbsent(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }
}
