package org.gpuagent.agent.api;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.gpuagent.agent.logging.DaemonLog;

/**
 * The API's HTTP/1.1 server: a thread per connection, the request read whole under limits before
 * the handler sees it, and every answer (the protocol's own errors included) a JSON body with the
 * API's error codes. The JDK's HttpServer answers a malformed request line or URI with an HTML page
 * from inside, before any handler runs, and reads headers on its worker threads, where a client
 * that sends them slowly holds a worker; so the API has this small server of its own.
 *
 * <p>Limits (all in {@link Limits}; each violation is answered, then the connection is closed):
 * <ul>
 *   <li>a request (head and body) must arrive within {@code requestTimeout} of its first byte:
 *       408 {@code request_timeout};</li>
 *   <li>a new connection must start its request within {@code requestTimeout}, a kept-alive one
 *       within {@code idleTimeout}: closed without an answer;</li>
 *   <li>request line at most {@value #MAX_REQUEST_LINE} bytes (414 {@code request_line_too_long}),
 *       head at most {@value #MAX_HEAD_BYTES} bytes and {@value #MAX_HEADERS} header fields (431
 *       {@code headers_too_large}), body at most {@link ApiServer#MAX_BODY_BYTES} (413
 *       {@code body_too_large});</li>
 *   <li>a malformed request line, target, header, length or chunk, an unsupported transfer coding
 *       or protocol version: 400 {@code bad_request};</li>
 *   <li>at most {@code maxConnections} open connections: a new one beyond closes the connection
 *       idle longest, else the one that has been reading its request longest (so slow clients
 *       cannot lock others out); when every connection is busy being answered, the new one gets
 *       429 {@code too_many_connections}.</li>
 * </ul>
 * A connection being answered is never closed by the server; a handler that waits can ask whether
 * its client left ({@link ApiExchange.Request#clientGone()}).
 */
final class HttpListener implements AutoCloseable {
    static final int MAX_REQUEST_LINE = 8 * 1024;
    static final int MAX_HEAD_BYTES = 16 * 1024;
    static final int MAX_HEADERS = 64;
    /**
     * A declared body over the limit but under this is read and dropped, so the client reads a
     * clean 413 instead of a reset connection; a larger one is refused unread.
     */
    static final int DRAIN_LIMIT = 1024 * 1024;

    /**
     * @param requestTimeout from a request's first byte to its last; also how long a new connection
     *                       may stay silent
     * @param idleTimeout    how long a kept-alive connection may wait for its next request
     * @param maxConnections open connections at most
     */
    record Limits(Duration requestTimeout, Duration idleTimeout, int maxConnections) {
        static final Limits DEFAULT = new Limits(Duration.ofSeconds(10), Duration.ofSeconds(30), 256);
    }

    /** Answers one request; must not throw (an escaping throwable is logged and answered 500). */
    interface Handler extends Function<ApiExchange.Request, ApiExchange.Response> {
    }

    private enum Phase { IDLE, READING, ANSWERING }

    private final ServerSocket server;
    private final Handler handler;
    private final Limits limits;
    private final Thread acceptor;
    private final Set<Connection> connections = new LinkedHashSet<>();
    private final AtomicInteger threads = new AtomicInteger();
    private volatile boolean closed;

    private HttpListener(ServerSocket server, Handler handler, Limits limits) {
        this.server = server;
        this.handler = handler;
        this.limits = limits;
        this.acceptor = new Thread(this::acceptLoop, "api-accept");
        acceptor.setDaemon(true);
    }

    static HttpListener start(InetSocketAddress address, Handler handler, Limits limits) throws IOException {
        if (address.isUnresolved()) {
            throw new IOException("cannot listen on " + address.getHostString() + ":" + address.getPort()
                    + " for the API: unknown host");
        }
        ServerSocket s = new ServerSocket();
        try {
            s.setReuseAddress(true);
            s.bind(address, limits.maxConnections());
        } catch (BindException e) {
            s.close();
            throw new IOException("cannot listen on " + address.getHostString() + ":" + address.getPort()
                    + " for the API: " + e.getMessage() + " (another gpu-agent? choose --api-listen)", e);
        } catch (IOException e) {
            s.close();
            throw new IOException("cannot listen on " + address.getHostString() + ":" + address.getPort()
                    + " for the API: " + e.getMessage(), e);
        }
        HttpListener l = new HttpListener(s, handler, limits);
        l.acceptor.start();
        return l;
    }

    InetSocketAddress address() {
        return (InetSocketAddress) server.getLocalSocketAddress();
    }

    /** Connections open now (for tests and status). */
    int openConnections() {
        synchronized (connections) {
            return connections.size();
        }
    }

    @Override
    public void close() {
        close(Duration.ZERO);
    }

    /**
     * Stops accepting, closes the connections not being answered, gives the others up to
     * {@code grace} to finish, then closes them too (a handler still running then sees its client
     * gone).
     */
    void close(Duration grace) {
        closed = true;
        try {
            server.close();
        } catch (IOException e) {
            // closing
        }
        long end = System.nanoTime() + grace.toNanos();
        while (true) {
            List<Connection> all;
            synchronized (connections) {
                all = new ArrayList<>(connections);
            }
            boolean answering = false;
            for (Connection c : all) {
                if (c.phase == Phase.ANSWERING && System.nanoTime() < end) {
                    answering = true;
                } else {
                    c.closeSocket();
                }
            }
            if (!answering) {
                break;
            }
            pause();
        }
        try {
            acceptor.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void acceptLoop() {
        while (!closed) {
            Socket s;
            try {
                s = server.accept();
            } catch (IOException e) {
                if (closed) {
                    return;
                }
                DaemonLog.warn("API: accepting a connection failed: " + e.getMessage());
                pause();
                continue;
            }
            Connection c = new Connection(s);
            if (!admit(c)) {
                refuse(s);
                continue;
            }
            Thread t = new Thread(c, "api-conn-" + threads.incrementAndGet());
            t.setDaemon(true);
            try {
                t.start();
            } catch (OutOfMemoryError e) {
                forget(c);
                c.closeSocket();
            }
        }
    }

    private static void pause() {
        try {
            Thread.sleep(50);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Registers {@code c}, first closing a connection that waits or reads when the limit is reached. */
    private boolean admit(Connection c) {
        Connection victim = null;
        synchronized (connections) {
            if (connections.size() >= limits.maxConnections()) {
                victim = pickVictim();
                if (victim == null) {
                    return false;
                }
                victim.shed = true;
                connections.remove(victim);
            }
            connections.add(c);
        }
        if (victim != null) {
            victim.closeSocket();
        }
        return true;
    }

    /** The connection idle longest, else the one reading its request longest; null if all answer. */
    private Connection pickVictim() {
        Connection idle = null;
        Connection reading = null;
        for (Connection c : connections) {
            if (c.phase == Phase.IDLE && (idle == null || c.since < idle.since)) {
                idle = c;
            } else if (c.phase == Phase.READING && (reading == null || c.since < reading.since)) {
                reading = c;
            }
        }
        return idle != null ? idle : reading;
    }

    private void forget(Connection c) {
        synchronized (connections) {
            connections.remove(c);
        }
    }

    private static void refuse(Socket s) {
        try (s) {
            s.setSoTimeout(1000);
            ApiError e = new ApiError(429, "too_many_connections",
                    "every connection is busy being answered; ask again later");
            OutputStream out = s.getOutputStream();
            out.write(head(429, Map.of("Content-Type", "application/json", "Connection", "close"),
                    ApiServer.json(e.body()).length));
            out.write(ApiServer.json(e.body()));
            out.flush();
        } catch (IOException ignored) {
            // a refused client that is also gone
        }
    }

    /** A request the protocol layer refuses: answered with {@code error}, then the connection closes. */
    private static final class Refusal extends Exception {
        private static final long serialVersionUID = 1L;
        final transient ApiError error;

        Refusal(int status, String code, String message) {
            super(message, null, false, false);
            this.error = new ApiError(status, code, message);
        }
    }

    private final class Connection implements Runnable {
        private final Socket socket;
        private final Input in;
        private volatile Phase phase = Phase.IDLE;
        private volatile long since = System.nanoTime();
        /** Set under the registry lock when the acceptor closed this connection to make room. */
        private volatile boolean shed;

        Connection(Socket socket) {
            this.socket = socket;
            this.in = new Input(socket);
        }

        @Override
        public void run() {
            try {
                socket.setTcpNoDelay(true);
                OutputStream out = socket.getOutputStream();
                Duration wait = limits.requestTimeout();
                while (!closed) {
                    if (!in.awaitByte(wait)) {
                        return;
                    }
                    enter(Phase.READING);
                    in.deadline(System.nanoTime() + limits.requestTimeout().toNanos());
                    ApiExchange.Request request;
                    boolean keepAlive;
                    try {
                        Head head = readHead();
                        keepAlive = head.keepAlive();
                        byte[] body = readBody(head, out);
                        request = new ApiExchange.Request(head.method(), head.rawPath(), head.rawQuery(),
                                head.headers(), body, this::clientGone);
                    } catch (Refusal r) {
                        write(out, ApiServer.errorResponse(r.error), false, false);
                        return;
                    } catch (SocketTimeoutException timeout) {
                        write(out, ApiServer.errorResponse(new ApiError(408, "request_timeout",
                                "the request did not arrive within " + limits.requestTimeout().toMillis() + " ms")),
                                false, false);
                        return;
                    }
                    if (!enter(Phase.ANSWERING)) {
                        return;
                    }
                    ApiExchange.Response response = answer(request);
                    boolean head = request.method().equals("HEAD");
                    if (!send(out, response, keepAlive, head)) {
                        if (response.undelivered() != null) {
                            response.undelivered().run();
                        }
                        return;
                    }
                    if (!keepAlive) {
                        return;
                    }
                    enter(Phase.IDLE);
                    wait = limits.idleTimeout();
                }
            } catch (IOException e) {
                // the client left, or the connection was shed or closed
            } catch (RuntimeException e) {
                // a defect here must cost one connection, not the thread's silence or the process
                DaemonLog.warn("API: a connection failed", e);
            } finally {
                closeSocket();
                forget(this);
            }
        }

        /** Moves to {@code p}; false when the acceptor shed this connection first. */
        private boolean enter(Phase p) {
            synchronized (connections) {
                if (shed) {
                    return false;
                }
                phase = p;
                since = System.nanoTime();
                return true;
            }
        }

        private ApiExchange.Response answer(ApiExchange.Request request) {
            try {
                return handler.apply(request);
            } catch (Throwable t) {
                DaemonLog.warn("API " + request.method() + " " + request.rawPath() + " failed", t);
                return ApiServer.errorResponse(new ApiError(500, "internal", "internal error; see the agent's log"));
            }
        }

        private boolean clientGone() {
            return in.peerClosed();
        }

        private Head readHead() throws IOException, Refusal {
            String line = in.line(MAX_REQUEST_LINE, () -> new Refusal(414, "request_line_too_long",
                    "the request line is longer than " + MAX_REQUEST_LINE + " bytes"));
            String[] parts = line.split(" ", -1);
            if (parts.length != 3 || !isToken(parts[0])) {
                throw new Refusal(400, "bad_request", "malformed request line (expected METHOD /path HTTP/1.1)");
            }
            String version = parts[2];
            if (!version.equals("HTTP/1.1") && !version.equals("HTTP/1.0")) {
                throw new Refusal(400, "bad_request", "unsupported protocol version '" + printable(version)
                        + "' (HTTP/1.1 or HTTP/1.0)");
            }
            String target = parts[1];
            URI uri;
            try {
                uri = new URI(target);
            } catch (URISyntaxException e) {
                throw new Refusal(400, "bad_request", "malformed request target: " + printable(e.getMessage()));
            }
            String rawPath = uri.getRawPath();
            if (!target.startsWith("/") && !(uri.isAbsolute() && "http".equalsIgnoreCase(uri.getScheme()))
                    || rawPath == null || rawPath.isEmpty()) {
                throw new Refusal(400, "bad_request", "the request target must be a path such as /v1/status");
            }
            Map<String, List<String>> headers = new LinkedHashMap<>();
            int headBytes = line.length();
            int count = 0;
            while (true) {
                String h = in.line(MAX_HEAD_BYTES, () -> new Refusal(431, "headers_too_large",
                        "the request's headers are larger than " + MAX_HEAD_BYTES + " bytes"));
                if (h.isEmpty()) {
                    break;
                }
                headBytes += h.length() + 2;
                if (headBytes > MAX_HEAD_BYTES || ++count > MAX_HEADERS) {
                    throw new Refusal(431, "headers_too_large", "the request's headers are larger than "
                            + MAX_HEAD_BYTES + " bytes or more than " + MAX_HEADERS + " fields");
                }
                int colon = h.indexOf(':');
                if (colon <= 0 || !isToken(h.substring(0, colon))) {
                    throw new Refusal(400, "bad_request", "malformed header line");
                }
                String name = h.substring(0, colon).toLowerCase(Locale.ROOT);
                String value = h.substring(colon + 1).strip();
                headers.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
            }
            boolean keepAlive = version.equals("HTTP/1.1") ? !hasToken(headers.get("connection"), "close")
                    : hasToken(headers.get("connection"), "keep-alive");
            headers.replaceAll((k, v) -> Collections.unmodifiableList(v));
            return new Head(parts[0], rawPath, uri.getRawQuery(), Collections.unmodifiableMap(headers), keepAlive);
        }

        private byte[] readBody(Head head, OutputStream out) throws IOException, Refusal {
            List<String> te = head.headers().get("transfer-encoding");
            List<String> cl = head.headers().get("content-length");
            boolean continueExpected = hasToken(head.headers().get("expect"), "100-continue");
            if (te != null) {
                if (cl != null) {
                    throw new Refusal(400, "bad_request", "both Content-Length and Transfer-Encoding");
                }
                if (te.size() != 1 || !te.get(0).equalsIgnoreCase("chunked")) {
                    throw new Refusal(400, "bad_request", "unsupported Transfer-Encoding '"
                            + printable(String.join(", ", te)) + "' (only chunked)");
                }
                if (continueExpected) {
                    writeContinue(out);
                }
                return in.chunked(ApiServer.MAX_BODY_BYTES, () -> new Refusal(413, "body_too_large",
                        "the request body is larger than " + ApiServer.MAX_BODY_BYTES + " bytes"));
            }
            if (cl == null) {
                return new byte[0];
            }
            long length = contentLength(cl);
            if (length > ApiServer.MAX_BODY_BYTES) {
                if (length <= DRAIN_LIMIT && !continueExpected) {
                    in.skip(length);
                    throw new Refusal(413, "body_too_large", "the request body is larger than "
                            + ApiServer.MAX_BODY_BYTES + " bytes");
                }
                throw new Refusal(413, "body_too_large", "the request body is larger than "
                        + ApiServer.MAX_BODY_BYTES + " bytes");
            }
            if (continueExpected && length > 0) {
                writeContinue(out);
            }
            return in.bytes((int) length);
        }

        private void writeContinue(OutputStream out) throws IOException {
            out.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
        }

        /**
         * Writes the handler's answer; false when it reached no one. An answer that gives something
         * (a grant: it has an undelivered action) is withheld from a client that closed its side,
         * even one that could still read: that client has given up on the request, and the grant
         * goes back. Any other answer is written regardless.
         */
        private boolean send(OutputStream out, ApiExchange.Response r, boolean keepAlive, boolean headOnly) {
            if (r.undelivered() != null && in.peerClosed()) {
                return false;
            }
            return write(out, r, keepAlive, headOnly);
        }

        /** Writes {@code r}; false when the connection failed. */
        private boolean write(OutputStream out, ApiExchange.Response r, boolean keepAlive, boolean headOnly) {
            Map<String, String> h = new LinkedHashMap<>(r.headers());
            if (r.contentType() != null) {
                h.put("Content-Type", r.contentType());
            }
            h.put("Cache-Control", "no-store");
            if (!keepAlive) {
                h.put("Connection", "close");
            }
            try {
                out.write(head(r.status(), h, r.status() == 204 ? -1 : r.body().length));
                if (!headOnly && r.status() != 204) {
                    out.write(r.body());
                }
                out.flush();
                return true;
            } catch (IOException e) {
                return false;
            }
        }

        void closeSocket() {
            try {
                socket.close();
            } catch (IOException e) {
                // already closed
            }
        }
    }

    private record Head(String method, String rawPath, String rawQuery, Map<String, List<String>> headers,
            boolean keepAlive) {
    }

    private static long contentLength(List<String> values) throws Refusal {
        long length = -1;
        for (String v : values) {
            for (String part : v.split(",", -1)) {
                String p = part.strip();
                if (!p.matches("[0-9]{1,18}")) {
                    throw new Refusal(400, "bad_request", "Content-Length is not a number");
                }
                long n = Long.parseLong(p);
                if (length >= 0 && n != length) {
                    throw new Refusal(400, "bad_request", "conflicting Content-Length values");
                }
                length = n;
            }
        }
        return length;
    }

    /** The status line and headers; {@code length} −1 writes no Content-Length. */
    static byte[] head(int status, Map<String, String> headers, int length) {
        StringBuilder b = new StringBuilder(160);
        b.append("HTTP/1.1 ").append(status).append(' ').append(reason(status)).append("\r\n");
        headers.forEach((k, v) -> b.append(k).append(": ").append(v).append("\r\n"));
        if (length >= 0) {
            b.append("Content-Length: ").append(length).append("\r\n");
        }
        b.append("\r\n");
        return b.toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    private static String reason(int status) {
        return switch (status) {
            case 200 -> "OK";
            case 201 -> "Created";
            case 204 -> "No Content";
            case 400 -> "Bad Request";
            case 401 -> "Unauthorized";
            case 404 -> "Not Found";
            case 405 -> "Method Not Allowed";
            case 408 -> "Request Timeout";
            case 409 -> "Conflict";
            case 413 -> "Content Too Large";
            case 414 -> "URI Too Long";
            case 429 -> "Too Many Requests";
            case 431 -> "Request Header Fields Too Large";
            case 500 -> "Internal Server Error";
            case 503 -> "Service Unavailable";
            default -> "Status";
        };
    }

    private static boolean isToken(String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
                    || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    private static boolean hasToken(List<String> values, String token) {
        if (values == null) {
            return false;
        }
        for (String v : values) {
            for (String part : v.split(",")) {
                if (part.strip().equalsIgnoreCase(token)) {
                    return true;
                }
            }
        }
        return false;
    }

    private static String printable(String s) {
        return LeaseRequestParser.printable(s);
    }

    /**
     * The connection's input: a buffer over the socket whose reads honour a deadline (the socket
     * timeout is set to what is left of it before every read, so a client sending a byte at a time
     * cannot stretch it).
     */
    private static final class Input {
        private final Socket socket;
        private InputStream stream;
        private byte[] buf = new byte[8192];
        private int pos;
        private int end;
        private long deadline = Long.MAX_VALUE;
        private boolean eof;

        Input(Socket socket) {
            this.socket = socket;
        }

        private InputStream stream() throws IOException {
            if (stream == null) {
                stream = socket.getInputStream();
            }
            return stream;
        }

        void deadline(long nanos) {
            deadline = nanos;
        }

        /** Waits up to {@code wait} for a request's first byte; false on end of stream or silence. */
        boolean awaitByte(Duration wait) throws IOException {
            if (pos < end) {
                return true;
            }
            deadline = System.nanoTime() + wait.toNanos();
            try {
                return fill();
            } catch (SocketTimeoutException e) {
                return false;
            }
        }

        /** Reads more into the buffer; false at end of stream. */
        private boolean fill() throws IOException {
            if (eof) {
                return false;
            }
            if (pos == end) {
                pos = 0;
                end = 0;
            } else if (end == buf.length) {
                if (pos > 0) {
                    System.arraycopy(buf, pos, buf, 0, end - pos);
                    end -= pos;
                    pos = 0;
                } else {
                    buf = Arrays.copyOf(buf, buf.length * 2);
                }
            }
            long left = (deadline - System.nanoTime()) / 1_000_000;
            if (left <= 0) {
                throw new SocketTimeoutException("request deadline");
            }
            socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, left));
            int n = stream().read(buf, end, buf.length - end);
            if (n < 0) {
                eof = true;
                return false;
            }
            end += n;
            return true;
        }

        private int read() throws IOException {
            if (pos == end && !fill()) {
                return -1;
            }
            return buf[pos++] & 0xff;
        }

        interface TooLong {
            Refusal refusal();
        }

        /** A line ending in LF (a CR before it dropped), ISO-8859-1, at most {@code max} bytes. */
        String line(int max, TooLong tooLong) throws IOException, Refusal {
            StringBuilder b = new StringBuilder(64);
            while (true) {
                int c = read();
                if (c < 0) {
                    throw truncated();
                }
                if (c == '\n') {
                    int len = b.length();
                    if (len > 0 && b.charAt(len - 1) == '\r') {
                        b.setLength(len - 1);
                    }
                    return b.toString();
                }
                if (b.length() >= max) {
                    throw tooLong.refusal();
                }
                if (c == 0) {
                    throw new Refusal(400, "bad_request", "a NUL byte in the request head");
                }
                b.append((char) c);
            }
        }

        /**
         * The stream ended inside a request: answered (a client that only half-closed still reads),
         * then the connection closes.
         */
        private static Refusal truncated() {
            return new Refusal(400, "bad_request", "the request ended before it was complete");
        }

        byte[] bytes(int n) throws IOException, Refusal {
            byte[] out = new byte[n];
            int at = 0;
            while (at < n) {
                if (pos == end && !fill()) {
                    throw truncated();
                }
                int k = Math.min(n - at, end - pos);
                System.arraycopy(buf, pos, out, at, k);
                pos += k;
                at += k;
            }
            return out;
        }

        void skip(long n) throws IOException, Refusal {
            long left = n;
            while (left > 0) {
                if (pos == end && !fill()) {
                    throw truncated();
                }
                int k = (int) Math.min(left, end - pos);
                pos += k;
                left -= k;
            }
        }

        /** A chunked body, at most {@code max} bytes of data. */
        byte[] chunked(int max, TooLong tooLarge) throws IOException, Refusal {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            while (true) {
                String sizeLine = line(1024, () -> new Refusal(400, "bad_request", "malformed chunk size"));
                int semi = sizeLine.indexOf(';');
                String hex = (semi < 0 ? sizeLine : sizeLine.substring(0, semi)).strip();
                if (!hex.matches("[0-9A-Fa-f]{1,8}")) {
                    throw new Refusal(400, "bad_request", "malformed chunk size");
                }
                long size = Long.parseLong(hex, 16);
                if (size == 0) {
                    int trailers = 0;
                    while (!line(MAX_HEAD_BYTES, () -> new Refusal(431, "headers_too_large", "trailer too large"))
                            .isEmpty()) {
                        if (++trailers > MAX_HEADERS) {
                            throw new Refusal(431, "headers_too_large", "too many trailer fields");
                        }
                    }
                    return out.toByteArray();
                }
                if (out.size() + size > max) {
                    throw tooLarge.refusal();
                }
                out.write(bytes((int) size));
                if (!line(2, () -> new Refusal(400, "bad_request", "malformed chunk")).isEmpty()) {
                    throw new Refusal(400, "bad_request", "malformed chunk");
                }
            }
        }

        /**
         * Whether the peer closed or reset the connection, looking without waiting: bytes that
         * arrive (a pipelined request) stay in the buffer.
         */
        boolean peerClosed() {
            if (eof) {
                return true;
            }
            if (socket.isClosed()) {
                return true;
            }
            if (pos < end || end == buf.length) {
                return false;
            }
            try {
                deadline = System.nanoTime() + 2_000_000;
                return !fill();
            } catch (SocketTimeoutException e) {
                return false;
            } catch (IOException e) {
                return true;
            }
        }
    }
}
