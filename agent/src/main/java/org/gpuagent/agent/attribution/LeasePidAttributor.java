package org.gpuagent.agent.attribution;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.gpuagent.scheduler.Lease;
import org.gpuagent.scheduler.LedgerView;

/**
 * Attributes a process to the lease that named its pid (a request may carry the pids that will
 * use the lease, as the OCI hook does with the container's init process). Rebuilds its index only
 * when the ledger view changed.
 */
public final class LeasePidAttributor implements ProcessAttributor {
    private final Supplier<LedgerView> views;
    private long indexedVersion = -1;
    private Map<Integer, Attribution> byPid = Map.of();

    public LeasePidAttributor(Supplier<LedgerView> views) {
        this.views = views;
    }

    @Override
    public synchronized Optional<Attribution> attribute(int pid) {
        LedgerView v = views.get();
        if (v.version() != indexedVersion) {
            Map<Integer, Attribution> m = new HashMap<>();
            for (Lease l : v.leases()) {
                for (Long p : l.pids()) {
                    if (p <= Integer.MAX_VALUE) {
                        m.putIfAbsent(p.intValue(), new Attribution(l.service(), l.holder()));
                    }
                }
            }
            byPid = m;
            indexedVersion = v.version();
        }
        return Optional.ofNullable(byPid.get(pid));
    }
}
