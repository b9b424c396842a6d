package org.gpuagent.exporter;

import com.sun.net.httpserver.HttpExchange;
import io.prometheus.metrics.exporter.common.PrometheusScrapeHandler;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

/**
 * The exporter's one cache: a scrape's answer is reused by the scrapes that ask the same way
 * (the same {@code Accept} and {@code Accept-Encoding}, no query) within {@code maxAge} of it, as
 * long as nothing was published in between. Ten concurrent scrapers (two Prometheus servers, a
 * dashboard) then cost one render per second, and only the JVM's and the timers' values can be
 * that much older; concurrent scrapers of one kind wait for one render and share it.
 *
 * <p>Why it exists: measured in one run against client_java's scrape path without it, the render
 * of the default set (a P1000, four services, JVM metrics) and ten concurrent keep-alive scrapers
 * on two cores missed both targets (docs/benchmarks-and-capacity.md). A request with a query ({@code name[]})
 * or HEAD is rendered every time; at most {@value #MAX_KINDS} kinds of request are kept.
 */
final class ScrapeCache {
    static final int MAX_KINDS = 8;

    private final PrometheusScrapeHandler handler;
    private final LongSupplier generation;
    private final LongSupplier nanoTicker;
    private final long maxAgeNanos;
    private final ConcurrentHashMap<Kind, Slot> slots = new ConcurrentHashMap<>();

    /**
     * @param generation increases with every publish and event: an answer of an older generation is out of date
     * @param maxAge     how long an answer may be reused while nothing was published (zero: never)
     */
    ScrapeCache(PrometheusScrapeHandler handler, LongSupplier generation, LongSupplier nanoTicker, Duration maxAge) {
        this.handler = handler;
        this.generation = generation;
        this.nanoTicker = nanoTicker;
        this.maxAgeNanos = maxAge.toNanos();
    }

    /** The answer to {@code exchange}: reused when fresh, else rendered by client_java's scrape handler. */
    BufferedScrape answer(HttpExchange exchange) throws IOException {
        if (maxAgeNanos == 0 || !"GET".equals(exchange.getRequestMethod())
                || exchange.getRequestURI().getRawQuery() != null) {
            return BufferedScrape.render(handler, exchange);
        }
        Kind kind = new Kind(header(exchange, "Accept"), header(exchange, "Accept-Encoding"));
        Slot slot = slots.get(kind);
        if (slot == null) {
            if (slots.size() >= MAX_KINDS) {
                return BufferedScrape.render(handler, exchange);
            }
            slot = slots.computeIfAbsent(kind, k -> new Slot());
        }
        long gen = generation.getAsLong();
        Entry e = slot.entry;
        if (fresh(e, gen)) {
            return e.answer;
        }
        slot.lock.lock();
        try {
            e = slot.entry;
            if (fresh(e, gen)) {
                return e.answer;
            }
            long at = nanoTicker.getAsLong();
            BufferedScrape answer = BufferedScrape.render(handler, exchange);
            slot.entry = new Entry(answer, gen, at);
            return answer;
        } finally {
            slot.lock.unlock();
        }
    }

    private boolean fresh(Entry e, long gen) {
        return e != null && e.generation == gen && nanoTicker.getAsLong() - e.renderedAtNanos < maxAgeNanos;
    }

    private static String header(HttpExchange exchange, String name) {
        List<String> values = exchange.getRequestHeaders().get(name);
        return values == null ? "" : String.join(",", values);
    }

    private record Kind(String accept, String acceptEncoding) {
    }

    private record Entry(BufferedScrape answer, long generation, long renderedAtNanos) {
    }

    private static final class Slot {
        final ReentrantLock lock = new ReentrantLock();
        volatile Entry entry;
    }
}
