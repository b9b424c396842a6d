package org.gpuagent.bench.exporter;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import org.gpuagent.exporter.MetricsServer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@code GET /metrics} over loopback from 10 concurrent scrapers (one keep-alive HTTP/1.1
 * connection each, {@link KeepAliveScraper}) against a live {@link MetricsServer} with the default
 * set and JVM metrics. Target: p99 ≤ 2 ms. {@code gzip=true} asks as Prometheus does (OpenMetrics,
 * gzip).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@Threads(10)
public class ExporterScrapeBenchmark {
    private static final String PROMETHEUS_ACCEPT = "application/openmetrics-text;version=1.0.0,"
            + "application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

    @Param({"false", "true"})
    public boolean gzip;

    /** Request threads of the server (0: on its dispatcher thread; -1: the default, min(4, cores)). */
    @Param({"-1"})
    public int serverThreads;

    private HomelabMetrics home;
    private MetricsServer server;
    private InetSocketAddress address;

    @Setup(Level.Trial)
    public void start() throws IOException {
        home = new HomelabMetrics(4, true);
        server = MetricsServer.start(home.metrics, new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                serverThreads < 0 ? MetricsServer.DEFAULT_THREADS : serverThreads, MetricsServer.DEFAULT_CACHE_MAX_AGE);
        address = new InetSocketAddress(InetAddress.getLoopbackAddress(), server.port());
    }

    @TearDown(Level.Trial)
    public void stop() {
        server.close();
    }

    /** One scraper: its own keep-alive connection, as each Prometheus server has. */
    @State(Scope.Thread)
    public static class Scraper {
        KeepAliveScraper connection;

        @Setup(Level.Trial)
        public void connect(ExporterScrapeBenchmark b) throws IOException {
            connection = b.gzip
                    ? new KeepAliveScraper(b.address, "/metrics", "Accept", PROMETHEUS_ACCEPT, "Accept-Encoding", "gzip")
                    : new KeepAliveScraper(b.address, "/metrics");
        }

        @TearDown(Level.Trial)
        public void disconnect() throws IOException {
            connection.close();
        }
    }

    @Benchmark
    public int scrape(Scraper s) throws IOException {
        return s.connection.get();
    }
}
