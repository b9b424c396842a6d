package org.gpuagent.agent.ollama;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.gpuagent.agent.logging.DaemonLog;

/**
 * The proxy's HTTP/1.1 server on plain sockets: a thread per connection (at most
 * {@value #MAX_CONNECTIONS}), keep-alive, request bodies by {@code Content-Length} or chunked, and
 * answers either of known length or chunked, each {@link ProxyExchange#body()} write sent at once
 * (TCP_NODELAY). Not the JDK's {@code HttpServer}: its {@code sun.net.httpserver.maxRspTime},
 * which the agent sets for the metrics listener, would cut every answer that streams for longer
 * (a long generation); here only reading a request is bounded in time ({@value #READ_TIMEOUT_MS}
 * ms without a byte, and the same to start the next request on a kept-alive connection). Reading a
 * request is {@link ProxyRequestReader}; the answer, {@link ProxyExchange}.
 */
final class ProxyListener implements AutoCloseable {
    static final int MAX_CONNECTIONS = 256;
    static final int READ_TIMEOUT_MS = 30_000;
    /** How long, and how much of an unread body, a connection is drained before it is closed. */
    static final int LINGER_MS = 1000;
    static final long MAX_LINGER_BYTES = 1 << 20;

    private final ServerSocket server;
    private final Consumer<ProxyExchange> handler;
    private final Semaphore slots = new Semaphore(MAX_CONNECTIONS);
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final Thread acceptor;
    private final AtomicInteger threads = new AtomicInteger();
    private volatile boolean closed;

    private ProxyListener(ServerSocket server, Consumer<ProxyExchange> handler) {
        this.server = server;
        this.handler = handler;
        this.acceptor = new Thread(this::acceptLoop, "ollama-proxy-accept");
        acceptor.setDaemon(true);
    }

    static ProxyListener start(InetSocketAddress address, Consumer<ProxyExchange> handler) throws IOException {
        ServerSocket s = new ServerSocket();
        try {
            s.setReuseAddress(true);
            s.bind(address, 128);
        } catch (IOException e) {
            s.close();
            throw e;
        }
        ProxyListener l = new ProxyListener(s, handler);
        l.acceptor.start();
        return l;
    }

    InetSocketAddress address() {
        return (InetSocketAddress) server.getLocalSocketAddress();
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
                continue;
            }
            if (!slots.tryAcquire()) {
                refuse(s);
                continue;
            }
            open.add(s);
            Thread t = new Thread(() -> {
                try {
                    serve(s);
                } finally {
                    open.remove(s);
                    slots.release();
                    quietClose(s);
                }
            }, "ollama-proxy-" + threads.incrementAndGet());
            t.setDaemon(true);
            t.start();
        }
    }

    private static void refuse(Socket s) {
        try (s) {
            OllamaError.answerRaw(s.getOutputStream(), 503, "the Ollama proxy has " + MAX_CONNECTIONS
                    + " connections open; try again");
        } catch (IOException e) {
            // gone already
        }
    }

    private void serve(Socket s) {
        try {
            s.setTcpNoDelay(true);
            s.setSoTimeout(READ_TIMEOUT_MS);
            InputStream in = new BufferedInputStream(s.getInputStream());
            OutputStream out = new BufferedOutputStream(s.getOutputStream(), 16 * 1024);
            while (!closed) {
                ProxyExchange ex;
                try {
                    ex = ProxyRequestReader.read(s, in, out);
                } catch (BadRequest e) {
                    OllamaError.answerRaw(out, e.status, e.getMessage());
                    linger(s, in);
                    return;
                }
                if (ex == null) {
                    return; // the client closed between requests, or stayed silent too long
                }
                try {
                    handler.accept(ex);
                } catch (RuntimeException e) {
                    DaemonLog.warn("ollama proxy: " + DaemonLog.describe(e));
                }
                if (!ex.finish()) {
                    linger(s, in);
                    return;
                }
            }
        } catch (IOException e) {
            // the client went away: nothing to answer
        }
    }

    /**
     * Closes after an answer while the client may still be sending (a body refused unread): stop
     * writing, then read and drop what arrives for a moment, so that closing does not reset the
     * connection and destroy the answer before the client has read it.
     */
    private static void linger(Socket s, InputStream in) {
        try {
            s.shutdownOutput();
            s.setSoTimeout(LINGER_MS);
            byte[] b = new byte[16 * 1024];
            long dropped = 0;
            long end = System.nanoTime() + LINGER_MS * 1_000_000L;
            int n;
            while (dropped < MAX_LINGER_BYTES && System.nanoTime() < end && (n = in.read(b)) >= 0) {
                dropped += n;
            }
        } catch (IOException e) {
            // done lingering
        }
    }

    @Override
    public void close() {
        closed = true;
        quietClose(server);
        open.forEach(ProxyListener::quietClose);
    }

    static void quietClose(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            // closing
        }
    }
}
