package org.gpuagent.agent.ollama;

import java.io.IOException;
import java.net.ConnectException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * What Ollama has loaded, as {@code /api/ps} shows it: the poller looks afresh each time, a request
 * trusts the last look for the configured {@code psCacheTtl}. Thread-safe: a look is replaced whole.
 */
final class LoadedModels {
    /**
     * One look at {@code /api/ps}.
     *
     * @param models {@code size_vram} by model
     * @param seq    the lease activity count just before the look was asked for: activity after it
     *               (a later number) is something the look may not show yet
     */
    record Look(Map<String, Long> models, Instant at, long seq) {
    }

    private final OllamaUpstream upstream;
    private final Duration ttl;
    private final InstantSource clock;
    private volatile Look last;

    LoadedModels(OllamaUpstream upstream, Duration ttl, InstantSource clock) {
        this.upstream = upstream;
        this.ttl = ttl;
        this.clock = clock;
    }

    /** A fresh look, numbered {@code seq}; Ollama not running means nothing is loaded. */
    Look look(long seq) throws IOException, InterruptedException {
        Map<String, Long> models;
        try {
            models = upstream.loaded();
        } catch (ConnectException e) {
            // Ollama is not running, so nothing is loaded (its runners end with it)
            models = Map.of();
        }
        Look l = new Look(models, clock.instant(), seq);
        last = l;
        return l;
    }

    /**
     * The models loaded, at most {@code ttl} old: the last look, else a fresh one numbered by
     * {@code seq}; nothing when {@code /api/ps} cannot be read.
     */
    Map<String, Long> recent(LongSupplier seq) throws InterruptedException {
        Look l = last;
        if (l != null && !clock.instant().isAfter(l.at().plus(ttl))) {
            return l.models();
        }
        try {
            return look(seq.getAsLong()).models();
        } catch (IOException e) {
            // Not knowing means asking for a lease: a loaded model then just holds one more.
            return Map.of();
        }
    }

    /** The last look; null before the first. */
    Look last() {
        return last;
    }
}
