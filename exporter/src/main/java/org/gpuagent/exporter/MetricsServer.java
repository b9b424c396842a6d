package org.gpuagent.exporter;

import com.sun.net.httpserver.HttpContext;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.expositionformats.ExpositionFormatWriter;
import io.prometheus.metrics.expositionformats.ExpositionFormats;
import io.prometheus.metrics.model.registry.MetricNameFilter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;
import java.util.zip.GZIPOutputStream;

/**
 * The metrics listener: {@code GET /metrics} (Prometheus text or OpenMetrics by the
 * {@code Accept} header, gzip when {@code Accept-Encoding} allows it, {@code ?name[]=} to pick
 * families) and {@code GET /healthz}. HEAD works on both; other methods get 405, other paths 404.
 *
 * <p>Serving a scrape renders what {@link GpuMetrics} already holds: it never calls NVML, so a GPU
 * blocked in the driver cannot block a scrape. A rendered body is reused by the scrapes that come
 * within {@code cacheMaxAge} (default 1 s) of it, as long as nothing was published in between; so
 * concurrent scrapers (two Prometheus servers, a dashboard) cost one render, and only the JVM's and
 * the timers' values can be that much older. {@code /healthz} says the agent process serves:
 * {@code 200 ok}, or {@code 503 unhealthy: <reason>} while the ledger journal cannot be written
 * (the agent refuses admissions then, and recovers by itself when the disk can be written). The
 * GPU's state is in the metrics ({@code nvgpu_up}), because restarting the agent does not bring a
 * lost GPU back.
 *
 * <p>The agent starts it and closes it; requests are read and answered on daemon threads behind a
 * {@link SlowClientGuard}, so clients that send slowly cannot hold the threads that answer.
 */
public final class MetricsServer implements AutoCloseable {
    /** The contract's default metrics port. */
    public static final int DEFAULT_PORT = 9848;
    /**
     * Request threads by default: the handler does no I/O besides the socket (bodies come from the
     * cache), so more threads than cores only add context switches (measured: p99 at 10 concurrent
     * scrapers on 2 cores was lower with 2 threads than with 4).
     */
    public static final int DEFAULT_THREADS = Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));
    public static final Duration DEFAULT_CACHE_MAX_AGE = Duration.ofSeconds(1);
    /**
     * The slow-client guard's limits (see {@link SlowClientGuard}): a request's headers within 5 s
     * of its first byte, 32 requests read at once.
     */
    public static final Duration HEADER_TIMEOUT = Duration.ofSeconds(5);
    public static final int MAX_READING = 32;
    /** JDK HttpServer switch for TCP_NODELAY on accepted connections. */
    public static final String NODELAY_PROPERTY = "sun.net.httpserver.nodelay";
    private static final System.Logger LOG = System.getLogger(MetricsServer.class.getName());

    private final HttpServer server;
    private final SlowClientGuard guard;
    private final GpuMetrics metrics;
    private final long cacheMaxAgeNanos;
    private final ExpositionFormats formats = ExpositionFormats.init();
    private final ConcurrentHashMap<BodyKey, BodySlot> bodies = new ConcurrentHashMap<>();

    private MetricsServer(HttpServer server, SlowClientGuard guard, GpuMetrics metrics, Duration cacheMaxAge) {
        this.server = server;
        this.guard = guard;
        this.metrics = metrics;
        this.cacheMaxAgeNanos = cacheMaxAge.toNanos();
    }

    /** Listens on {@code address} (port 0: any free port, see {@link #port()}) with the defaults. */
    public static MetricsServer start(GpuMetrics metrics, InetSocketAddress address) throws IOException {
        return start(metrics, address, DEFAULT_THREADS, DEFAULT_CACHE_MAX_AGE);
    }

    /**
     * @param threads     requests answered at once, on threads that a {@link SlowClientGuard}
     *                    keeps from slow clients; 0 handles requests on the server's own dispatcher
     *                    thread (no hand-off: the lowest latency while bodies come from the cache,
     *                    but one render at a time, and no guard: for benchmarks only)
     * @param cacheMaxAge how long a rendered body may be reused while nothing was published (zero:
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
                Optional<String> problem = metrics.problem();
                text(exchange, problem.isPresent() ? 503 : 200, problem.map(p -> "unhealthy: " + p).orElse("ok") + "\n");
                return;
            }
            metrics.markScrape();
            Body body;
            try {
                body = body(exchange);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "rendering /metrics failed", e);
                text(exchange, 500, "metrics could not be rendered: " + e.getClass().getSimpleName() + "\n");
                return;
            }
            exchange.getResponseHeaders().set("Content-Type", body.contentType());
            if (body.gzip()) {
                exchange.getResponseHeaders().set("Content-Encoding", "gzip");
            }
            if ("HEAD".equals(method)) {
                exchange.getResponseHeaders().set("Content-Length", Integer.toString(body.bytes().length));
                exchange.sendResponseHeaders(200, -1);
                return;
            }
            exchange.sendResponseHeaders(200, body.bytes().length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body.bytes());
            }
        }
    }

    private Body body(HttpExchange exchange) {
        String accept = exchange.getRequestHeaders().getFirst("Accept");
        ExpositionFormatWriter writer = formats.findWriter(accept);
        EscapingScheme escaping = EscapingScheme.fromAcceptHeader(accept);
        boolean gzip = acceptsGzip(exchange.getRequestHeaders().get("Accept-Encoding"));
        List<String> names = names(exchange.getRequestURI().getRawQuery());
        if (!names.isEmpty()) {
            Predicate<String> filter = MetricNameFilter.builder().nameMustBeEqualTo(names).build();
            return render(accept, writer.getContentType(), gzip, filter, 0);
        }
        BodyKey key = new BodyKey(writer.getContentType(), escaping, gzip);
        BodySlot slot = bodies.computeIfAbsent(key, k -> new BodySlot());
        long generation = metrics.generation();
        Body cached = slot.body;
        if (fresh(cached, generation)) {
            return cached;
        }
        // One render per key at a time: concurrent scrapers wait for it and share the result.
        slot.lock.lock();
        try {
            cached = slot.body;
            if (fresh(cached, generation)) {
                return cached;
            }
            Body b = render(accept, writer.getContentType(), gzip, null, generation);
            slot.body = b;
            return b;
        } finally {
            slot.lock.unlock();
        }
    }

    private boolean fresh(Body b, long generation) {
        return b != null && b.generation() == generation && System.nanoTime() - b.renderedAtNanos() < cacheMaxAgeNanos;
    }

    private Body render(String accept, String contentType, boolean gzip, Predicate<String> filter, long generation) {
        long at = System.nanoTime();
        ByteArrayOutputStream buffer = new ByteArrayOutputStream(32 * 1024);
        try {
            if (gzip) {
                try (GZIPOutputStream z = new GZIPOutputStream(buffer, 8192)) {
                    write(z, accept, filter);
                }
            } else {
                write(buffer, accept, filter);
            }
        } catch (IOException e) {
            throw new IllegalStateException("writing to memory failed", e);
        }
        return new Body(buffer.toByteArray(), contentType, gzip, generation, at);
    }

    private void write(OutputStream out, String accept, Predicate<String> filter) throws IOException {
        if (filter == null) {
            metrics.write(out, accept);
        } else {
            metrics.write(out, accept, filter);
        }
    }

    static boolean acceptsGzip(List<String> acceptEncoding) {
        if (acceptEncoding == null) {
            return false;
        }
        for (String header : acceptEncoding) {
            for (String part : header.split(",")) {
                String[] coding = part.trim().split(";");
                if (!coding[0].trim().equalsIgnoreCase("gzip")) {
                    continue;
                }
                boolean refused = false;
                for (int i = 1; i < coding.length; i++) {
                    String param = coding[i].trim().toLowerCase(Locale.ROOT).replace(" ", "");
                    if (param.equals("q=0") || param.matches("q=0\\.0*")) {
                        refused = true;
                    }
                }
                return !refused;
            }
        }
        return false;
    }

    /** The {@code name[]} parameters of a raw query string. */
    static List<String> names(String rawQuery) {
        List<String> names = new ArrayList<>();
        if (rawQuery == null || rawQuery.isEmpty()) {
            return names;
        }
        for (String pair : rawQuery.split("&")) {
            int eq = pair.indexOf('=');
            if (eq < 0) {
                continue;
            }
            String key = URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8);
            if ("name[]".equals(key)) {
                String value = URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
                if (!value.isEmpty()) {
                    names.add(value);
                }
            }
        }
        return names;
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

    private record BodyKey(String contentType, EscapingScheme escaping, boolean gzip) {
    }

    private record Body(byte[] bytes, String contentType, boolean gzip, long generation, long renderedAtNanos) {
    }

    private static final class BodySlot {
        final ReentrantLock lock = new ReentrantLock();
        volatile Body body;
    }
}
