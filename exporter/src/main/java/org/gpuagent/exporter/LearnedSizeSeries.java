package org.gpuagent.exporter;

import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.Unit;
import java.util.List;
import java.util.Objects;

/**
 * What the agent learned of each service's lease sizes, as {@code gpu-agent recommend} prints it
 * (both are made from the same {@code Recommendation}s, so they agree to the byte):
 * <ul>
 *   <li>{@code nvgpu_learned_lease_peak_bytes{service,stat}}: the {@code p50}, {@code p99} and
 *   {@code max} of the kept lease peaks, nearest rank (not {@code quantile}: that label is a
 *   summary's, and these are gauges);</li>
 *   <li>{@code nvgpu_learned_leases{service}}: how many lease peaks are kept;</li>
 *   <li>{@code nvgpu_service_request_bytes{service}}: the configured {@code request};</li>
 *   <li>{@code nvgpu_suggested_request_bytes{service}}: the request {@code recommend} suggests.</li>
 * </ul>
 * A service with no kept peak has none of these series but its configured request.
 */
public final class LearnedSizeSeries {
    private final PublishedFamilies families = new PublishedFamilies();

    /**
     * One service's figures.
     *
     * @param leases 0 when nothing was learned yet (then only {@code requestBytes} is exported)
     */
    public record Service(String service, long requestBytes, int leases, long p50Bytes, long p99Bytes, long maxBytes,
            long suggestedBytes) {
        public Service {
            Objects.requireNonNull(service, "service");
        }
    }

    PublishedFamilies families() {
        return families;
    }

    void publish(List<Service> services) {
        Families f = new Families();
        Families.Family request = f.gauge("nvgpu_service_request_bytes", "The configured request of a service in "
                + "bytes: what a lease gets when its request names no size.", Unit.BYTES);
        Families.Family peaks = f.gauge("nvgpu_learned_lease_peak_bytes", "The most each kept lease of a service "
                + "was seen using, in bytes: p50, p99 and max (stat label), nearest rank over the kept history "
                + "(gpu-agent recommend).", Unit.BYTES);
        Families.Family count = f.gauge("nvgpu_learned_leases", "Lease peaks of a service kept in the learned-size "
                + "history.", null);
        Families.Family suggested = f.gauge("nvgpu_suggested_request_bytes", "The request gpu-agent recommend "
                + "suggests for a service, in bytes.", Unit.BYTES);
        for (Service s : services) {
            Labels l = Labels.of("service", s.service());
            request.add(l, s.requestBytes());
            if (s.leases() > 0) {
                peaks.add(Labels.of("service", s.service(), "stat", "p50"), s.p50Bytes());
                peaks.add(Labels.of("service", s.service(), "stat", "p99"), s.p99Bytes());
                peaks.add(Labels.of("service", s.service(), "stat", "max"), s.maxBytes());
                count.add(l, s.leases());
                suggested.add(l, s.suggestedBytes());
            }
        }
        families.set(f.build());
    }
}
