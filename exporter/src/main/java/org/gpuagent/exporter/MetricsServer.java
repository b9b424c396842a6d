package org.gpuagent.exporter;

import com.sun.net.httpserver.HttpContext;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.prometheus.metrics.exporter.common.PrometheusScrapeHandler;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * The metrics listener: {@code GET /metrics}, answered by client_java's scrape handler
 * ({@link PrometheusScrapeHandler}: Prometheus text or OpenMetrics by the {@code Accept} header,
 * gzip when {@code Accept-Encoding} names it, {@code ?name[]=} to pick families), and
 * {@code GET /healthz}. HEAD works on both; other methods get 405, other paths 404.
 *
 * <p>A scrape renders what {@link GpuMetrics} holds: it never calls NVML, so a GPU blocked in the
 * driver cannot block a scrape. Scrapes that ask alike within {@code cacheMaxAge} (default 1 s),
 * with nothing published in between, share one answer ({@link ScrapeCache}). {@code /healthz} says the agent process serves: {@code 200 ok}, or
 * {@code 503 unhealthy: <reason>} while the ledger journal cannot be written (the agent refuses
 * admissions then, and recovers by itself when the disk can be written). The GPU's state is in
 * the metrics ({@code nvgpu_up}), because restarting the agent does not bring a lost GPU back.
 *
 * <p>Why client_java's handler in a JDK {@link HttpServer} of our own rather than client_java's
 * {@code HTTPServer}: its health endpoint only says that it runs, where {@code /healthz} gives the
 * journal's problem; and the {@link SlowClientGuard}, which keeps clients that send slowly from
 * holding the threads that answer, needs the server's executor and a filter on every context,
 * where {@code HTTPServer.Builder} (1.10) creates the server and its contexts itself.
 */
public final class MetricsServer implements AutoCloseable {
    /** The contract's default metrics port. */
    public static final int DEFAULT_PORT = 9848;
    /**
     * Request threads by default: a scrape does no I/O besides the socket, so more threads than
     * cores only add context switches (measured: p99 at 10 concurrent scrapers on 2 cores was
     * lower with 2 threads than with 4).
     */
    public static final int DEFAULT_THREADS = Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));
    /**
     * The slow-client guard's limits (see {@link SlowClientGuard}): a request's headers within 5 s
     * of its first byte, 32 requests read at once.
     */
    public static final Duration HEADER_TIMEOUT = Duration.ofSeconds(5);
    public static final int MAX_READING = 32;
    /** JDK HttpServer switch for TCP_NODELAY on accepted connections. */
    public static final String NODELAY_PROPERTY = "sun.net.httpserver.nodelay";
    public static final Duration DEFAULT_CACHE_MAX_AGE = Duration.ofSeconds(1);

    private final HttpServer server;
    private final SlowClientGuard guard;
    private final GpuMetrics metrics;
    private final ScrapeCache scrapes;

    private MetricsServer(HttpServer server, SlowClientGuard guard, GpuMetrics metrics, Duration cacheMaxAge) {
        this.server = server;
        this.guard = guard;
        this.metrics = metrics;
        this.scrapes = new ScrapeCache(new PrometheusScrapeHandler(metrics.registry()), metrics::generation,
                System::nanoTime, cacheMaxAge);
    }

    /** Listens on {@code address} (port 0: any free port, see {@link #port()}) with the defaults. */
    public static MetricsServer start(GpuMetrics metrics, InetSocketAddress address) throws IOException {
        return start(metrics, address, DEFAULT_THREADS, DEFAULT_CACHE_MAX_AGE);
    }

    /**
     * @param threads     requests answered at once, on threads that a {@link SlowClientGuard} keeps
     *                    from slow clients; 0 handles requests on the server's own dispatcher thread
     *                    (no hand-off, one scrape at a time, and no guard: for benchmarks only)
     * @param cacheMaxAge how long a scrape's answer may be reused while nothing was published (zero:
     *                    render every scrape)
     * @throws IOException with a message naming the address when it cannot listen (port in use,
     *                     unknown host, no permission)
     */
    public static MetricsServer start(GpuMetrics metrics, InetSocketAddress address, int threads, Duration cacheMaxAge)
            throws IOException {
        Objects.requireNonNull(metrics, "metrics");
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(cacheMaxAge, "cacheMaxAge");
        if (threads < 0) {
            throw new IllegalArgumentException("the metrics server's thread count must not be negative, got "
                    + threads);
        }
        if (cacheMaxAge.isNegative()) {
            throw new IllegalArgumentException("the metrics cache age must not be negative, got " + cacheMaxAge);
        }
        if (address.isUnresolved()) {
            throw new IOException("cannot serve metrics on " + address.getHostString() + ":" + address.getPort()
                    + ": unknown host");
        }
        // The JDK server writes headers and body in separate segments; with Nagle's algorithm on,
        // a keep-alive client's delayed ACK then holds every response about 40 ms. The property is
        // read once, when the first JDK HttpServer starts: the agent should set it before starting
        // any (this is a fallback for when it did not).
        if (System.getProperty(NODELAY_PROPERTY) == null) {
            System.setProperty(NODELAY_PROPERTY, "true");
        }
        HttpServer http;
        try {
            http = HttpServer.create(address, 64);
        } catch (IOException e) {
            throw new IOException("cannot serve metrics on " + address.getHostString() + ":" + address.getPort()
                    + ": " + e.getMessage(), e);
        }
        SlowClientGuard guard = threads == 0 ? null : SlowClientGuard.install(http,
                new SlowClientGuard.Limits(HEADER_TIMEOUT, MAX_READING, threads), "metrics-http");
        MetricsServer s = new MetricsServer(http, guard, metrics, cacheMaxAge);
        HttpContext context = http.createContext("/", s::handle);
        if (guard != null) {
            guard.protect(context);
        }
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
        if (guard != null) {
            guard.close();
        }
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath();
            String method = exchange.getRequestMethod();
            if (!"/metrics".equals(path) && !"/healthz".equals(path)) {
                text(exchange, 404, "not found: try /metrics or /healthz\n");
            } else if (!"GET".equals(method) && !"HEAD".equals(method)) {
                exchange.getResponseHeaders().set("Allow", "GET, HEAD");
                text(exchange, 405, "method not allowed: " + method + "\n");
            } else if ("/healthz".equals(path)) {
                Optional<String> problem = metrics.problem();
                text(exchange, problem.isPresent() ? 503 : 200, problem.map(p -> "unhealthy: " + p).orElse("ok") + "\n");
            } else {
                metrics.markScrape();
                scrapes.answer(exchange).send(exchange);
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
}
