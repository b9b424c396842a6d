package org.gpuagent.exporter;

import com.sun.net.httpserver.HttpExchange;
import io.prometheus.metrics.exporter.common.PrometheusHttpExchange;
import io.prometheus.metrics.exporter.common.PrometheusHttpRequest;
import io.prometheus.metrics.exporter.common.PrometheusHttpResponse;
import io.prometheus.metrics.exporter.common.PrometheusScrapeHandler;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One answer of client_java's {@link PrometheusScrapeHandler}, rendered into memory: the handler
 * negotiates the format, picks families by {@code name[]}, compresses when asked, and writes here;
 * the answer can then be sent, and sent again to a scraper that asks the same way. Sent with its
 * length (a compressed one too), so a keep-alive scraper reads no chunked encoding.
 *
 * @param status  the handler's status (200, or 400 for a bad query)
 * @param headers what the handler set: Content-Type, Content-Encoding, Content-Length
 * @param body    empty for HEAD
 */
record BufferedScrape(int status, Map<String, String> headers, byte[] body) {

    /** What {@code handler} answers to {@code request}'s method, path, query and headers. */
    static BufferedScrape render(PrometheusScrapeHandler handler, HttpExchange request) throws IOException {
        Capture c = new Capture(request);
        handler.handleRequest(c);
        return new BufferedScrape(c.status, Map.copyOf(c.headers), c.body.toByteArray());
    }

    /** Writes this answer to {@code exchange} (headers only for HEAD). */
    void send(HttpExchange exchange) throws IOException {
        headers.forEach((name, value) -> exchange.getResponseHeaders().set(name, value));
        if ("HEAD".equals(exchange.getRequestMethod())) {
            exchange.sendResponseHeaders(status, -1);
            return;
        }
        exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    /** The exchange the scrape handler sees: the request as the JDK server read it, the answer in memory. */
    private static final class Capture implements PrometheusHttpExchange, PrometheusHttpRequest,
            PrometheusHttpResponse {
        private final HttpExchange request;
        private final Map<String, String> headers = new LinkedHashMap<>();
        private final ByteArrayOutputStream body = new ByteArrayOutputStream(32 * 1024);
        private int status = 500;

        Capture(HttpExchange request) {
            this.request = request;
        }

        @Override
        public PrometheusHttpRequest getRequest() {
            return this;
        }

        @Override
        public PrometheusHttpResponse getResponse() {
            return this;
        }

        @Override
        public void handleException(IOException e) throws IOException {
            throw e;
        }

        @Override
        public void handleException(RuntimeException e) {
            throw e;
        }

        @Override
        public void close() {
            // nothing held: the answer stays in memory
        }

        @Override
        public String getQueryString() {
            return request.getRequestURI().getRawQuery();
        }

        @Override
        public Enumeration<String> getHeaders(String name) {
            List<String> values = request.getRequestHeaders().get(name);
            return values == null ? Collections.emptyEnumeration() : Collections.enumeration(values);
        }

        @Override
        public String getMethod() {
            return request.getRequestMethod();
        }

        @Override
        public String getRequestPath() {
            return request.getRequestURI().getPath();
        }

        @Override
        public void setHeader(String name, String value) {
            headers.put(name, value);
        }

        @Override
        public OutputStream sendHeadersAndGetBody(int statusCode, int contentLength) {
            status = statusCode;
            return body;
        }
    }
}
