package org.gpuagent.agent.ollama;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.gpuagent.agent.logging.DaemonLog;
import org.gpuagent.scheduler.ByteSize;

/**
 * The Ollama admission proxy: speaks Ollama's API to clients and forwards everything to Ollama,
 * taking a model's lease first when a request names a model that is not loaded (see
 * {@link ModelLeases}). Answers stream through as Ollama sends them, each chunk written and
 * flushed as it arrives (NDJSON and SSE alike); request bodies that name no model stream through
 * too. Its own answers use Ollama's error shape {@code {"error": "..."}}: {@code 400} for a body
 * that is not a JSON object or names no valid model, {@code 413} for a body over the limit,
 * {@code 408} for a body that does not arrive in time, {@code 503} with {@code Retry-After} when the
 * ledger refuses the model's memory, {@code 502} when Ollama cannot be reached. No stack trace
 * leaves the process, and a lease taken for a request is given back by the next poll when the
 * model never loaded.
 *
 * <p>Built on plain sockets ({@link ProxyListener}, which says why not the JDK's HttpServer) and
 * {@code java.net.http.HttpClient}: no dependency.
 */
public final class OllamaProxy implements AutoCloseable {
    /** The paths whose request body names a model ({@code "model"}), Ollama's and the OpenAI-compatible ones. */
    public static final Set<String> MODEL_PATHS = Set.of("/api/generate", "/api/chat", "/api/embed",
            "/api/embeddings", "/v1/chat/completions", "/v1/completions", "/v1/embeddings");
    /** Headers that belong to one connection (RFC 9110 7.6.1) or that the HTTP client sets itself. */
    private static final Set<String> HOP_BY_HOP = Set.of("connection", "keep-alive", "proxy-authenticate",
            "proxy-authorization", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "host",
            "content-length", "expect", "date");
    private static final int CHUNK = 16 * 1024;

    /**
     * @param maxBodyBytes the largest body of a request that names a model (read whole to find it)
     * @param bodyTimeout  how long such a body may take to arrive
     */
    public record Limits(long maxBodyBytes, Duration bodyTimeout) {
    }

    /** Set once by {@link #start}. */
    private ProxyListener server;
    private final OllamaUpstream upstream;
    private final ModelLeases leases;
    private final Limits limits;
    private final ScheduledExecutorService timers;

    private OllamaProxy(OllamaUpstream upstream, ModelLeases leases, Limits limits,
            ScheduledExecutorService timers) {
        this.upstream = upstream;
        this.leases = leases;
        this.limits = limits;
        this.timers = timers;
    }

    /** Listens on {@code address} and serves until {@link #close()}. */
    public static OllamaProxy start(InetSocketAddress address, OllamaUpstream upstream, ModelLeases leases,
            Limits limits, ScheduledExecutorService timers) throws IOException {
        if (address.isUnresolved()) {
            throw new IOException("cannot listen on " + address.getHostString() + ":" + address.getPort()
                    + " for the Ollama proxy: unknown host");
        }
        OllamaProxy p = new OllamaProxy(upstream, leases, limits, timers);
        try {
            p.server = ProxyListener.start(address, p::handle);
        } catch (IOException e) {
            throw new IOException("cannot listen on " + address.getHostString() + ":" + address.getPort()
                    + " for the Ollama proxy: " + DaemonLog.describe(e), e);
        }
        return p;
    }

    public InetSocketAddress address() {
        return server.address();
    }

    private void handle(ProxyExchange ex) {
        try {
            String path = ex.uri().getRawPath();
            if ("POST".equals(ex.method()) && MODEL_PATHS.contains(path)) {
                modelRequest(ex);
            } else {
                forward(ex, streamedBody(ex), Optional.empty());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            OllamaError.answer(ex, 503, "the agent is stopping", Optional.of(Duration.ofSeconds(5)));
        } catch (IOException | RuntimeException e) {
            // the client went away mid-answer, or a bug: never a stack trace to the client
            DaemonLog.warn("ollama proxy: " + ex.method() + " " + ModelName.printable(
                    String.valueOf(ex.uri())) + ": " + DaemonLog.describe(e));
            if (ex.status() != -1) {
                // cut mid-answer: end the connection, so the client cannot take the part for the whole
                ex.abort();
            } else {
                OllamaError.answer(ex, 502, "the proxy failed: " + DaemonLog.describe(e), Optional.empty());
            }
        }
    }

    private void modelRequest(ProxyExchange ex) throws IOException, InterruptedException {
        Optional<byte[]> body = readBounded(ex);
        if (body.isEmpty()) {
            return;
        }
        Map<String, Object> json;
        try {
            Object parsed = JSON.std.anyFrom(body.get());
            if (!(parsed instanceof Map<?, ?>)) {
                OllamaError.answer(ex, 400, "the request body must be a JSON object", Optional.empty());
                return;
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> m = (Map<String, Object>) parsed;
            json = m;
        } catch (IOException | RuntimeException e) {
            OllamaError.answer(ex, 400, "the request body is not valid JSON", Optional.empty());
            return;
        }
        if (!(json.get("model") instanceof String model)) {
            OllamaError.answer(ex, 400, "model is required", Optional.empty());
            return;
        }
        Optional<String> problem = ModelName.problem(model);
        if (problem.isPresent()) {
            OllamaError.answer(ex, 400, "model " + problem.get(), Optional.empty());
            return;
        }
        HttpRequest.BodyPublisher publisher = HttpRequest.BodyPublishers.ofByteArray(body.get());
        if (unloads(json)) {
            // {"model": M, "keep_alive": 0} alone unloads M: no memory to ask for
            forward(ex, publisher, Optional.empty());
            return;
        }
        ModelLeases.Outcome o = leases.prepare(model, context(json));
        if (o instanceof ModelLeases.Refused r) {
            OllamaError.answer(ex, 503, r.sentence(), Optional.of(r.retryAfter()));
            return;
        }
        String ready = ((ModelLeases.Ready) o).model();
        try {
            forward(ex, publisher, Optional.of(ready));
        } finally {
            leases.finished(ready);
        }
    }

    /** Whether the request only unloads: {@code keep_alive} 0 and nothing to generate. */
    static boolean unloads(Map<String, Object> json) {
        Object k = json.get("keep_alive");
        boolean zero = (k instanceof Number n && n.doubleValue() == 0)
                || (k instanceof String s && (s.equals("0") || s.equals("0s") || s.equals("0m")));
        Object prompt = json.get("prompt");
        Object messages = json.get("messages");
        Object input = json.get("input");
        return zero && (prompt == null || "".equals(prompt)) && (messages == null
                || (messages instanceof List<?> l && l.isEmpty())) && input == null;
    }

    /** {@code options.num_ctx} when sane, else Ollama's default. */
    static int context(Map<String, Object> json) {
        if (json.get("options") instanceof Map<?, ?> o && o.get("num_ctx") instanceof Number n
                && n.longValue() >= 1 && n.longValue() <= (1 << 21)) {
            return n.intValue();
        }
        return ModelEstimate.DEFAULT_CONTEXT;
    }

    /** The body, at most {@code maxBodyBytes}, within {@code bodyTimeout}; empty when answered with an error. */
    private Optional<byte[]> readBounded(ProxyExchange ex) throws IOException {
        String declared = ex.requestHeader("Content-Length");
        if (declared != null) {
            try {
                if (Long.parseLong(declared.strip()) > limits.maxBodyBytes()) {
                    OllamaError.answer(ex, 413, "the request body is larger than " + ByteSize.format(limits.maxBodyBytes()),
                            Optional.empty());
                    return Optional.empty();
                }
            } catch (NumberFormatException e) {
                OllamaError.answer(ex, 400, "Content-Length is not a number", Optional.empty());
                return Optional.empty();
            }
        }
        ScheduledFuture<?> deadline = timers.schedule(ex::abort, limits.bodyTimeout().toMillis(),
                TimeUnit.MILLISECONDS);
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try (InputStream in = ex.requestBody()) {
            byte[] b = new byte[CHUNK];
            int n;
            while ((n = in.read(b)) >= 0) {
                buf.write(b, 0, n);
                if (buf.size() > limits.maxBodyBytes()) {
                    deadline.cancel(false);
                    OllamaError.answer(ex, 413, "the request body is larger than " + ByteSize.format(limits.maxBodyBytes()),
                            Optional.empty());
                    return Optional.empty();
                }
            }
        } catch (IOException e) {
            if (deadline.isDone() && !deadline.isCancelled()) {
                // closed by the deadline: the client is too slow; try to say so before giving up
                OllamaError.answer(ex, 408, "the request body did not arrive within "
                        + limits.bodyTimeout().toSeconds() + " s", Optional.empty());
                return Optional.empty();
            }
            throw e;
        } finally {
            deadline.cancel(false);
        }
        return Optional.of(buf.toByteArray());
    }

    private static HttpRequest.BodyPublisher streamedBody(ProxyExchange ex) {
        String m = ex.method();
        String length = ex.requestHeader("Content-Length");
        boolean chunked = ex.requestHeader("Transfer-Encoding") != null;
        if (m.equals("GET") || m.equals("HEAD") || (!chunked && (length == null || length.strip().equals("0")))) {
            return HttpRequest.BodyPublishers.noBody();
        }
        HttpRequest.BodyPublisher in = HttpRequest.BodyPublishers.ofInputStream(ex::requestBody);
        if (!chunked) {
            try {
                return HttpRequest.BodyPublishers.fromPublisher(in, Long.parseLong(length.strip()));
            } catch (NumberFormatException e) {
                return in;
            }
        }
        return in;
    }

    /** Sends the request to Ollama and streams its answer back, chunk by chunk. */
    private void forward(ProxyExchange ex, HttpRequest.BodyPublisher body, Optional<String> model)
            throws IOException, InterruptedException {
        URI uri = target(ex.uri());
        HttpRequest.Builder rb = HttpRequest.newBuilder(uri).method(ex.method(), body);
        for (Map.Entry<String, List<String>> h : ex.requestHeaders().entrySet()) {
            if (!HOP_BY_HOP.contains(h.getKey().toLowerCase(Locale.ROOT))) {
                for (String v : h.getValue()) {
                    try {
                        rb.header(h.getKey(), v);
                    } catch (IllegalArgumentException e) {
                        // a header the JDK's client does not pass on; Ollama does not need it
                    }
                }
            }
        }
        HttpResponse<InputStream> r;
        try {
            r = upstream.client().send(rb.build(), HttpResponse.BodyHandlers.ofInputStream());
        } catch (ConnectException | HttpConnectTimeoutException e) {
            OllamaError.answer(ex, 502, "Ollama at " + upstream.base() + " cannot be reached: " + DaemonLog.describe(e),
                    Optional.empty());
            return;
        } catch (IOException e) {
            OllamaError.answer(ex, 502, "Ollama at " + upstream.base() + " did not answer: " + DaemonLog.describe(e),
                    Optional.empty());
            return;
        }
        try (InputStream in = r.body()) {
            r.headers().map().forEach((k, v) -> {
                if (!HOP_BY_HOP.contains(k.toLowerCase(Locale.ROOT)) && !k.startsWith(":")) {
                    ex.responseHeaders().put(k, new java.util.ArrayList<>(v));
                }
            });
            ex.send(r.statusCode(), r.headers().firstValueAsLong("Content-Length").orElse(-1));
            OutputStream o = ex.body();
            byte[] b = new byte[CHUNK];
            int n;
            while ((n = in.read(b)) >= 0) {
                o.write(b, 0, n);
                o.flush();
            }
        }
    }

    /** The same path and query on Ollama. */
    private URI target(URI request) {
        String raw = request.getRawPath();
        String q = request.getRawQuery();
        return upstream.base().resolve(URI.create((raw.startsWith("/") ? raw.substring(1) : raw)
                + (q == null ? "" : "?" + q)));
    }

    /** Stops listening and ends every connection, answers in flight included. */
    @Override
    public void close() {
        server.close();
    }
}
