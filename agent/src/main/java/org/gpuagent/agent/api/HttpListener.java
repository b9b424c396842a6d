package org.gpuagent.agent.api;

import java.io.IOException;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.gpuagent.agent.logging.DaemonLog;

/**
 * The API's HTTP/1.1 server: a thread per connection, the request read whole under limits before
 * the handler sees it, and every answer (the protocol's own errors included) a JSON body with the
 * API's error codes. The JDK's HttpServer answers a malformed request line or URI with an HTML page
 * from inside, before any handler runs, and reads headers on its worker threads, where a client
 * that sends them slowly holds a worker; so the API has this small server of its own:
 * <ul>
 *   <li>{@link RequestReader}: a request's framing and its size limits (400, 413, 414, 431);</li>
 *   <li>{@link SocketInput}: the deadline every read honours;</li>
 *   <li>{@link Connections}: how many connections, and which is shed for a new one (429 when
 *       every one is being answered);</li>
 *   <li>{@link ResponseWriter}: the answer on the wire;</li>
 *   <li>this class: accepting, and each connection's loop of request and answer.</li>
 * </ul>
 *
 * <p>Time limits (in {@link Limits}; each violation is answered, then the connection is closed):
 * a request (head and body) must arrive within {@code requestTimeout} of its first byte (408
 * {@code request_timeout}); a new connection must start its request within
 * {@code requestTimeout}, a kept-alive one within {@code idleTimeout} (closed without an answer).
 * A connection being answered is never closed by the server; a handler that waits can ask whether
 * its client left ({@link ApiExchange.Request#clientGone()}).
 */
final class HttpListener implements AutoCloseable {
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

    /** How long the acceptor waits after a failed accept, and closing between looks at busy connections. */
    private static final long PAUSE_MS = 50;

    private final ServerSocket server;
    private final Handler handler;
    private final Limits limits;
    private final Thread acceptor;
    private final Connections connections;
    private final AtomicInteger threads = new AtomicInteger();
    private volatile boolean closed;

    private HttpListener(ServerSocket server, Handler handler, Limits limits) {
        this.server = server;
        this.handler = handler;
        this.limits = limits;
        this.connections = new Connections(limits.maxConnections());
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
        return connections.size();
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
            boolean answering = false;
            for (Connections.Slot c : connections.all()) {
                if (c.phase() == Connections.Phase.ANSWERING && System.nanoTime() < end) {
                    answering = true;
                } else {
                    c.close();
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
            Connections.Slot slot = connections.admit(s);
            if (slot == null) {
                ResponseWriter.refuse(s);
                continue;
            }
            Thread t = new Thread(new Connection(s, slot), "api-conn-" + threads.incrementAndGet());
            t.setDaemon(true);
            try {
                t.start();
            } catch (OutOfMemoryError e) {
                connections.forget(slot);
                slot.close();
            }
        }
    }

    private static void pause() {
        try {
            Thread.sleep(PAUSE_MS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** One connection's loop: wait for a request, read it whole, answer it, until it ends or is closed. */
    private final class Connection implements Runnable {
        private final Socket socket;
        private final Connections.Slot slot;
        private final SocketInput in;

        Connection(Socket socket, Connections.Slot slot) {
            this.socket = socket;
            this.slot = slot;
            this.in = new SocketInput(socket);
        }

        @Override
        public void run() {
            try {
                socket.setTcpNoDelay(true);
                OutputStream out = socket.getOutputStream();
                RequestReader reader = new RequestReader(in, out);
                Duration wait = limits.requestTimeout();
                while (!closed) {
                    if (!in.awaitByte(wait)) {
                        return;
                    }
                    connections.enter(slot, Connections.Phase.READING);
                    in.deadline(System.nanoTime() + limits.requestTimeout().toNanos());
                    ApiExchange.Request request;
                    boolean keepAlive;
                    try {
                        RequestReader.Head head = reader.head();
                        keepAlive = head.keepAlive();
                        byte[] body = reader.body(head);
                        request = new ApiExchange.Request(head.method(), head.rawPath(), head.rawQuery(),
                                head.headers(), body, in::peerClosed);
                    } catch (Refusal r) {
                        ResponseWriter.write(out, ApiExchange.Response.error(r.error), false, false);
                        return;
                    } catch (SocketTimeoutException timeout) {
                        ResponseWriter.write(out, ApiExchange.Response.error(new ApiError(408, "request_timeout",
                                "the request did not arrive within " + limits.requestTimeout().toMillis() + " ms")),
                                false, false);
                        return;
                    }
                    if (!connections.enter(slot, Connections.Phase.ANSWERING)) {
                        return;
                    }
                    ApiExchange.Response response = answer(request);
                    if (!send(out, response, keepAlive, request.method().equals("HEAD"))) {
                        if (response.undelivered() != null) {
                            response.undelivered().run();
                        }
                        return;
                    }
                    if (!keepAlive) {
                        return;
                    }
                    connections.enter(slot, Connections.Phase.IDLE);
                    wait = limits.idleTimeout();
                }
            } catch (IOException e) {
                // the client left, or the connection was shed or closed
            } catch (RuntimeException e) {
                // a defect here must cost one connection, not the thread's silence or the process
                DaemonLog.warn("API: a connection failed", e);
            } finally {
                slot.close();
                connections.forget(slot);
            }
        }

        private ApiExchange.Response answer(ApiExchange.Request request) {
            try {
                return handler.apply(request);
            } catch (Throwable t) {
                DaemonLog.warn("API " + request.method() + " " + request.rawPath() + " failed", t);
                return ApiExchange.Response.error(new ApiError(500, "internal", "internal error; see the agent's log"));
            }
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
            return ResponseWriter.write(out, r, keepAlive, headOnly);
        }
    }
}
