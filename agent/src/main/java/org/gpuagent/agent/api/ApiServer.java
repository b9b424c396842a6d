package org.gpuagent.agent.api;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.function.Supplier;
import org.gpuagent.agent.logging.DaemonLog;
import org.gpuagent.scheduler.AdmissionController;
import org.gpuagent.scheduler.LeaseId;

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
 *   <li>{@code POST /v1/leases?dryRun=true}, same body → 200 with the decision it would get
 *       ({@link LeaseHandlers#dryRun}), nothing changed; 404 for an unknown service.</li>
 *   <li>{@code PATCH /v1/leases/{id}} {@code {"bytes":N,"waitMs":W}} → 200 {@code {"lease":{...},
 *       "preempted":[ids],"message"}}; a growth is an admission of the difference (may wait,
 *       preempt, or be refused with 409 as above; 409 {@code lease_evicting} for a lease being
 *       evicted); 404 for a lease not counted.</li>
 *   <li>{@code GET /v1/leases}, {@code GET /v1/leases/{id}}, {@code GET /v1/status}.</li>
 * </ul>
 * Every {@code /v1} call needs {@code Authorization: Bearer <token>} (401 otherwise, before
 * anything else is looked at). Errors are {@code {"error": code, "message": text}}, the HTTP
 * layer's own included ({@link HttpListener}: 400, 408, 413, 414, 429, 431); an unexpected failure
 * is a 500 whose message points to the log, never a stack trace.
 *
 * <p>This class routes and authorizes; {@link LeaseHandlers} does what {@code /v1/leases} asks
 * (with the exact give-up path of a waiting admission), {@link StatusJson} is the status body.
 * Threads: each connection has its own ({@link HttpListener}); a handler may block it.
 */
public final class ApiServer implements AutoCloseable {
    public static final int MAX_BODY_BYTES = 64 * 1024;
    /** The longest {@code waitMs} honoured; a longer one is cut to this. */
    public static final Duration MAX_WAIT = Duration.ofMinutes(10);
    /** Requests that may wait at once; one more is answered 429 {@code too_many_waiting}. */
    static final int MAX_WAITING = 12;
    /** How long {@link #close()} lets requests being answered finish. */
    private static final Duration CLOSE_GRACE = Duration.ofSeconds(1);

    private final HttpListener listener;
    private final ApiToken token;
    private final LeaseHandlers leases;
    private final Supplier<Map<String, Object>> status;
    private volatile boolean closing;

    private ApiServer(InetSocketAddress address, HttpListener.Limits limits, ApiToken token,
            AdmissionController ledger, Supplier<Map<String, Object>> status, Runnable ledgerChanged,
            Semaphore waiting) throws IOException {
        this.token = token;
        this.status = status;
        this.leases = new LeaseHandlers(ledger, ledgerChanged, waiting);
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
            return ApiExchange.Response.error(e);
        } catch (RuntimeException e) {
            DaemonLog.warn("API " + request.method() + " " + request.rawPath() + " failed", e);
            return ApiExchange.Response.error(new ApiError(500, "internal", "internal error; see the agent's log"));
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
                case "GET" -> leases.list();
                case "POST" -> dryRun(ex.rawQuery()) ? leases.dryRun(ex) : leases.admit(ex);
                case "DELETE" -> leases.releaseHolder(queryParameter(ex.rawQuery(), "holder"));
                default -> throw notAllowed(method, "GET, POST, DELETE");
            };
        } else if (path.startsWith("/v1/leases/")) {
            LeaseId id = leaseId(path.substring("/v1/leases/".length()));
            return switch (method) {
                case "GET" -> leases.get(id);
                case "DELETE" -> leases.release(id);
                case "PATCH" -> leases.resize(id, ex);
                default -> throw notAllowed(method, "GET, PATCH, DELETE");
            };
        } else if (path.equals("/v1/status")) {
            if (!method.equals("GET")) {
                throw notAllowed(method, "GET");
            }
            return ApiExchange.Response.json(200, status.get());
        } else {
            throw new ApiError(404, "not_found", "no such endpoint: " + printable(path));
        }
    }

    /** {@code ?dryRun=true} (or {@code false}, or absent); anything else is a bad request. */
    private static boolean dryRun(String rawQuery) throws ApiError {
        String v = queryParameter(rawQuery, "dryRun");
        if (v == null || v.equals("false")) {
            return false;
        }
        if (v.equals("true")) {
            return true;
        }
        throw ApiError.badRequest("dryRun must be true or false, got '" + printable(v) + "'");
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
}
