package org.gpuagent.bench.agent;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The running agent over HTTP, each benchmark thread a client on its own keep-alive connection:
 * an admission and its release ({@code POST /v1/leases}, {@code DELETE /v1/leases/{id}}, both
 * acknowledged only once durable in the journal), and a scrape ({@code GET /metrics}).
 *
 * <p>The agent is the one {@link AgentCapacity} started when it passes its address in system
 * properties ({@code gpuagent.bench.api}, {@code gpuagent.bench.metrics}, {@code gpuagent.bench.token});
 * without them the benchmark starts its own from {@code gpuagent.bench.launcher} (default
 * {@code agent/target/gpu-agent}, run from the repository root after {@code mvn package}).
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 2)
@Fork(1)
public class AgentHttpBenchmark {
    private static final Pattern LEASE_ID = Pattern.compile("\"id\"\\s*:\\s*(\\d+)");

    /** Where the agent is; starts one when the harness did not. */
    @State(Scope.Benchmark)
    public static class Target {
        InetSocketAddress api;
        InetSocketAddress metrics;
        String token;
        private RunningAgent own;
        final AtomicInteger clients = new AtomicInteger();

        @Setup(Level.Trial)
        public void find() throws Exception {
            String a = System.getProperty("gpuagent.bench.api");
            if (a != null) {
                api = address(a);
                metrics = address(System.getProperty("gpuagent.bench.metrics"));
                token = System.getProperty("gpuagent.bench.token");
                return;
            }
            own = RunningAgent.start(Path.of(System.getProperty("gpuagent.bench.launcher", "agent/target/gpu-agent")));
            api = own.api();
            metrics = own.metrics();
            token = own.token();
        }

        @TearDown(Level.Trial)
        public void stop() throws Exception {
            if (own != null) {
                own.close();
            }
        }

        static InetSocketAddress address(String hostPort) {
            int colon = hostPort.lastIndexOf(':');
            return new InetSocketAddress(hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)));
        }
    }

    /** One client: its connections and its holder name. */
    @State(Scope.Thread)
    public static class Client {
        KeepAliveClient api;
        KeepAliveClient metrics;
        String body;

        @Setup(Level.Trial)
        public void connect(Target t) throws IOException {
            api = new KeepAliveClient(t.api, t.token);
            metrics = new KeepAliveClient(t.metrics, null);
            body = "{\"service\":\"jellyfin\",\"bytes\":\"1MiB\",\"holder\":\"bench-" + t.clients.incrementAndGet() + "\"}";
        }

        @TearDown(Level.Trial)
        public void close() throws IOException {
            api.close();
            metrics.close();
        }
    }

    @Benchmark
    public int admitRelease(Client c) throws IOException {
        KeepAliveClient.Response admitted = c.api.send("POST", "/v1/leases", c.body);
        if (admitted.status() != 201) {
            throw new IOException("admission answered " + admitted.status() + ": " + admitted.body());
        }
        Matcher m = LEASE_ID.matcher(admitted.body());
        if (!m.find()) {
            throw new IOException("no lease id in " + admitted.body());
        }
        KeepAliveClient.Response released = c.api.send("DELETE", "/v1/leases/" + m.group(1), null);
        if (released.status() != 204) {
            throw new IOException("release answered " + released.status() + ": " + released.body());
        }
        return released.status();
    }

    @Benchmark
    public int scrape(Client c) throws IOException {
        KeepAliveClient.Response r = c.metrics.send("GET", "/metrics", null);
        if (r.status() != 200) {
            throw new IOException("/metrics answered " + r.status());
        }
        return r.body().length();
    }
}
