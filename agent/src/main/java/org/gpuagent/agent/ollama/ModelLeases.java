package org.gpuagent.agent.ollama;

import java.io.IOException;
import java.time.Duration;
import java.time.InstantSource;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.gpuagent.agent.logging.DaemonLog;
import org.gpuagent.scheduler.ByteSize;
import org.gpuagent.scheduler.Lease;
import org.gpuagent.scheduler.LeaseState;

/**
 * One lease per loaded model, following the model: taken before a request that would load it is
 * forwarded, touched by each request for it, resized to the {@code size_vram} that
 * {@code /api/ps} shows, released once {@code /api/ps} no longer lists it (and no request for it
 * is in flight), and adopted from the ledger after a restart.
 *
 * <p>Thread-safe: the maps are guarded by this object's lock, which is never held across a call
 * to Ollama or a wait for the ledger. Requests for the same model that arrive while its lease is
 * being acquired share that one acquisition.
 */
public final class ModelLeases {

    /** What a request for a model may do. */
    public sealed interface Outcome {
    }

    /** Forward it; call {@link #finished} when its answer has been passed on. */
    public record Ready(String model) implements Outcome {
    }

    /** Answer 503 with this sentence and {@code Retry-After}. */
    public record Refused(String sentence, Duration retryAfter) implements Outcome {
    }

    /**
     * How model leases are sized and how long requests wait.
     *
     * @param minBytes    the smallest model lease
     * @param maxWait     how long a request waits for its model's memory
     * @param psCacheTtl  how long a {@code /api/ps} answer is trusted by a request
     */
    public record Settings(long minBytes, Duration maxWait, Duration psCacheTtl) {
        public Settings {
            Objects.requireNonNull(maxWait, "maxWait");
            Objects.requireNonNull(psCacheTtl, "psCacheTtl");
            if (minBytes <= 0) {
                throw new IllegalArgumentException("minimum model lease must be positive");
            }
        }
    }

    private static final class Held {
        Lease lease;
        int inFlight;
        /** The size last remembered for this load; 0 before the first. */
        long remembered;
        /** {@link #activity} when the last request for it ended, or it was granted or adopted. */
        long lastActivity;

        Held(Lease lease, long activity) {
            this.lease = lease;
            this.lastActivity = activity;
        }
    }

    private final ModelLedger ledger;
    private final OllamaUpstream upstream;
    private final ModelSizes learned;
    private final Settings settings;
    private final Map<String, Held> held = new HashMap<>();
    private final Map<String, CompletableFuture<Outcome>> acquiring = new HashMap<>();
    /** Requests for models being acquired, counted so a poll cannot release them on arrival. */
    private final Map<String, Integer> waiting = new HashMap<>();
    private long activity;
    private final LoadedModels loaded;
    private final RunnerOverhead overhead;

    public ModelLeases(ModelLedger ledger, OllamaUpstream upstream, ModelSizes learned, Settings settings,
            InstantSource clock) {
        this.ledger = ledger;
        this.upstream = upstream;
        this.learned = learned;
        this.settings = settings;
        this.overhead = new RunnerOverhead(ledger);
        this.loaded = new LoadedModels(upstream, settings.psCacheTtl(), clock);
    }

    /**
     * Takes over the model leases the ledger holds from before a restart; the next {@link #poll}
     * reconciles them with {@code /api/ps} (a model no longer loaded has its lease released).
     */
    public synchronized int adopt() {
        int n = 0;
        for (Lease l : ledger.leasesHeldBy(ModelName.HOLDER_PREFIX)) {
            String model = ModelName.ofHolder(l.holder().orElseThrow()).orElseThrow();
            if (!held.containsKey(model)) {
                held.put(model, new Held(l, ++activity));
                ledger.onPreempt(l.id(), unloadOf(model), timeout -> upstream.unload(model, timeout));
                n++;
            }
        }
        return n;
    }

    /**
     * Before forwarding a request for {@code model}: touches its lease when it has one, else (when
     * the model is not loaded) acquires one, waiting up to the configured wait. Blocks.
     *
     * @param context the context length the request asks for ({@code options.num_ctx}), for the estimate
     */
    public Outcome prepare(String name, int context) throws InterruptedException {
        String model = ModelName.canonical(name);
        CompletableFuture<Outcome> mine = null;
        CompletableFuture<Outcome> shared;
        synchronized (this) {
            Held h = held.get(model);
            Optional<Lease> now = h == null ? Optional.empty() : ledger.lease(h.lease.id());
            if (now.isPresent() && now.get().state() == LeaseState.ACTIVE) {
                h.inFlight++;
                ledger.touch(h.lease.id());
                return new Ready(model);
            }
            if (now.isPresent()) {
                // being unloaded for a more important service: loading it again now would undo that
                return new Refused(model + " is being unloaded to make room for a more important service ("
                        + now.get().describe() + " is being preempted); try again shortly", Duration.ofSeconds(5));
            }
            if (h != null) {
                held.remove(model);
            }
            shared = acquiring.get(model);
            if (shared == null) {
                mine = new CompletableFuture<>();
                acquiring.put(model, mine);
                shared = mine;
            }
            waiting.merge(model, 1, Integer::sum);
        }
        if (mine != null) {
            Outcome o;
            try {
                o = acquire(model, context);
            } catch (RuntimeException e) {
                o = new Refused("the proxy could not size or acquire a lease for " + model + ": "
                        + DaemonLog.describe(e), settings.maxWait().isZero() ? Duration.ofSeconds(5) : settings.maxWait());
            }
            synchronized (this) {
                acquiring.remove(model);
            }
            mine.complete(o);
        }
        Outcome o = null;
        try {
            o = shared.get();
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        } finally {
            // counted in flight before it stops counting as waiting: a poll in between must not
            // take the model (not loaded yet) for one nobody uses
            synchronized (this) {
                Held h = held.get(model);
                if (o instanceof Ready && h != null) {
                    h.inFlight++;
                }
                waiting.computeIfPresent(model, (k, v) -> v == 1 ? null : v - 1);
            }
        }
        return o;
    }

    /** A request {@link #prepare} let through has ended (answered, failed or abandoned). */
    public synchronized void finished(String name) {
        Held h = held.get(ModelName.canonical(name));
        if (h != null && h.inFlight > 0) {
            h.inFlight--;
            h.lastActivity = ++activity;
        }
    }

    private Outcome acquire(String model, int context) throws InterruptedException {
        Map<String, Long> now = loaded.recent(this::nextSeq);
        if (now.containsKey(model)) {
            // Loaded without a lease of ours (before the proxy ran, or by a client that went to
            // Ollama directly): its memory is already counted as the service's use.
            return new Ready(model);
        }
        long size;
        try {
            size = size(model, context);
        } catch (OllamaUpstream.NoSuchModel e) {
            // Ollama does not have it and will answer so: no memory to ask for (a typo must not
            // preempt anyone)
            return new Ready(model);
        }
        long bytes = Math.max(settings.minBytes(), size);
        ModelLedger.Grant g;
        try {
            g = ledger.acquire(ModelName.holder(model), bytes, settings.maxWait()).get();
        } catch (ExecutionException e) {
            return new Refused("the ledger could not grant " + model + " its memory: "
                    + DaemonLog.describe(e.getCause()), Duration.ofSeconds(5));
        }
        if (g instanceof ModelLedger.Refused r) {
            return new Refused(r.sentence(), r.retryAfter());
        }
        Lease lease = ((ModelLedger.Granted) g).lease();
        ledger.touch(lease.id());
        ledger.onPreempt(lease.id(), unloadOf(model), timeout -> upstream.unload(model, timeout));
        synchronized (this) {
            held.put(model, new Held(lease, ++activity));
        }
        DaemonLog.info("ollama: " + model + " may load: " + lease.describe());
        return new Ready(model);
    }

    /**
     * The learned size, else the estimate; 0 when neither is known (the minimum applies).
     *
     * @throws OllamaUpstream.NoSuchModel Ollama does not have the model
     */
    long size(String model, int context) throws InterruptedException, OllamaUpstream.NoSuchModel {
        OptionalLong learnedBytes = learned.get(model);
        if (learnedBytes.isPresent()) {
            return learnedBytes.getAsLong();
        }
        try {
            OptionalLong estimate = ModelEstimate.of(upstream.show(model), upstream.fileSize(model), context);
            return estimate.orElse(0);
        } catch (OllamaUpstream.NoSuchModel e) {
            throw e;
        } catch (IOException e) {
            DaemonLog.warn("ollama: cannot estimate " + model + " (" + e.getMessage() + "); asking for the minimum "
                    + ByteSize.format(settings.minBytes()));
            return 0;
        }
    }

    /** The activity count for a look at {@code /api/ps} about to be asked for. */
    private synchronized long nextSeq() {
        return ++activity;
    }

    /**
     * One look at {@code /api/ps}: learns each held model's {@code size_vram} and resizes its lease
     * to it, drops leases the ledger no longer counts (evicted), and releases the leases of models
     * no longer listed that no request is using. Called by the poller; returns what it did.
     */
    public String poll() throws InterruptedException {
        LoadedModels.Look l;
        try {
            l = loaded.look(nextSeq());
        } catch (IOException e) {
            return "cannot read /api/ps: " + e.getMessage();
        }
        List<Map.Entry<String, Held>> release = new java.util.ArrayList<>();
        List<Map.Entry<String, Held>> gone = new java.util.ArrayList<>();
        List<Map.Entry<String, Held>> resize = new java.util.ArrayList<>();
        synchronized (this) {
            for (var it = held.entrySet().iterator(); it.hasNext();) {
                Map.Entry<String, Held> e = it.next();
                Held h = e.getValue();
                Optional<Lease> now = ledger.lease(h.lease.id());
                if (now.isEmpty()) {
                    // evicted or released by someone else: forget it
                    it.remove();
                    gone.add(e);
                    continue;
                }
                h.lease = now.get();
                Long vram = l.models().get(e.getKey());
                if (vram == null) {
                    if (h.inFlight == 0 && !waiting.containsKey(e.getKey()) && h.lastActivity < l.seq()) {
                        it.remove();
                        release.add(Map.entry(e.getKey(), h));
                    }
                } else if (vram > 0 && h.lease.state() == LeaseState.ACTIVE) {
                    resize.add(Map.entry(e.getKey(), h));
                }
            }
        }
        StringBuilder did = new StringBuilder();
        for (Map.Entry<String, Held> e : release) {
            ledger.release(e.getValue().lease.id());
            did.append("released ").append(e.getKey()).append(" (no longer loaded); ");
        }
        for (Map.Entry<String, Held> e : gone) {
            // releasing a lease the ledger no longer counts changes nothing but its unload action
            ledger.release(e.getValue().lease.id());
        }
        for (Map.Entry<String, Held> e : resize) {
            long vram = l.models().get(e.getKey());
            Held h = e.getValue();
            if (h.remembered != vram) {
                h.remembered = vram;
                learned.remember(e.getKey(), vram);
            }
            if (vram != h.lease.bytes()) {
                try {
                    long after = ledger.resize(h.lease.id(), vram).get();
                    synchronized (this) {
                        ledger.lease(h.lease.id()).ifPresent(x -> h.lease = x);
                    }
                    did.append("resized ").append(e.getKey()).append(" to ").append(ByteSize.format(after)).append("; ");
                } catch (ExecutionException ex) {
                    did.append("cannot resize ").append(e.getKey()).append(": ")
                            .append(DaemonLog.describe(ex.getCause())).append("; ");
                }
            }
        }
        overhead.shrink(did);
        return did.toString();
    }

    private String unloadOf(String model) {
        return "unload " + model + " via " + upstream.base();
    }

    /**
     * What {@code /api/ps} last showed for each model this holds a lease for, by holder: the
     * observation gives each model lease this much of the service's use ({@link ModelUse}).
     */
    public Map<String, Long> observedByHolder() {
        LoadedModels.Look l = loaded.last();
        Map<String, Long> out = new java.util.TreeMap<>();
        if (l == null) {
            return out;
        }
        synchronized (this) {
            held.keySet().forEach(model -> {
                Long v = l.models().get(model);
                if (v != null && v > 0) {
                    out.put(ModelName.holder(model), v);
                }
            });
        }
        return out;
    }

    /**
     * The Ollama service's observed use by holder once each model lease has been given its share
     * ({@link ModelUse#split}): what is left on the service's own leases is the runner's overhead,
     * to which {@link #poll} shrinks them ({@link RunnerOverhead}). Called with each observation.
     */
    public void observedUse(Map<Optional<String>, Long> use) {
        overhead.observed(use);
    }

    /** Models with a lease now, and their lease sizes (for status and tests). */
    public synchronized Map<String, Long> leased() {
        Map<String, Long> m = new java.util.TreeMap<>();
        held.forEach((k, v) -> m.put(k, v.lease.bytes()));
        return m;
    }
}
