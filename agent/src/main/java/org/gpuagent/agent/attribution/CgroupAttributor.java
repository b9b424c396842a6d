package org.gpuagent.agent.attribution;

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
 *   <li>a container that no lease holds and whose path names no unit (Podman's own
 *   {@code machine.slice/libpod-<id>.scope}) → the unit of the process that started it: the
 *   nearest ancestor outside every container, Podman's {@code conmon}, which stays in the unit
 *   that ran {@code podman run} when the container is started with {@code --cgroups=no-conmon}
 *   (NixOS's {@code virtualisation.oci-containers} units do). That unit then goes through rules
 *   2 and 3, so a container admitted by its unit's {@code ExecStartPre} counts once, as that
 *   unit's lease, instead of once as the lease and again as unattributed use;</li>
 *   <li>else nothing. {@code match.containers} lists container <em>names</em>, and a cgroup path
 *   carries only the id.</li>
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
public final class CgroupAttributor implements ProcessAttributor {
    public static final Path DEFAULT_PROC = Path.of("/proc");
    /** How far up from a container's process its starter is sought (process, its parents, init, conmon). */
    static final int MAX_ANCESTORS = 16;

    private final Path procRoot;
    private final Supplier<LedgerView> views;
    /** Unit (as systemd spells it) → service, first listing in configuration order wins. */
    private final Map<String, String> serviceByUnit;
    private long indexedVersion = -1;
    /** {@link HolderNames#key} of each lease holder → the lease's service and holder. */
    private Map<String, Attribution> byHolder = Map.of();
    private volatile boolean warnedUnreadable;

    public CgroupAttributor(Path procRoot, Supplier<LedgerView> views, List<ServiceConfig> services) {
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
        return membership(pid).flatMap(m -> attribute(pid, m));
    }

    /** Process {@code pid}, whose membership is {@code m}, by every rule in the class comment. */
    Optional<Attribution> attribute(int pid, CgroupMembership m) {
        Optional<Attribution> a = attribute(m);
        if (a.isPresent() || m.containers().isEmpty() || !m.units().isEmpty()) {
            return a;
        }
        return starter(pid).flatMap(this::attribute);
    }

    /**
     * The membership of the nearest ancestor of {@code pid} that is in no container (a
     * container's monitor, {@code conmon}); empty when the chain cannot be read, ends, or is
     * longer than {@value #MAX_ANCESTORS}.
     */
    private Optional<CgroupMembership> starter(int pid) {
        int p = pid;
        for (int hop = 0; hop < MAX_ANCESTORS; hop++) {
            p = parent(p);
            if (p <= 1) {
                return Optional.empty();
            }
            Optional<CgroupMembership> m = membership(p);
            if (m.isEmpty()) {
                return Optional.empty();
            }
            if (m.get().containers().isEmpty()) {
                return m;
            }
        }
        return Optional.empty();
    }

    /** The parent pid from {@code /proc/PID/stat} (the field after the command name); 0 when unknown. */
    private int parent(int pid) {
        String stat;
        try {
            stat = new String(Files.readAllBytes(procRoot.resolve(Integer.toString(pid)).resolve("stat")),
                    StandardCharsets.UTF_8);
        } catch (IOException | SecurityException e) {
            return 0;
        }
        // "PID (COMM) STATE PPID ...": COMM may hold spaces and parentheses, so read after the last ')'.
        int close = stat.lastIndexOf(')');
        if (close < 0) {
            return 0;
        }
        String[] fields = stat.substring(close + 1).strip().split(" ", 3);
        if (fields.length < 2) {
            return 0;
        }
        try {
            return Integer.parseInt(fields[1]);
        } catch (NumberFormatException e) {
            return 0;
        }
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
