package org.gpuagent.agent.sizing;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.gpuagent.agent.config.ServiceConfig;
import org.gpuagent.exporter.LearnedSizeSeries;
import org.gpuagent.scheduler.ByteSize;

/**
 * What {@code gpu-agent recommend} says of one service, and the metrics say with it
 * ({@link #series()}): its configured request, the p50/p99/largest of its kept lease peaks
 * ({@link PeakSummary}, over every signature of the service), and a suggested request with the
 * reason.
 *
 * <p>The rule, in order:
 * <ol>
 *   <li>nothing learned: keep the request;</li>
 *   <li>p99 above the request: suggest p99 rounded up to {@value #STEP_MIB} MiB, because that many
 *   leases outgrew it (the kind of work that did most often is named);</li>
 *   <li>p99 under half the request: suggest p99 rounded up, because the request holds back memory
 *   that 99 % of leases never touched;</li>
 *   <li>else keep the request.</li>
 * </ol>
 * For a per-process service ({@code exec}: one lease per stream) the request is what a lease
 * with no size gets; {@code --bytes auto} already uses what each kind of work took.
 *
 * @param summary       empty when nothing was learned
 * @param aboveRequest  leases whose peak exceeded the request
 */
public record Recommendation(String service, long requestBytes, Optional<PeakSummary> summary, int aboveRequest,
        long suggestedBytes, String reason) {
    static final long STEP_MIB = 64;
    private static final long STEP = STEP_MIB << 20;

    /**
     * One recommendation per service from the configured {@code services} (their requests) and the
     * learned {@code sizes}: what {@code gpu-agent recommend} prints and the agent publishes.
     */
    public static List<Recommendation> forServices(List<ServiceConfig> services, LearnedSizes sizes) {
        Map<String, Long> requests = new LinkedHashMap<>();
        for (ServiceConfig s : services) {
            requests.put(s.name(), s.requestBytes());
        }
        return of(requests, sizes.all());
    }

    /**
     * One recommendation per service: the configured ones in {@code requests}' order, then any
     * other service the history names (its request 0: not configured).
     */
    public static List<Recommendation> of(Map<String, Long> requests, Map<LearnedSizes.Key, List<LearnedSizes.Peak>> all) {
        Map<String, Map<String, List<LearnedSizes.Peak>>> byService = new LinkedHashMap<>();
        all.forEach((k, peaks) -> byService.computeIfAbsent(k.service(), s -> new LinkedHashMap<>())
                .put(k.signature(), peaks));
        List<String> services = new ArrayList<>(requests.keySet());
        byService.keySet().stream().filter(s -> !requests.containsKey(s)).sorted().forEach(services::add);
        List<Recommendation> out = new ArrayList<>();
        for (String s : services) {
            out.add(of(s, requests.getOrDefault(s, 0L), byService.getOrDefault(s, Map.of())));
        }
        return out;
    }

    static Recommendation of(String service, long request, Map<String, List<LearnedSizes.Peak>> bySignature) {
        List<LearnedSizes.Peak> peaks = new ArrayList<>();
        bySignature.values().forEach(peaks::addAll);
        if (peaks.isEmpty()) {
            return new Recommendation(service, request, Optional.empty(), 0, request,
                    "nothing learned yet (no lease of it was seen using the GPU)");
        }
        PeakSummary sum = PeakSummary.of(peaks);
        int above = PeakSummary.above(peaks, request);
        long rounded = roundUp(sum.p99());
        if (request > 0 && sum.p99() > request) {
            return new Recommendation(service, request, Optional.of(sum), above, rounded,
                    worst(bySignature, request, peaks.size()));
        }
        if (request > 0 && sum.p99() * 2 < request) {
            return new Recommendation(service, request, Optional.of(sum), above, rounded, "99% of "
                    + leases(sum.count()) + " took at most " + ByteSize.format(sum.p99()) + ", under half of it");
        }
        if (request == 0) {
            return new Recommendation(service, 0, Optional.of(sum), above, rounded,
                    "it is not configured; " + leases(sum.count()) + " of it "
                            + (sum.count() == 1 ? "was" : "were") + " seen");
        }
        return new Recommendation(service, request, Optional.of(sum), above, request, "it fits: " + above + " of "
                + leases(sum.count()) + " peaked above it");
    }

    /** "tone-mapped 1080p ffmpeg streams peaked at 1.41 GiB in 9 of 212 leases": the kind that outgrew it most often. */
    private static String worst(Map<String, List<LearnedSizes.Peak>> bySignature, long request, int total) {
        Map.Entry<String, List<LearnedSizes.Peak>> worst = bySignature.entrySet().stream()
                .max(Comparator.<Map.Entry<String, List<LearnedSizes.Peak>>>comparingInt(
                        e -> PeakSummary.above(e.getValue(), request))
                        .thenComparingLong(e -> PeakSummary.of(e.getValue()).max()))
                .orElseThrow();
        PeakSummary w = PeakSummary.of(worst.getValue());
        return describe(worst.getKey()) + " peaked at " + ByteSize.format(w.max()) + " in "
                + PeakSummary.above(worst.getValue(), request) + " of " + leases(total);
    }

    /** "1 lease", "212 leases". */
    static String leases(long n) {
        return n + (n == 1 ? " lease" : " leases");
    }

    /** A signature for people: "tone-mapped 1080p ffmpeg streams", "exec:python3 runs", "leases". */
    static String describe(String signature) {
        if (signature.isEmpty()) {
            return "leases";
        }
        Optional<FfmpegShape> f = FfmpegShape.fromSignature(signature);
        if (f.isPresent()) {
            FfmpegShape s = f.get();
            return (s.tonemap().isPresent() ? "tone-mapped " : "") + (s.heightClass() > 0 ? s.heightClass() + "p " : "")
                    + "ffmpeg streams";
        }
        return signature + " runs";
    }

    private static long roundUp(long bytes) {
        return Math.max(STEP, (bytes + STEP - 1) / STEP * STEP);
    }

    /** "jellyfin: request 768 MiB; 212 leases: p50 310 MiB, p99 1.37 GiB, max 1.41 GiB; suggest 1.38 GiB: ...". */
    public String sentence() {
        String req = requestBytes > 0 ? "request " + ByteSize.format(requestBytes) : "no request";
        if (summary.isEmpty()) {
            return service + ": " + req + "; keep it: " + reason;
        }
        PeakSummary s = summary.get();
        String figures = leases(s.count()) + ": p50 " + ByteSize.format(s.p50()) + ", p99 " + ByteSize.format(s.p99())
                + ", max " + ByteSize.format(s.max());
        String advice = suggestedBytes == requestBytes ? "keep it" : "suggest " + ByteSize.format(suggestedBytes);
        return service + ": " + req + "; " + figures + "; " + advice + ": " + reason;
    }

    /** The same figures for the metrics. */
    public LearnedSizeSeries.Service series() {
        return summary.map(s -> new LearnedSizeSeries.Service(service, requestBytes, s.count(), s.p50(), s.p99(), s.max(),
                suggestedBytes)).orElseGet(() -> new LearnedSizeSeries.Service(service, requestBytes, 0, 0, 0, 0, 0));
    }
}
