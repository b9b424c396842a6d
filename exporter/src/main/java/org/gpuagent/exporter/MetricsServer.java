package org.gpuagent.exporter;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.prometheus.metrics.exporter.common.PrometheusScrapeHandler;
import io.prometheus.metrics.exporter.httpserver.HttpExchangeAdapter;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The metrics listener: {@code GET /metrics} (Prometheus text or OpenMetrics by the
 * {@code Accept} header, gzip when asked, {@code ?name[]=} to pick families) and
 * {@code GET /healthz}. HEAD works on both; other methods get 405, other paths 404.
 *
 * <p>Serving a scrape renders what {@link GpuMetrics} already holds: it never calls NVML, so a GPU
 * blocked in the driver cannot block a scrape. {@code /healthz} says the agent process serves
 * (liveness); the GPU's state is in the metrics ({@code nvgpu_up}), because restarting the agent
 * does not bring a lost GPU back.
 *
 * <p>The agent starts it and closes it; requests run on a small pool of daemon threads.
 */
public final class MetricsServer implements AutoCloseable {
    /** The contract's default metrics port. */
    public static final int DEFAULT_PORT = 9848;
    private static final int DEFAULT_THREADS = 4;
    private static final System.Logger LOG = System.getLogger(MetricsServer.class.getName());

    private final HttpServer server;
    private final ExecutorService executor;
    private final GpuMetrics metrics;
    private final PrometheusScrapeHandler scrapeHandler;

    private MetricsServer(HttpServer server, ExecutorService executor, GpuMetrics metrics) {
        this.server = server;
        this.executor = executor;
        this.metrics = metrics;
        this.scrapeHandler = new PrometheusScrapeHandler(metrics.registry());
    }

    /** Listens on {@code address} (port 0: any free port, see {@link #port()}) with the default pool. */
    public static MetricsServer start(GpuMetrics metrics, InetSocketAddress address) throws IOException {
        return start(metrics, address, DEFAULT_THREADS);
    }

    /**
     * @throws IOException with a message naming the address when it cannot listen (port in use,
     *                     unknown host, no permission)
     */
    public static MetricsServer start(GpuMetrics metrics, InetSocketAddress address, int threads) throws IOException {
        Objects.requireNonNull(metrics, "metrics");
        Objects.requireNonNull(address, "address");
        if (threads < 1) {
            throw new IllegalArgumentException("the metrics server needs at least one thread, got " + threads);
        }
        if (address.isUnresolved()) {
            throw new IOException("cannot serve metrics on " + address.getHostString() + ":" + address.getPort()
                    + ": unknown host");
        }
        HttpServer http;
        try {
            http = HttpServer.create(address, 64);
        } catch (IOException e) {
            throw new IOException("cannot serve metrics on " + address.getHostString() + ":" + address.getPort()
                    + ": " + e.getMessage(), e);
        }
        ExecutorService pool = Executors.newFixedThreadPool(threads, new DaemonThreads());
        MetricsServer s = new MetricsServer(http, pool, metrics);
        http.createContext("/", s::handle);
        http.setExecutor(pool);
        http.start();
        return s;
    }

    /** The port it listens on (the one chosen when started with port 0). */
    public int port() {
        return server.getAddress().getPort();
    }

    public InetSocketAddress address() {
        return server.getAddress();
    }

    /** Stops listening and stops the threads; a scrape in flight may be cut off. */
    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
        try {
            executor.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath();
            String method = exchange.getRequestMethod();
            boolean known = "/metrics".equals(path) || "/healthz".equals(path);
            if (!known) {
                text(exchange, 404, "not found: try /metrics or /healthz\n");
                return;
            }
            if (!"GET".equals(method) && !"HEAD".equals(method)) {
                exchange.getResponseHeaders().set("Allow", "GET, HEAD");
                text(exchange, 405, "method not allowed: " + method + "\n");
                return;
            }
            if ("/healthz".equals(path)) {
                text(exchange, 200, "ok\n");
                return;
            }
            metrics.markScrape();
            try {
                scrapeHandler.handleRequest(new HttpExchangeAdapter(exchange));
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "rendering /metrics failed", e);
                if (exchange.getResponseCode() == -1) {
                    text(exchange, 500, "metrics could not be rendered: " + e.getClass().getSimpleName() + "\n");
                }
            }
        }
    }

    private static void text(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
        if ("HEAD".equals(exchange.getRequestMethod())) {
            exchange.sendResponseHeaders(status, -1);
            return;
        }
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    private static final class DaemonThreads implements ThreadFactory {
        private final AtomicInteger next = new AtomicInteger(1);

        @Override
        public Thread newThread(Runnable r) {
            Thread t = new Thread(r, "metrics-http-" + next.getAndIncrement());
            t.setDaemon(true);
            return t;
        }
    }
}
