package org.gpuagent.agent.ollama;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.gpuagent.agent.logging.DaemonLog;

/**
 * The proxy's HTTP/1.1 server on plain sockets: a thread per connection (at most
 * {@value #MAX_CONNECTIONS}), keep-alive, request bodies by {@code Content-Length} or chunked, and
 * answers either of known length or chunked, each {@link Exchange#body()} write sent at once
 * (TCP_NODELAY). Not the JDK's {@code HttpServer}: its {@code sun.net.httpserver.maxRspTime},
 * which the agent sets for the metrics listener, would cut every answer that streams for longer
 * (a long generation); here only reading a request is bounded in time ({@value #READ_TIMEOUT_MS}
 * ms without a byte, and the same to start the next request on a kept-alive connection).
 */
final class ProxyListener implements AutoCloseable {
    static final int MAX_CONNECTIONS = 256;
    static final int READ_TIMEOUT_MS = 30_000;
    static final int MAX_LINE = 8 * 1024;
    static final int MAX_HEADER_BYTES = 64 * 1024;
    static final int MAX_HEADERS = 100;
    /** How long, and how much of an unread body, a connection is drained before it is closed. */
    static final int LINGER_MS = 1000;
    static final long MAX_LINGER_BYTES = 1 << 20;

    private final ServerSocket server;
    private final Consumer<Exchange> handler;
    private final Semaphore slots = new Semaphore(MAX_CONNECTIONS);
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final Thread acceptor;
    private final AtomicInteger threads = new AtomicInteger();
    private volatile boolean closed;

    private ProxyListener(ServerSocket server, Consumer<Exchange> handler) {
        this.server = server;
        this.handler = handler;
        this.acceptor = new Thread(this::acceptLoop, "ollama-proxy-accept");
        acceptor.setDaemon(true);
    }

    static ProxyListener start(InetSocketAddress address, Consumer<Exchange> handler) throws IOException {
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
            Exchange.answerRaw(s.getOutputStream(), 503, "the Ollama proxy has " + MAX_CONNECTIONS
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
                Exchange ex;
                try {
                    ex = Exchange.read(s, in, out);
                } catch (BadRequest e) {
                    Exchange.answerRaw(out, e.status, e.getMessage());
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

    private static void quietClose(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            // closing
        }
    }

    /** A request that cannot be read as HTTP/1.1; answered with {@code status} and closed. */
    static final class BadRequest extends IOException {
        private static final long serialVersionUID = 1L;
        final int status;

        BadRequest(int status, String message) {
            super(message);
            this.status = status;
        }
    }

    /** One request and its answer. Headers are looked up case-insensitively. */
    static final class Exchange {
        private final Socket socket;
        private final String method;
        private final URI uri;
        private final Map<String, List<String>> requestHeaders;
        private final InputStream body;
        private final OutputStream out;
        private final Map<String, List<String>> responseHeaders = new LinkedHashMap<>();
        private final boolean keepAlive;
        private int status = -1;
        private OutputStream responseBody;
        private boolean closeAfter;

        private Exchange(Socket socket, String method, URI uri, Map<String, List<String>> headers, InputStream body,
                OutputStream out, boolean keepAlive) {
            this.socket = socket;
            this.method = method;
            this.uri = uri;
            this.requestHeaders = headers;
            this.body = body;
            this.out = out;
            this.keepAlive = keepAlive;
        }

        /** The next request on the connection; null when the client closed or idled out before one. */
        static Exchange read(Socket socket, InputStream in, OutputStream out) throws IOException {
            String requestLine;
            try {
                requestLine = line(in, true);
            } catch (java.net.SocketTimeoutException e) {
                return null;
            }
            if (requestLine == null) {
                return null;
            }
            String[] parts = requestLine.split(" ", -1);
            if (parts.length != 3 || !parts[2].startsWith("HTTP/1.") || !parts[0].matches("[A-Z]{1,16}")) {
                throw new BadRequest(400, "the request line is not HTTP/1.1");
            }
            URI uri;
            try {
                uri = new URI(parts[1]);
            } catch (URISyntaxException e) {
                throw new BadRequest(400, "the request target is not a valid URI");
            }
            if (uri.getRawPath() == null || !uri.getRawPath().startsWith("/")) {
                throw new BadRequest(400, "the request target must be a path");
            }
            Map<String, List<String>> headers = new java.util.TreeMap<>(String.CASE_INSENSITIVE_ORDER);
            int total = 0;
            int count = 0;
            for (String h = line(in, false); !h.isEmpty(); h = line(in, false)) {
                total += h.length();
                if (++count > MAX_HEADERS || total > MAX_HEADER_BYTES) {
                    throw new BadRequest(431, "the request headers are too large");
                }
                int colon = h.indexOf(':');
                if (colon <= 0) {
                    throw new BadRequest(400, "a request header has no name");
                }
                headers.computeIfAbsent(h.substring(0, colon).strip(), k -> new ArrayList<>())
                        .add(h.substring(colon + 1).strip());
            }
            String te = first(headers, "Transfer-Encoding");
            String cl = first(headers, "Content-Length");
            InputStream body;
            if (te != null) {
                if (!te.equalsIgnoreCase("chunked")) {
                    throw new BadRequest(501, "only chunked transfer encoding is understood");
                }
                body = new ChunkedInput(in);
            } else if (cl != null) {
                long n;
                try {
                    n = Long.parseLong(cl);
                } catch (NumberFormatException e) {
                    throw new BadRequest(400, "Content-Length is not a number");
                }
                if (n < 0) {
                    throw new BadRequest(400, "Content-Length is negative");
                }
                body = new BoundedInput(in, n);
            } else {
                body = InputStream.nullInputStream();
            }
            String connection = first(headers, "Connection");
            boolean keepAlive = parts[2].equals("HTTP/1.1")
                    ? connection == null || !connection.equalsIgnoreCase("close")
                    : connection != null && connection.equalsIgnoreCase("keep-alive");
            return new Exchange(socket, parts[0], uri, headers, body, out, keepAlive);
        }

        private static String first(Map<String, List<String>> h, String name) {
            List<String> v = h.get(name);
            return v == null || v.isEmpty() ? null : v.get(0);
        }

        /** A CRLF- (or LF-) terminated line; null at EOF before any byte when {@code eofOk}. */
        static String line(InputStream in, boolean eofOk) throws IOException {
            ByteArrayOutputStream b = new ByteArrayOutputStream(128);
            int c;
            while ((c = in.read()) >= 0) {
                if (c == '\n') {
                    byte[] bytes = b.toByteArray();
                    int n = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
                    return new String(bytes, 0, n, StandardCharsets.ISO_8859_1);
                }
                if (b.size() >= MAX_LINE) {
                    throw new BadRequest(431, "a request line or header is longer than " + MAX_LINE + " bytes");
                }
                b.write(c);
            }
            if (eofOk && b.size() == 0) {
                return null;
            }
            throw new IOException("the connection closed inside a request");
        }

        String method() {
            return method;
        }

        URI uri() {
            return uri;
        }

        Map<String, List<String>> requestHeaders() {
            return requestHeaders;
        }

        String requestHeader(String name) {
            return first(requestHeaders, name);
        }

        InputStream requestBody() {
            return body;
        }

        /** Headers of the answer, set before {@link #send}. */
        Map<String, List<String>> responseHeaders() {
            return responseHeaders;
        }

        void header(String name, String value) {
            responseHeaders.put(name, new ArrayList<>(List.of(value)));
        }

        /** The status sent; -1 before {@link #send}. */
        int status() {
            return status;
        }

        /**
         * Sends the status line and headers. {@code length} ≥ 0: a body of exactly that many bytes
         * follows; -1: chunked, each write of {@link #body()} one chunk sent at once; no body for
         * HEAD, 1xx, 204 and 304.
         */
        void send(int status, long length) throws IOException {
            if (this.status != -1) {
                throw new IllegalStateException("the answer has begun");
            }
            this.status = status;
            boolean none = method.equals("HEAD") || status == 204 || status == 304 || status < 200;
            StringBuilder h = new StringBuilder("HTTP/1.1 ").append(status).append(' ').append(reason(status))
                    .append("\r\n");
            for (Map.Entry<String, List<String>> e : responseHeaders.entrySet()) {
                for (String v : e.getValue()) {
                    if (v.indexOf('\r') < 0 && v.indexOf('\n') < 0) {
                        h.append(e.getKey()).append(": ").append(v).append("\r\n");
                    }
                }
            }
            closeAfter = !keepAlive || responseHeaders.keySet().stream().anyMatch(k -> k.equalsIgnoreCase("Connection")
                    && responseHeaders.get(k).contains("close"));
            if (!keepAlive) {
                h.append("Connection: close\r\n");
            }
            if (none) {
                responseBody = OutputStream.nullOutputStream();
                if (!method.equals("HEAD") && status >= 200 && status != 204 && status != 304) {
                    h.append("Content-Length: 0\r\n");
                }
            } else if (length >= 0) {
                h.append("Content-Length: ").append(length).append("\r\n");
                responseBody = new FixedOutput(out, length);
            } else {
                h.append("Transfer-Encoding: chunked\r\n");
                responseBody = new ChunkedOutput(out);
            }
            h.append("\r\n");
            out.write(h.toString().getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
        }

        OutputStream body() {
            if (responseBody == null) {
                throw new IllegalStateException("send the status first");
            }
            return responseBody;
        }

        /** Ends the connection now (a client too slow with its body). */
        void abort() {
            closeAfter = true;
            quietClose(socket);
        }

        /**
         * Completes the answer (a 500 if none was sent) and says whether the connection can carry
         * another request: the answer was complete and the request body read to its end.
         */
        boolean finish() throws IOException {
            if (status == -1) {
                answerRaw(out, 500, "the proxy gave no answer");
                return false;
            }
            responseBody.close();
            out.flush();
            if (closeAfter) {
                return false;
            }
            // what the handler left of the request body is skipped, a little at most
            long skipped = 0;
            byte[] b = new byte[8192];
            int n;
            while ((n = body.read(b)) >= 0) {
                skipped += n;
                if (skipped > 64 * 1024) {
                    return false;
                }
            }
            return !(responseBody instanceof FixedOutput f) || f.complete();
        }

        static void answerRaw(OutputStream out, int status, String message) throws IOException {
            byte[] body = ("{\"error\":" + com.fasterxml.jackson.jr.ob.JSON.std.asString(message) + "}")
                    .getBytes(StandardCharsets.UTF_8);
            out.write(("HTTP/1.1 " + status + " " + reason(status) + "\r\nContent-Type: application/json; "
                    + "charset=utf-8\r\nConnection: close\r\nContent-Length: " + body.length + "\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            out.write(body);
            out.flush();
        }

        static String reason(int status) {
            return switch (status) {
                case 200 -> "OK";
                case 201 -> "Created";
                case 204 -> "No Content";
                case 304 -> "Not Modified";
                case 400 -> "Bad Request";
                case 404 -> "Not Found";
                case 408 -> "Request Timeout";
                case 413 -> "Content Too Large";
                case 431 -> "Request Header Fields Too Large";
                case 500 -> "Internal Server Error";
                case 501 -> "Not Implemented";
                case 502 -> "Bad Gateway";
                case 503 -> "Service Unavailable";
                default -> "Status";
            };
        }
    }

    /** A request body of {@code Content-Length} bytes. */
    static final class BoundedInput extends InputStream {
        private final InputStream in;
        private long left;

        BoundedInput(InputStream in, long length) {
            this.in = in;
            this.left = length;
        }

        @Override
        public int read() throws IOException {
            byte[] b = new byte[1];
            return read(b, 0, 1) < 0 ? -1 : b[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (left <= 0) {
                return -1;
            }
            int n = in.read(b, off, (int) Math.min(len, left));
            if (n < 0) {
                throw new IOException("the request body ended early");
            }
            left -= n;
            return n;
        }

        @Override
        public void close() {
            // the connection's stream stays open for the next request
        }
    }

    /** A chunked request body (RFC 9112 7.1), trailers skipped. */
    static final class ChunkedInput extends InputStream {
        private final InputStream in;
        private long left;
        private boolean done;

        ChunkedInput(InputStream in) {
            this.in = in;
        }

        @Override
        public int read() throws IOException {
            byte[] b = new byte[1];
            return read(b, 0, 1) < 0 ? -1 : b[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (done) {
                return -1;
            }
            if (left == 0) {
                String size = Exchange.line(in, false);
                int semi = size.indexOf(';');
                try {
                    left = Long.parseLong((semi >= 0 ? size.substring(0, semi) : size).strip(), 16);
                } catch (NumberFormatException e) {
                    throw new BadRequest(400, "a chunk size is not hexadecimal");
                }
                if (left < 0) {
                    throw new BadRequest(400, "a chunk size is negative");
                }
                if (left == 0) {
                    while (!Exchange.line(in, false).isEmpty()) {
                        // trailers: not passed on
                    }
                    done = true;
                    return -1;
                }
            }
            int n = in.read(b, off, (int) Math.min(len, left));
            if (n < 0) {
                throw new IOException("the request body ended early");
            }
            left -= n;
            if (left == 0) {
                Exchange.line(in, false);
            }
            return n;
        }

        @Override
        public void close() {
            // the connection's stream stays open for the next request
        }
    }

    /** An answer body of a declared length. */
    static final class FixedOutput extends OutputStream {
        private final OutputStream out;
        private long left;

        FixedOutput(OutputStream out, long length) {
            this.out = out;
            this.left = length;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            if (len > left) {
                throw new IOException("the answer is longer than its Content-Length");
            }
            out.write(b, off, len);
            left -= len;
        }

        @Override
        public void flush() throws IOException {
            out.flush();
        }

        @Override
        public void close() throws IOException {
            out.flush();
        }

        boolean complete() {
            return left == 0;
        }
    }

    /** A chunked answer body: every write is one chunk, sent at once. */
    static final class ChunkedOutput extends OutputStream {
        private final OutputStream out;
        private boolean closed;

        ChunkedOutput(OutputStream out) {
            this.out = out;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return;
            }
            out.write((Integer.toHexString(len) + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(b, off, len);
            out.write('\r');
            out.write('\n');
            out.flush();
        }

        @Override
        public void flush() throws IOException {
            out.flush();
        }

        @Override
        public void close() throws IOException {
            if (!closed) {
                closed = true;
                out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
            }
        }
    }
}
