package org.gpuagent.agent.api;

import com.fasterxml.jackson.jr.ob.JSON;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.gpuagent.agent.logging.DaemonLog;
import org.gpuagent.scheduler.Admission;
import org.gpuagent.scheduler.AdmissionController;
import org.gpuagent.scheduler.AdmissionRequest;
import org.gpuagent.scheduler.Decision;
import org.gpuagent.scheduler.JournalUnavailableException;
import org.gpuagent.scheduler.Lease;
import org.gpuagent.scheduler.LeaseId;
import org.gpuagent.scheduler.Service;

/**
 * The API listener ({@code 127.0.0.1:9849} by default), JSON over HTTP/1.1, per the contract:
 * <ul>
 *   <li>{@code POST /v1/leases} → 201 {@code {"lease":{...},"preempted":[ids],"message"}}; 409
 *       {@code insufficient_vram} (with {@code reason} and {@code shortfallBytes}, also when
 *       {@code waitMs} ran out); 400; 404 {@code unknown_service}; 413; 429 {@code too_many_waiting}
 *       when {@link #MAX_WAITING} requests already wait; 503 {@code shutting_down}; 503
 *       {@code journal_unavailable} while the ledger journal cannot be written.</li>
 *   <li>{@code DELETE /v1/leases/{id}}, {@code DELETE /v1/leases?holder=ID} → 204 once the release
 *       is durable, idempotent; 503 {@code journal_unavailable} when it cannot be stored.</li>
 *   <li>{@code GET /v1/leases}, {@code GET /v1/leases/{id}}, {@code GET /v1/status}.</li>
 * </ul>
 * Every {@code /v1} call needs {@code Authorization: Bearer <token>} (401 otherwise, before
 * anything else is looked at). Errors are {@code {"error": code, "message": text}}; an unexpected
 * failure is a 500 whose message points to the log, never a stack trace.
 *
 * <p>Threads: requests run on a bounded pool of {@link #THREADS}. A request that has to wait (in
 * the queue, or for a preempted service's memory) blocks its exchange, not the ledger; at most
 * {@link #MAX_WAITING} may do so at once, so {@code THREADS − MAX_WAITING} threads always remain
 * for releases and status.
 */
public final class ApiServer implements AutoCloseable {
    public static final int MAX_BODY_BYTES = 64 * 1024;
    /** The longest {@code waitMs} honoured; a longer one is cut to this. */
    public static final Duration MAX_WAIT = Duration.ofMinutes(10);
    static final int THREADS = 16;
    static final int MAX_WAITING = 12;
    /** Beyond waitMs and eviction deadlines: when the ledger has still not answered, something is wrong. */
    private static final Duration ANSWER_SLACK = Duration.ofSeconds(30);
    private static final JSON WRITER = JSON.std;

    private final HttpServer server;
    private final ThreadPoolExecutor executor;
    private final ApiToken token;
    private final AdmissionController ledger;
    private final Supplier<Map<String, Object>> status;
    private final Runnable ledgerChanged;
    private final Duration longestEviction;
    private final Semaphore waiting = new Semaphore(MAX_WAITING);
    private volatile boolean closing;

    private ApiServer(HttpServer server, ThreadPoolExecutor executor, ApiToken token, AdmissionController ledger,
            Supplier<Map<String, Object>> status, Runnable ledgerChanged) {
        this.server = server;
        this.executor = executor;
        this.token = token;
        this.ledger = ledger;
        this.status = status;
        this.ledgerChanged = ledgerChanged;
        this.longestEviction = ledger.config().services().stream().map(Service::evictionDeadline)
                .max(Duration::compareTo).orElse(Duration.ZERO);
    }

    /**
     * Listens on {@code address} (port 0: any free port).
     *
     * @param status        the body of {@code GET /v1/status}
     * @param ledgerChanged called after each request that may have changed the ledger (to refresh
     *                      the metrics' view of it)
     * @throws IOException with a message naming the address when it cannot listen
     */
    public static ApiServer start(InetSocketAddress address, ApiToken token, AdmissionController ledger,
            Supplier<Map<String, Object>> status, Runnable ledgerChanged) throws IOException {
        HttpServer server;
        try {
            server = HttpServer.create(address, 64);
        } catch (BindException e) {
            throw new IOException("cannot listen on " + address.getHostString() + ":" + address.getPort()
                    + " for the API: " + e.getMessage() + " (another gpu-agent? choose --api-listen)", e);
        }
        AtomicInteger n = new AtomicInteger();
        ThreadPoolExecutor executor = new ThreadPoolExecutor(THREADS, THREADS, 30, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(1024), r -> {
                    Thread t = new Thread(r, "api-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                }, new ThreadPoolExecutor.CallerRunsPolicy());
        executor.allowCoreThreadTimeOut(true);
        server.setExecutor(executor);
        ApiServer api = new ApiServer(server, executor, token, ledger, status, ledgerChanged);
        server.createContext("/", api::handle);
        server.start();
        return api;
    }

    public InetSocketAddress address() {
        return server.getAddress();
    }

    public int port() {
        return server.getAddress().getPort();
    }

    /** Refuses new requests with 503 from now on; {@link #close()} then stops listening. */
    public void beginShutdown() {
        closing = true;
    }

    /** Stops listening, gives exchanges in flight up to a second, and stops the threads. */
    @Override
    public void close() {
        closing = true;
        server.stop(1);
        executor.shutdownNow();
    }

    private void handle(HttpExchange ex) {
        try {
            try {
                route(ex);
            } catch (ApiError e) {
                send(ex, e.status(), e.body());
            } catch (RuntimeException e) {
                DaemonLog.warn("API " + ex.getRequestMethod() + " " + ex.getRequestURI().getRawPath() + " failed", e);
                send(ex, 500, new ApiError(500, "internal", "internal error; see the agent's log").body());
            }
        } catch (IOException e) {
            // the client went away; nothing to answer
        } finally {
            ex.close();
        }
    }

    private void route(HttpExchange ex) throws IOException, ApiError {
        String path = ex.getRequestURI().getRawPath();
        String method = ex.getRequestMethod();
        if (!path.equals("/v1") && !path.startsWith("/v1/")) {
            throw new ApiError(404, "not_found", "no such endpoint: " + path + " (the API is under /v1)");
        }
        if (!token.matchesHeader(ex.getRequestHeaders().getFirst("Authorization"))) {
            ex.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"gpu-agent\"");
            throw new ApiError(401, "unauthorized", "missing or wrong bearer token (it is in <state-dir>/api-token)");
        }
        if (closing) {
            throw new ApiError(503, "shutting_down", "the agent is shutting down");
        }
        if (path.equals("/v1/leases")) {
            switch (method) {
                case "GET" -> send(ex, 200, Map.of("leases", LeaseJson.of(ledger.view().leases())));
                case "POST" -> admit(ex);
                case "DELETE" -> releaseHolder(ex);
                default -> throw notAllowed(ex, "GET, POST, DELETE");
            }
        } else if (path.startsWith("/v1/leases/")) {
            LeaseId id = leaseId(path.substring("/v1/leases/".length()));
            switch (method) {
                case "GET" -> {
                    Lease l = ledger.view().lease(id).orElseThrow(() -> new ApiError(404, "no_such_lease",
                            "lease " + id + " is not held (released, or never granted)"));
                    send(ex, 200, LeaseJson.of(l));
                }
                case "DELETE" -> {
                    join(ledger.release(id));
                    ledgerChanged.run();
                    noContent(ex);
                }
                default -> throw notAllowed(ex, "GET, DELETE");
            }
        } else if (path.equals("/v1/status")) {
            if (!method.equals("GET")) {
                throw notAllowed(ex, "GET");
            }
            send(ex, 200, status.get());
        } else {
            throw new ApiError(404, "not_found", "no such endpoint: " + path);
        }
    }

    private void admit(HttpExchange ex) throws IOException, ApiError {
        AdmissionRequest request = LeaseRequestParser.parse(body(ex), MAX_WAIT);
        Admission a = ledger.request(request);
        Decision first = join(a.firstDecision());
        Decision.Final outcome;
        if (first instanceof Decision.Final f) {
            outcome = f;
        } else {
            ledgerChanged.run();
            if (!waiting.tryAcquire()) {
                a.cancel();
                join(a.outcome());
                ledgerChanged.run();
                throw new ApiError(429, "too_many_waiting", MAX_WAITING + " requests are already waiting; ask again later");
            }
            try {
                outcome = awaitOutcome(a, request.maxWait().plus(longestEviction).plus(ANSWER_SLACK));
            } finally {
                waiting.release();
            }
        }
        ledgerChanged.run();
        answer(ex, outcome);
    }

    private Decision.Final awaitOutcome(Admission a, Duration limit) throws ApiError {
        try {
            return a.outcome().get(limit.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            a.cancel();
            return join(a.outcome());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            a.cancel();
            throw new ApiError(503, "shutting_down", "the agent is shutting down");
        } catch (ExecutionException e) {
            throw failed(e.getCause());
        }
    }

    private void answer(HttpExchange ex, Decision.Final d) throws IOException, ApiError {
        if (d instanceof Decision.Admitted a) {
            send(ex, 201, admitted(a.lease(), List.of(), d.sentence()));
        } else if (d instanceof Decision.AdmittedAfterPreemption a) {
            send(ex, 201, admitted(a.lease(), a.victims(), d.sentence()));
        } else {
            Decision.Denied no = (Decision.Denied) d;
            switch (no.reason()) {
                case UNKNOWN_SERVICE -> throw new ApiError(404, "unknown_service", no.sentence());
                case SHUTDOWN -> throw new ApiError(503, "shutting_down", no.sentence());
                case JOURNAL_UNAVAILABLE -> throw new ApiError(503, "journal_unavailable", no.sentence());
                default -> {
                    Map<String, Object> extra = new LinkedHashMap<>();
                    extra.put("reason", no.reason().label());
                    extra.put("shortfallBytes", no.shortfallBytes());
                    extra.put("inTheWay", no.inTheWay().stream().map(l -> l.id().value()).toList());
                    throw new ApiError(409, "insufficient_vram", no.sentence(), extra);
                }
            }
        }
    }

    private static Map<String, Object> admitted(Lease lease, List<Lease> victims, String sentence) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("lease", LeaseJson.of(lease));
        m.put("preempted", victims.stream().map(v -> v.id().value()).toList());
        m.put("message", sentence);
        return m;
    }

    private void releaseHolder(HttpExchange ex) throws IOException, ApiError {
        String holder = queryParameter(ex.getRequestURI().getRawQuery(), "holder");
        if (holder == null || holder.isBlank()) {
            throw ApiError.badRequest("DELETE /v1/leases needs ?holder=ID (or use DELETE /v1/leases/{id})");
        }
        join(ledger.releaseHolder(holder));
        ledgerChanged.run();
        noContent(ex);
    }

    private static LeaseId leaseId(String text) throws ApiError {
        try {
            return LeaseId.parse(text);
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest("not a lease id: '" + text + "' (expected a positive number)");
        }
    }

    private static String queryParameter(String rawQuery, String name) {
        if (rawQuery == null) {
            return null;
        }
        for (String pair : rawQuery.split("&")) {
            int eq = pair.indexOf('=');
            String k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            if (k.equals(name)) {
                return eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            }
        }
        return null;
    }

    private static ApiError notAllowed(HttpExchange ex, String allow) {
        ex.getResponseHeaders().set("Allow", allow);
        return new ApiError(405, "method_not_allowed", ex.getRequestMethod() + " is not allowed here (allowed: "
                + allow + ")");
    }

    /**
     * The request body, at most {@link #MAX_BODY_BYTES}; 413 beyond. The body is read up to the
     * limit even when Content-Length already says it is too large, so that the server can drain
     * the rest and the client reads a clean 413 instead of a reset connection (the JDK server
     * drains up to 64 KiB more); only an absurd length is refused unread.
     */
    private static byte[] body(HttpExchange ex) throws IOException, ApiError {
        String length = ex.getRequestHeaders().getFirst("Content-Length");
        if (length != null) {
            try {
                if (Long.parseLong(length.strip()) > 16L * MAX_BODY_BYTES) {
                    throw tooLarge();
                }
            } catch (NumberFormatException e) {
                throw ApiError.badRequest("Content-Length is not a number");
            }
        }
        InputStream in = ex.getRequestBody();
        byte[] b = in.readNBytes(MAX_BODY_BYTES + 1);
        if (b.length > MAX_BODY_BYTES) {
            throw tooLarge();
        }
        return b;
    }

    private static ApiError tooLarge() {
        return new ApiError(413, "body_too_large", "the request body is larger than " + MAX_BODY_BYTES + " bytes");
    }

    private static <T> T join(java.util.concurrent.CompletableFuture<T> f) throws ApiError {
        try {
            return f.get(ANSWER_SLACK.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiError(503, "shutting_down", "the agent is shutting down");
        } catch (ExecutionException e) {
            throw failed(e.getCause());
        } catch (TimeoutException | CancellationException e) {
            throw new ApiError(503, "ledger_busy", "the ledger did not answer within " + ANSWER_SLACK.toSeconds() + " s");
        }
    }

    /**
     * A request the ledger could not complete: the journal could not store it (503, the agent
     * recovers by itself: ask again later), or something unexpected (500).
     */
    private static ApiError failed(Throwable cause) {
        if (cause instanceof JournalUnavailableException e) {
            return new ApiError(503, "journal_unavailable", e.getMessage() + "; ask again once the agent's disk"
                    + " can be written");
        }
        DaemonLog.warn("the ledger failed a request", cause);
        return new ApiError(500, "internal", "internal error; see the agent's log");
    }

    private static void noContent(HttpExchange ex) throws IOException {
        ex.sendResponseHeaders(204, -1);
    }

    private static void send(HttpExchange ex, int status, Map<String, Object> body) throws IOException {
        byte[] bytes = WRITER.asBytes(body);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }
}
