package org.gpuagent.agent.api;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.gpuagent.agent.attribution.HolderNames;
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
 * anything else is looked at). Errors are {@code {"error": code, "message": text}}, the HTTP
 * layer's own included ({@link HttpListener}: 400, 408, 413, 414, 429, 431); an unexpected failure
 * is a 500 whose message points to the log, never a stack trace.
 *
 * <p>The give-up path is exact: a request that its client abandons (the connection closes while it
 * waits, or before the answer is written) or that its own limit ends either leaves no lease or hands
 * the lease back. A grant that races the withdrawal is answered 201 when the client is still there
 * and released when it is not; nothing granted goes unreported.
 *
 * <p>Threads: each connection has its own ({@link HttpListener}). A request that has to wait (in
 * the queue, or for a preempted service's memory) blocks its connection, not the ledger; at most
 * {@link #MAX_WAITING} may do so at once, and every {@value #CLIENT_CHECK_MS} ms each looks whether
 * its client is still connected.
 */
public final class ApiServer implements AutoCloseable {
    public static final int MAX_BODY_BYTES = 64 * 1024;
    /** The longest {@code waitMs} honoured; a longer one is cut to this. */
    public static final Duration MAX_WAIT = Duration.ofMinutes(10);
    static final int MAX_WAITING = 12;
    /** How often a waiting request looks whether its client is still connected. */
    static final long CLIENT_CHECK_MS = 100;
    /** Beyond waitMs and eviction deadlines: when the ledger has still not answered, something is wrong. */
    private static final Duration ANSWER_SLACK = Duration.ofSeconds(30);
    /** How long {@link #close()} lets requests being answered finish. */
    private static final Duration CLOSE_GRACE = Duration.ofSeconds(1);
    private static final JSON WRITER = JSON.std;

    private final HttpListener listener;
    private final ApiToken token;
    private final AdmissionController ledger;
    private final Supplier<Map<String, Object>> status;
    private final Runnable ledgerChanged;
    private final Duration longestEviction;
    private final Semaphore waiting;
    private volatile boolean closing;

    private ApiServer(InetSocketAddress address, HttpListener.Limits limits, ApiToken token,
            AdmissionController ledger, Supplier<Map<String, Object>> status, Runnable ledgerChanged,
            Semaphore waiting) throws IOException {
        this.token = token;
        this.ledger = ledger;
        this.status = status;
        this.ledgerChanged = ledgerChanged;
        this.waiting = waiting;
        this.longestEviction = ledger.config().services().stream().map(Service::evictionDeadline)
                .max(Duration::compareTo).orElse(Duration.ZERO);
        this.listener = HttpListener.start(address, this::handle, limits);
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
        return new ApiServer(address, HttpListener.Limits.DEFAULT, token, ledger, status, ledgerChanged,
                new Semaphore(MAX_WAITING));
    }

    /** For tests: other connection limits, and the permits of waiting requests. */
    static ApiServer start(InetSocketAddress address, HttpListener.Limits limits, ApiToken token,
            AdmissionController ledger, Semaphore waiting) throws IOException {
        return new ApiServer(address, limits, token, ledger, Map::of, () -> { }, waiting);
    }

    public InetSocketAddress address() {
        return listener.address();
    }

    public int port() {
        return listener.address().getPort();
    }

    /** Connections open now. */
    int openConnections() {
        return listener.openConnections();
    }

    /** Whether {@code address} reaches beyond this host (the API then needs its token kept secret). */
    public static boolean beyondLoopback(InetSocketAddress address) {
        return address.getAddress() == null || !address.getAddress().isLoopbackAddress();
    }

    /** Refuses new requests with 503 from now on; {@link #close()} then stops listening. */
    public void beginShutdown() {
        closing = true;
    }

    /** Stops listening, gives requests being answered up to a second, and closes every connection. */
    @Override
    public void close() {
        closing = true;
        listener.close(CLOSE_GRACE);
    }

    /** Answers one request (the listener calls it; the fuzz tests too). Never throws. */
    ApiExchange.Response handle(ApiExchange.Request request) {
        try {
            return route(request);
        } catch (ApiError e) {
            return errorResponse(e);
        } catch (RuntimeException e) {
            DaemonLog.warn("API " + request.method() + " " + request.rawPath() + " failed", e);
            return errorResponse(new ApiError(500, "internal", "internal error; see the agent's log"));
        }
    }

    private ApiExchange.Response route(ApiExchange.Request ex) throws ApiError {
        String path = ex.rawPath();
        String method = ex.method();
        if (!path.equals("/v1") && !path.startsWith("/v1/")) {
            throw new ApiError(404, "not_found", "no such endpoint: " + printable(path) + " (the API is under /v1)");
        }
        if (!token.matchesHeader(ex.header("Authorization"))) {
            throw new ApiError(401, "unauthorized", "missing or wrong bearer token (it is in <state-dir>/api-token)")
                    .withHeader("WWW-Authenticate", "Bearer realm=\"gpu-agent\"");
        }
        if (closing) {
            throw new ApiError(503, "shutting_down", "the agent is shutting down");
        }
        if (path.equals("/v1/leases")) {
            return switch (method) {
                case "GET" -> ok(Map.of("leases", LeaseJson.of(ledger.view().leases())));
                case "POST" -> admit(ex);
                case "DELETE" -> releaseHolder(ex);
                default -> throw notAllowed(method, "GET, POST, DELETE");
            };
        } else if (path.startsWith("/v1/leases/")) {
            LeaseId id = leaseId(path.substring("/v1/leases/".length()));
            switch (method) {
                case "GET" -> {
                    Lease l = ledger.view().lease(id).orElseThrow(() -> new ApiError(404, "no_such_lease",
                            "lease " + id + " is not held (released, or never granted)"));
                    return ok(LeaseJson.of(l));
                }
                case "DELETE" -> {
                    join(ledger.release(id));
                    ledgerChanged.run();
                    return ApiExchange.Response.noContent();
                }
                default -> throw notAllowed(method, "GET, DELETE");
            }
        } else if (path.equals("/v1/status")) {
            if (!method.equals("GET")) {
                throw notAllowed(method, "GET");
            }
            return ok(status.get());
        } else {
            throw new ApiError(404, "not_found", "no such endpoint: " + printable(path));
        }
    }

    private ApiExchange.Response admit(ApiExchange.Request ex) throws ApiError {
        AdmissionRequest request = LeaseRequestParser.parse(ex.body(), MAX_WAIT);
        Admission a = ledger.request(request);
        Decision first = join(a.firstDecision());
        Decision.Final outcome;
        if (first instanceof Decision.Final f) {
            outcome = f;
        } else {
            ledgerChanged.run();
            if (!waiting.tryAcquire()) {
                // Withdraw; but the grant may have come in the meantime: then it is answered, not lost.
                outcome = withdraw(a);
                if (!(outcome instanceof Decision.Admitted) && !(outcome instanceof Decision.AdmittedAfterPreemption)) {
                    ledgerChanged.run();
                    throw new ApiError(429, "too_many_waiting", MAX_WAITING
                            + " requests are already waiting; ask again later");
                }
            } else {
                try {
                    outcome = awaitOutcome(a, request.maxWait().plus(longestEviction).plus(ANSWER_SLACK),
                            ex::clientGone);
                } finally {
                    waiting.release();
                }
            }
        }
        ledgerChanged.run();
        return answer(outcome);
    }

    /**
     * Waits for the outcome, looking every {@value #CLIENT_CHECK_MS} ms whether the client left; a
     * client gone or the limit passed withdraws the request (whose outcome may still be a grant
     * that came first: the caller answers it, and a grant nobody receives is handed back).
     */
    private Decision.Final awaitOutcome(Admission a, Duration limit, BooleanSupplier clientGone) throws ApiError {
        long end = System.nanoTime() + limit.toNanos();
        CompletableFuture<Decision.Final> outcome = a.outcome();
        while (true) {
            long left = end - System.nanoTime();
            if (left <= 0) {
                return withdraw(a);
            }
            try {
                return outcome.get(Math.min(left, TimeUnit.MILLISECONDS.toNanos(CLIENT_CHECK_MS)),
                        TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                if (clientGone.getAsBoolean()) {
                    return withdraw(a);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return withdraw(a);
            } catch (ExecutionException e) {
                throw failed(e.getCause());
            }
        }
    }

    /** Cancels {@code a} and returns how it ended: cancelled, or decided before the cancel landed. */
    private static Decision.Final withdraw(Admission a) throws ApiError {
        a.cancel();
        return join(a.outcome());
    }

    private ApiExchange.Response answer(Decision.Final d) throws ApiError {
        if (d instanceof Decision.Admitted a) {
            return granted(a.lease(), List.of(), d.sentence());
        } else if (d instanceof Decision.AdmittedAfterPreemption a) {
            return granted(a.lease(), a.victims(), d.sentence());
        }
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

    /** 201 with the lease; should the client be gone before it is written, the lease goes back. */
    private ApiExchange.Response granted(Lease lease, List<Lease> victims, String sentence) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("lease", LeaseJson.of(lease));
        m.put("preempted", victims.stream().map(v -> v.id().value()).toList());
        m.put("message", sentence);
        return ApiExchange.Response.json(201, json(m)).onUndelivered(() -> handBack(lease));
    }

    private void handBack(Lease lease) {
        DaemonLog.info("lease " + lease.id() + " (" + lease.service() + ") was granted to a client that left before "
                + "the answer: released");
        ledger.release(lease.id()).whenComplete((released, failure) -> {
            if (failure != null) {
                DaemonLog.warn("releasing lease " + lease.id() + " of a client that left failed", failure);
            }
            ledgerChanged.run();
        });
    }

    private ApiExchange.Response releaseHolder(ApiExchange.Request ex) throws ApiError {
        String holder = queryParameter(ex.rawQuery(), "holder");
        if (holder == null || holder.isBlank()) {
            throw ApiError.badRequest("DELETE /v1/leases needs ?holder=ID (or use DELETE /v1/leases/{id})");
        }
        Optional<String> problem = HolderNames.problem(holder);
        if (problem.isPresent()) {
            throw ApiError.badRequest("holder " + problem.get());
        }
        join(ledger.releaseHolder(holder));
        ledgerChanged.run();
        return ApiExchange.Response.noContent();
    }

    private static LeaseId leaseId(String text) throws ApiError {
        try {
            return LeaseId.parse(text);
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest("not a lease id: '" + printable(text) + "' (expected a positive number)");
        }
    }

    private static String queryParameter(String rawQuery, String name) throws ApiError {
        if (rawQuery == null) {
            return null;
        }
        try {
            for (String pair : rawQuery.split("&")) {
                int eq = pair.indexOf('=');
                String k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
                if (k.equals(name)) {
                    return eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
                }
            }
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest("malformed query: " + printable(e.getMessage()));
        }
        return null;
    }

    private static ApiError notAllowed(String method, String allow) {
        return new ApiError(405, "method_not_allowed", printable(method) + " is not allowed here (allowed: "
                + allow + ")").withHeader("Allow", allow);
    }

    private static String printable(String s) {
        return LeaseRequestParser.printable(s);
    }

    private static <T> T join(CompletableFuture<T> f) throws ApiError {
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

    private static ApiExchange.Response ok(Map<String, Object> body) {
        return ApiExchange.Response.json(200, json(body));
    }

    static ApiExchange.Response errorResponse(ApiError e) {
        ApiExchange.Response r = ApiExchange.Response.json(e.status(), json(e.body()));
        for (Map.Entry<String, String> h : e.headers().entrySet()) {
            r = r.withHeader(h.getKey(), h.getValue());
        }
        return r;
    }

    static byte[] json(Map<String, Object> body) {
        try {
            return WRITER.asBytes(body);
        } catch (IOException e) {
            throw new IllegalStateException("writing JSON to memory failed", e);
        }
    }
}
