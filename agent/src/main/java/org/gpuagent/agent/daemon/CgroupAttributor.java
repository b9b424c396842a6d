package org.gpuagent.agent.daemon;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.gpuagent.agent.config.ServiceConfig;
import org.gpuagent.agent.logging.DaemonLog;
import org.gpuagent.scheduler.Lease;
import org.gpuagent.scheduler.LedgerView;

/**
 * Attributes a process by its cgroup ({@code <procRoot>/<pid>/cgroup}, see {@link CgroupMembership}):
 * <ol>
 *   <li>a container (leaf-most first) whose holder {@code oci:<id>} a lease holds → that lease's
 *   service and holder;</li>
 *   <li>a unit (leaf-most first) whose holder {@code systemd:<unit>} a lease holds → that lease's
 *   service and holder (a container started by that unit, in split mode, included);</li>
 *   <li>a unit that a service's {@code match.units} lists → that service, holder
 *   {@code systemd:<unit>};</li>
 *   <li>else nothing. A container no lease holds is attributed only through a unit above it:
 *   {@code match.containers} lists container <em>names</em>, and a cgroup path carries only the
 *   id.</li>
 * </ol>
 * Leases win over rules because a lease names its holder explicitly; the holder reported is the
 * lease's own spelling, so the ledger matches the bytes to the lease.
 *
 * <p>Cost: one small read per call (about 1 KiB at most, under cgroup v1), no cache. A cache would
 * have to check that the pid was not reused (its start time, {@code /proc/PID/stat}), which is one
 * read as well, and a process can change cgroups ({@code systemd-run --scope}, Podman moving its
 * monitor). A process that is gone, hidden ({@code hidepid}) or unreadable is not attributed; an
 * unreadable one is logged once.
 */
final class CgroupAttributor implements ProcessAttributor {
    static final Path DEFAULT_PROC = Path.of("/proc");

    private final Path procRoot;
    private final Supplier<LedgerView> views;
    /** Unit (as systemd spells it) → service, first listing in configuration order wins. */
    private final Map<String, String> serviceByUnit;
    private long indexedVersion = -1;
    /** {@link HolderNames#key} of each lease holder → the lease's service and holder. */
    private Map<String, Attribution> byHolder = Map.of();
    private volatile boolean warnedUnreadable;

    CgroupAttributor(Path procRoot, Supplier<LedgerView> views, List<ServiceConfig> services) {
        this.procRoot = procRoot;
        this.views = views;
        Map<String, String> units = new LinkedHashMap<>();
        for (ServiceConfig sc : services) {
            for (String u : sc.match().units()) {
                HolderNames.unit(u).ifPresent(unit -> units.putIfAbsent(unit, sc.name()));
            }
        }
        this.serviceByUnit = Map.copyOf(units);
    }

    @Override
    public Optional<Attribution> attribute(int pid) {
        return membership(pid).flatMap(this::attribute);
    }

    /** Where process {@code pid} sits; empty when it is gone, unreadable, or in no unit or container. */
    Optional<CgroupMembership> membership(int pid) {
        if (pid <= 0) {
            return Optional.empty();
        }
        Path file = procRoot.resolve(Integer.toString(pid)).resolve("cgroup");
        String text;
        try {
            text = new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return Optional.empty(); // exited since NVML listed it, or hidden by hidepid
        } catch (IOException | SecurityException e) {
            if (!warnedUnreadable) {
                warnedUnreadable = true;
                DaemonLog.warn("cannot read " + file + " (" + DaemonLog.describe(e) + "); GPU processes whose "
                        + "cgroup cannot be read are not attributed to a unit or container (logged once)");
            }
            return Optional.empty();
        }
        return CgroupMembership.parse(text);
    }

    /** The service (and holder) {@code m} belongs to, by the rules in the class comment. */
    Optional<Attribution> attribute(CgroupMembership m) {
        Map<String, Attribution> leases = leaseIndex();
        for (String id : m.containers()) {
            Attribution a = leases.get(HolderNames.OCI + id);
            if (a != null) {
                return Optional.of(a);
            }
        }
        for (String unit : m.units()) {
            Attribution a = leases.get(HolderNames.SYSTEMD + unit);
            if (a != null) {
                return Optional.of(a);
            }
        }
        for (String unit : m.units()) {
            String service = serviceByUnit.get(unit);
            if (service != null) {
                return Optional.of(new Attribution(service, Optional.of(HolderNames.SYSTEMD + unit)));
            }
        }
        return Optional.empty();
    }

    /** Rebuilt only when the ledger view changed. */
    private synchronized Map<String, Attribution> leaseIndex() {
        LedgerView v = views.get();
        if (v.version() != indexedVersion) {
            Map<String, Attribution> m = new HashMap<>();
            for (Lease l : v.leases()) {
                l.holder().ifPresent(h -> m.putIfAbsent(HolderNames.key(h), new Attribution(l.service(),
                        Optional.of(h))));
            }
            byHolder = m;
            indexedVersion = v.version();
        }
        return byHolder;
    }
}
