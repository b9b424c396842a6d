package org.gpuagent.exporter;

import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.expositionformats.ExpositionFormatWriter;
import io.prometheus.metrics.expositionformats.OpenMetricsTextFormatWriter;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.registry.PrometheusScrapeRequest;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

/**
 * Families built when their input was published; a scrape returns them as they are, so the scrape
 * path renders and does nothing else. Their text is rendered once per publish and format (on the
 * first scrape that asks for it) and reused by every later scrape of the same data.
 */
final class CachedSeries implements MultiCollector {
    private static final byte[] OPENMETRICS_EOF = "# EOF\n".getBytes(StandardCharsets.UTF_8);
    private static final MetricSnapshots EMPTY = new MetricSnapshots(List.of());

    /**
     * A scrape filter that keeps everything except the cached families, for a scrape that writes
     * the cached families from their rendered bytes.
     */
    static final Predicate<String> LIVE_ONLY = new Predicate<>() {
        @Override
        public boolean test(String name) {
            return true;
        }
    };

    private volatile Published current = new Published(EMPTY);

    void set(List<MetricSnapshot> families) {
        current = new Published(new MetricSnapshots(families));
    }

    @Override
    public MetricSnapshots collect() {
        return current.snapshots;
    }

    @Override
    public MetricSnapshots collect(Predicate<String> includedNames) {
        return includedNames == LIVE_ONLY ? EMPTY : MultiCollector.super.collect(includedNames);
    }

    @Override
    public MetricSnapshots collect(Predicate<String> includedNames, PrometheusScrapeRequest scrapeRequest) {
        return includedNames == LIVE_ONLY ? EMPTY : MultiCollector.super.collect(includedNames, scrapeRequest);
    }

    /**
     * The families as {@code writer} writes them, without OpenMetrics' closing {@code # EOF} (the
     * scrape writes that once, at the end).
     */
    byte[] rendered(ExpositionFormatWriter writer, EscapingScheme escaping) {
        Published p = current;
        return p.bytes.computeIfAbsent(new Format(writer.getContentType(), escaping), f -> render(p.snapshots, writer,
                escaping));
    }

    private static byte[] render(MetricSnapshots snapshots, ExpositionFormatWriter writer, EscapingScheme escaping) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(16 * 1024);
        try {
            writer.write(out, snapshots, escaping);
        } catch (IOException e) {
            throw new IllegalStateException("writing to memory failed", e);
        }
        byte[] bytes = out.toByteArray();
        if (writer instanceof OpenMetricsTextFormatWriter) {
            int body = bytes.length - OPENMETRICS_EOF.length;
            if (body < 0 || !Arrays.equals(bytes, body, bytes.length, OPENMETRICS_EOF, 0, OPENMETRICS_EOF.length)) {
                throw new IllegalStateException("OpenMetrics output does not end with # EOF");
            }
            return Arrays.copyOf(bytes, body);
        }
        return bytes;
    }

    private record Format(String contentType, EscapingScheme escaping) {
    }

    private static final class Published {
        final MetricSnapshots snapshots;
        final ConcurrentHashMap<Format, byte[]> bytes = new ConcurrentHashMap<>(4);

        Published(MetricSnapshots snapshots) {
            this.snapshots = snapshots;
        }
    }
}
