package org.gpuagent.agent.api;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.gpuagent.scheduler.Lease;
import org.gpuagent.scheduler.LeaseId;

/** The JSON form of a lease, as the API, the CLI and webhooks show it. */
public final class LeaseJson {
    private LeaseJson() {
    }

    /**
     * {@code {"id":7,"service":"ollama","bytes":2684354560,"holder":"systemd:ollama.service",
     * "pids":[],"grantedAt":"2025-01-01T12:00:00Z","state":"active"}}; {@code holder} is null when
     * the lease has none; {@code evictingSince} only while evicting.
     */
    public static Map<String, Object> of(Lease l) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", l.id().value());
        m.put("service", l.service());
        m.put("bytes", l.bytes());
        m.put("holder", l.holder().orElse(null));
        m.put("pids", l.pids());
        m.put("grantedAt", l.grantedAt().toString());
        m.put("state", l.state().name().toLowerCase(Locale.ROOT));
        l.evictingSince().ifPresent(t -> m.put("evictingSince", t.toString()));
        return m;
    }

    public static List<Map<String, Object>> of(List<Lease> leases) {
        List<Map<String, Object>> out = new ArrayList<>(leases.size());
        leases.forEach(l -> out.add(of(l)));
        return out;
    }

    public static List<Long> ids(List<LeaseId> ids) {
        return ids.stream().map(LeaseId::value).toList();
    }
}
