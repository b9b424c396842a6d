package org.gpuagent.agent.attribution;

import java.util.List;
import java.util.Optional;
import org.gpuagent.exporter.WorkloadAttribution;
import org.gpuagent.exporter.WorkloadKind;
import org.gpuagent.exporter.WorkloadRef;

/**
 * The one attribution chain the ledger and the metrics share, first match wins:
 * <ol>
 *   <li>pids a lease carries: exact (the lease named the process) and in memory;</li>
 *   <li>the process's cgroup ({@link CgroupAttributor}: a lease's container or unit, then the
 *   services' {@code match.units}; for a container without either, the unit that started it);</li>
 *   <li>the rest (the simulator's processes, whose fake pids have no {@code /proc} entry).</li>
 * </ol>
 * For the metrics ({@link #workloadOf}) a process no service claims is still shown as its
 * container ({@code kind="container"}: the container's name from {@link ContainerStorage}, else the
 * 12-digit short id {@code podman ps} prints) or else its unit ({@code kind="unit"}); the cgroup is
 * read once per call either way.
 */
public final class AttributionChain implements ProcessAttributor, WorkloadAttribution {
    /** Length of the short container id Podman and Docker print. */
    static final int SHORT_ID = 12;

    private final ProcessAttributor exact;
    private final Optional<CgroupAttributor> cgroups;
    private final ProcessAttributor rest;
    private final ContainerStorage containerNames;

    public AttributionChain(ProcessAttributor exact, Optional<CgroupAttributor> cgroups, List<ProcessAttributor> rest) {
        this(exact, cgroups, rest, ContainerStorage.NONE);
    }

    public AttributionChain(ProcessAttributor exact, Optional<CgroupAttributor> cgroups, List<ProcessAttributor> rest,
                     ContainerStorage containerNames) {
        this.exact = exact;
        this.cgroups = cgroups;
        this.rest = ProcessAttributor.firstOf(rest);
        this.containerNames = containerNames;
    }

    @Override
    public Optional<Attribution> attribute(int pid) {
        Optional<Attribution> a = exact.attribute(pid);
        if (a.isPresent()) {
            return a;
        }
        if (cgroups.isPresent()) {
            a = cgroups.get().attribute(pid);
            if (a.isPresent()) {
                return a;
            }
        }
        return rest.attribute(pid);
    }

    @Override
    public Optional<WorkloadRef> workloadOf(int pid) {
        Optional<Attribution> a = exact.attribute(pid);
        if (a.isPresent()) {
            return Optional.of(service(a.get()));
        }
        Optional<CgroupMembership> m = cgroups.flatMap(c -> c.membership(pid));
        if (m.isPresent()) {
            a = cgroups.get().attribute(pid, m.get());
            if (a.isPresent()) {
                return Optional.of(service(a.get()));
            }
        }
        a = rest.attribute(pid);
        if (a.isPresent()) {
            return Optional.of(service(a.get()));
        }
        if (m.isEmpty()) {
            return Optional.empty();
        }
        Optional<String> container = m.get().container();
        if (container.isPresent()) {
            String id = container.get();
            return Optional.of(new WorkloadRef(containerNames.nameOf(id).orElse(id.substring(0, SHORT_ID)),
                    WorkloadKind.CONTAINER));
        }
        return m.get().unit().map(u -> new WorkloadRef(u, WorkloadKind.UNIT));
    }

    private static WorkloadRef service(Attribution a) {
        return new WorkloadRef(a.service(), WorkloadKind.SERVICE);
    }
}
