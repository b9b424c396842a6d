package org.gpuagent.agent.attribution;

import java.util.List;
import java.util.Optional;

/**
 * Says which service (and which lease holder, when known) a GPU process belongs to. The daemon
 * chains several ({@link AttributionChain}): pids carried by leases, the process's cgroup (a
 * lease's container or unit, or a unit the services' rules list), the simulator's processes. The
 * first that knows the pid wins.
 *
 * <p>Contract: called on the sampler's thread once per process and snapshot, twice (metrics and
 * ledger); it must be quick and must not block (cache what is expensive).
 */
@FunctionalInterface
public interface ProcessAttributor {

    Optional<Attribution> attribute(int pid);

    /**
     * @param service a configured service
     * @param holder  the lease holder the process runs for ({@code systemd:<unit>}, {@code oci:<id>},
     *                ...); empty when only the service is known
     */
    record Attribution(String service, Optional<String> holder) {
    }

    /** The first attributor in {@code chain} that knows the pid. */
    static ProcessAttributor firstOf(List<ProcessAttributor> chain) {
        List<ProcessAttributor> copy = List.copyOf(chain);
        return pid -> {
            for (ProcessAttributor a : copy) {
                Optional<Attribution> found = a.attribute(pid);
                if (found.isPresent()) {
                    return found;
                }
            }
            return Optional.empty();
        };
    }
}
