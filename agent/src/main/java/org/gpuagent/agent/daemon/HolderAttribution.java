package org.gpuagent.agent.daemon;

import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import org.gpuagent.agent.attribution.AttributionChain;
import org.gpuagent.agent.attribution.CgroupAttributor;
import org.gpuagent.agent.attribution.CgroupLiveness;
import org.gpuagent.agent.attribution.ContainerStorage;
import org.gpuagent.agent.attribution.HolderLiveness;
import org.gpuagent.agent.attribution.LeasePidAttributor;
import org.gpuagent.agent.attribution.ProcessAttributor;
import org.gpuagent.agent.config.AgentConfig;
import org.gpuagent.scheduler.LedgerView;

/**
 * Who a GPU process belongs to, and whether a lease's holder still runs, on the backend the
 * daemon runs: on NVML this host's cgroups say; on the simulator its simulated processes stand in
 * for the units and containers, and this host's cgroups describe other processes (checking
 * systemd:ollama.service there would reclaim the simulated Ollama's lease), so cgroups are read on
 * the NVML backend only.
 */
final class HolderAttribution {
    private HolderAttribution() {
    }

    /** The pids leases carry, then (on NVML) the process's cgroup, then (on the simulator) its processes. */
    static AttributionChain chain(AgentConfig config, Supplier<LedgerView> ledger, Optional<SimulatedServices> sim) {
        Optional<CgroupAttributor> cgroups = sim.isPresent() ? Optional.empty()
                : Optional.of(new CgroupAttributor(CgroupAttributor.DEFAULT_PROC, ledger, config.services()));
        return new AttributionChain(new LeasePidAttributor(ledger), cgroups,
                sim.<List<ProcessAttributor>>map(List::of).orElse(List.of()),
                sim.isPresent() ? ContainerStorage.NONE : new ContainerStorage(config.exporter().containerStores()));
    }

    /** Whether a lease's holder still runs: its process, and on NVML its unit's or container's cgroup. */
    static HolderLiveness liveness(Optional<SimulatedServices> sim) {
        return sim.isPresent() ? HolderLiveness.processes()
                : new CgroupLiveness(CgroupLiveness.DEFAULT_ROOT, HolderLiveness.processes());
    }
}
