package org.gpuagent.agent.sizing;

import java.io.IOException;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import org.gpuagent.agent.api.LeaseSizer;
import org.gpuagent.scheduler.Lease;
import org.gpuagent.scheduler.LeaseId;
import org.gpuagent.scheduler.LedgerEvent;
import org.gpuagent.scheduler.LedgerListener;
import org.gpuagent.scheduler.LedgerView;
import org.gpuagent.scheduler.Observation;

/**
 * The agent's learning of lease sizes: follows each lease from grant to end, keeps the most its
 * holder was seen using in any observation while it lived, and when it ends (released, evicted or
 * reclaimed) records that peak in {@link LearnedSizes} under its service and signature (the one its
 * request named, else {@code ""}). It also sizes {@code "bytes":"auto"} requests: the learned peak
 * for the signature wins over the {@link FfmpegSizeTable} estimate.
 *
 * <p>Attribution: a lease's use is its holder's observed bytes when no other live lease has the
 * same holder (two leases of one holder cannot be told apart, so neither learns). A lease that
 * was never seen using memory records nothing: "no process seen" is not "took 0 bytes".
 *
 * <p>Threads: events arrive on the ledger's writer, observations on the sampler's completion path,
 * {@link #granted} on API threads; all only touch concurrent maps. Writing a peak (an fsync) is
 * handed to {@code writer}.
 */
public final class LeaseSizing implements LeaseSizer, LedgerListener {
    private final LearnedSizes store;
    private final FfmpegSizeTable table;
    private final Executor writer;
    private final Consumer<String> warn;
    private final Runnable recorded;
    private final Map<LeaseId, Tracked> live = new ConcurrentHashMap<>();

    private final java.util.function.Predicate<Lease> learnedElsewhere;

    private static final class Tracked {
        final Lease lease;
        volatile String signature = "";
        volatile long peak;

        Tracked(Lease lease) {
            this.lease = lease;
        }
    }

    /** @param recorded runs on {@code writer} after each peak is on disk (to publish the metrics) */
    public LeaseSizing(LearnedSizes store, FfmpegSizeTable table, Executor writer, Consumer<String> warn,
            Runnable recorded) {
        this(store, table, writer, warn, recorded, lease -> false);
    }

    /**
     * @param learnedElsewhere leases whose size another part records itself (the Ollama proxy
     *     keeps each model's {@code size_vram}): followed here too, they would count twice in the
     *     service's history
     */
    public LeaseSizing(LearnedSizes store, FfmpegSizeTable table, Executor writer, Consumer<String> warn,
            Runnable recorded, java.util.function.Predicate<Lease> learnedElsewhere) {
        this.learnedElsewhere = learnedElsewhere;
        this.recorded = recorded;
        this.store = store;
        this.table = table;
        this.writer = writer;
        this.warn = warn;
    }

    public LearnedSizes store() {
        return store;
    }

    /** Follows leases that were held before a restart (their signature is lost: they learn under {@code ""}). */
    public void adopt(Iterable<Lease> leases) {
        for (Lease l : leases) {
            if (!learnedElsewhere.test(l)) {
                live.putIfAbsent(l.id(), new Tracked(l));
            }
        }
    }

    @Override
    public OptionalLong autoBytes(String service, Optional<String> signature) {
        if (signature.isEmpty()) {
            return OptionalLong.empty();
        }
        OptionalLong learned;
        try {
            learned = store.learnedPeak(service, signature.get());
        } catch (IllegalArgumentException e) {
            return OptionalLong.empty();
        }
        if (learned.isPresent() && learned.getAsLong() > 0) {
            return learned;
        }
        return FfmpegShape.fromSignature(signature.get()).map(table::estimate).filter(b -> b > 0)
                .map(OptionalLong::of).orElse(OptionalLong.empty());
    }

    @Override
    public void granted(LeaseId lease, String signature) {
        Tracked t = live.get(lease);
        if (t != null) {
            t.signature = signature;
        }
    }

    @Override
    public void onEvent(LedgerEvent event) {
        if (event instanceof LedgerEvent.Admitted a) {
            if (!learnedElsewhere.test(a.lease())) {
                live.put(a.lease().id(), new Tracked(a.lease()));
            }
        } else if (event instanceof LedgerEvent.Released r) {
            ended(r.lease().id(), r.at());
        } else if (event instanceof LedgerEvent.Evicted e) {
            ended(e.lease().id(), e.at());
        } else if (event instanceof LedgerEvent.Reclaimed r) {
            ended(r.lease().id(), r.at());
        } else if (event instanceof LedgerEvent.RolledBack r) {
            live.remove(r.lease().id());
        }
    }

    /** Raises each live lease's peak to what {@code o} shows its holder using. */
    public void observe(Observation o, LedgerView view) {
        Map<String, Integer> leasesPerHolder = new java.util.HashMap<>();
        for (Lease l : view.leases()) {
            l.holder().ifPresent(h -> leasesPerHolder.merge(h, 1, Integer::sum));
        }
        for (Tracked t : live.values()) {
            Optional<String> h = t.lease.holder();
            if (h.isEmpty() || leasesPerHolder.getOrDefault(h.get(), 0) != 1) {
                continue;
            }
            long used = o.holderBytes(h.get());
            if (used > t.peak) {
                t.peak = used;
            }
        }
    }

    private void ended(LeaseId id, java.time.Instant at) {
        Tracked t = live.remove(id);
        if (t == null || t.peak <= 0) {
            return;
        }
        String service = t.lease.service();
        String signature = t.signature;
        long peak = t.peak;
        writer.execute(() -> {
            try {
                store.record(service, signature, peak, at);
                recorded.run();
            } catch (IOException | RuntimeException e) {
                warn.accept("cannot record the peak of " + t.lease.describe() + " in "
                        + LearnedSizes.FILE_NAME + ": " + e.getMessage());
            }
        });
    }
}
