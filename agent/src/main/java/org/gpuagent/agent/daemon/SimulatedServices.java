package org.gpuagent.agent.daemon;

import java.time.Duration;
import java.time.InstantSource;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import org.gpuagent.agent.attribution.ProcessAttributor;
import org.gpuagent.scheduler.ByteSize;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.gpuagent.agent.logging.DaemonLog;
import org.gpuagent.nvml.sim.CudaOutOfMemoryException;
import org.gpuagent.nvml.sim.SimProcess;
import org.gpuagent.nvml.sim.SimulatedDevice;
import org.gpuagent.scheduler.ByteSize;
import org.gpuagent.scheduler.Lease;
import org.gpuagent.scheduler.LeaseId;
import org.gpuagent.scheduler.LedgerEvent;
import org.gpuagent.scheduler.LedgerListener;
import org.gpuagent.scheduler.PriorityClass;
import org.gpuagent.scheduler.Timers;

/**
 * The services' processes on the simulated GPU, so that the whole loop (ledger, reconciliation,
 * metrics) can be watched without a GPU: each granted lease becomes a simulated process that
 * creates its CUDA context and allocates the rest of the lease's bytes {@code startDelay} later;
 * a release, eviction or reclaim makes it exit. A lease that names pids (the process
 * {@code gpu-agent exec} runs, a container's init) allocates as its first pid, so the simulated
 * GPU shows that real process using the memory, as NVML would; any other gets a fake pid. Preemption
 * on this backend asks {@link #exitLater} instead of running the real actuator.
 *
 * <p>Every change runs on one serial executor, in event order, so a lease released before its
 * process started never starts one; delays are the injected {@link Timers}, whose actions hand
 * their change to the same executor. Listener calls arrive on the ledger's writer and only
 * enqueue.
 */
final class SimulatedServices implements LedgerListener, ProcessAttributor {
    /** Fake pids start here: above the usual pid_max of 4194304, so they cannot be mistaken for real ones. */
    static final int FIRST_PID = 5_000_000;

    private final SimulatedDevice device;
    private final Executor executor;
    private final Timers timers;
    private final InstantSource clock;
    private final Duration startDelay;
    private final Map<String, PriorityClass> priorities;
    /** Touched only on {@link #executor}. */
    private final Map<LeaseId, Running> byLease = new HashMap<>();
    /** Granted leases whose process has not started yet; touched only on {@link #executor}. */
    private final Set<LeaseId> pending = new HashSet<>();
    /** Read by the sampler's thread. */
    private final Map<Integer, Attribution> byPid = new ConcurrentHashMap<>();
    private int nextPid = FIRST_PID;

    private record Running(Lease lease, SimProcess process) {
    }

    /**
     * @param executor runs one change at a time, in order
     * @param timers   the start and exit delays, on {@code clock}
     */
    SimulatedServices(SimulatedDevice device, Executor executor, Timers timers, InstantSource clock,
            Duration startDelay, Map<String, PriorityClass> priorities) {
        this.device = device;
        this.executor = executor;
        this.timers = timers;
        this.clock = clock;
        this.startDelay = startDelay;
        this.priorities = Map.copyOf(priorities);
    }

    /** Starts processes for leases that survived a restart (the simulator starts empty). */
    void adopt(List<Lease> leases) {
        for (Lease l : leases) {
            executor.execute(() -> {
                pending.add(l.id());
                start(l);
            });
        }
    }

    @Override
    public void onEvent(LedgerEvent event) {
        if (event instanceof LedgerEvent.Admitted a) {
            executor.execute(() -> pending.add(a.lease().id()));
            later(startDelay, () -> start(a.lease()));
        } else if (event instanceof LedgerEvent.Released r) {
            executor.execute(() -> stop(r.lease().id(), "released"));
        } else if (event instanceof LedgerEvent.Evicted e) {
            executor.execute(() -> stop(e.lease().id(), "evicted"));
        } else if (event instanceof LedgerEvent.Reclaimed r) {
            executor.execute(() -> stop(r.lease().id(), "reclaimed"));
        } else if (event instanceof LedgerEvent.RolledBack r) {
            executor.execute(() -> stop(r.lease().id(), "rolled back"));
        }
    }

    /** The preempted lease's process exits after {@code delay}, as an unloaded model frees its memory. */
    void exitLater(Lease lease, Duration delay) {
        later(delay, () -> stop(lease.id(), "preempted"));
    }

    private void later(Duration delay, Runnable change) {
        timers.schedule(clock.instant().plus(delay), () -> executor.execute(change));
    }

    @Override
    public Optional<Attribution> attribute(int pid) {
        return Optional.ofNullable(byPid.get(pid));
    }

    /** Runs on the executor. */
    private void start(Lease lease) {
        if (!pending.remove(lease.id())) {
            return;
        }
        int pid = lease.pids().isEmpty() || lease.pids().get(0) >= FIRST_PID ? nextPid++
                : lease.pids().get(0).intValue();
        SimProcess p;
        try {
            p = device.startProcess(pid, lease.service());
        } catch (CudaOutOfMemoryException | IllegalStateException e) {
            DaemonLog.warn("simulator: " + lease.describe() + " could not start its process: " + e.getMessage());
            return;
        }
        long rest = lease.bytes() - p.usedBytes();
        if (rest > 0) {
            try {
                p.allocate(rest);
            } catch (CudaOutOfMemoryException e) {
                DaemonLog.warn("simulator: " + lease.describe() + " process " + pid + " ran out of memory: "
                        + e.getMessage());
            }
        }
        switch (priorities.getOrDefault(lease.service(), PriorityClass.BATCH)) {
            case CRITICAL -> p.setLoad(25, 0, 30);
            case INTERACTIVE -> p.setLoad(5, 40, 35);
            case BATCH -> p.setLoad(40, 0, 0);
            case OPPORTUNISTIC -> p.setLoad(60, 0, 0);
        }
        byLease.put(lease.id(), new Running(lease, p));
        byPid.put(pid, new Attribution(lease.service(), lease.holder()));
        DaemonLog.info("simulator: " + lease.describe() + " runs as process " + pid + " using "
                + ByteSize.format(p.usedBytes()));
    }

    private void stop(LeaseId id, String why) {
        Running r = byLease.remove(id);
        if (r == null) {
            pending.remove(id);
            return;
        }
        byPid.remove(r.process().pid());
        r.process().exit();
        DaemonLog.info("simulator: process " + r.process().pid() + " of " + r.lease().describe() + " exited ("
                + why + ")");
    }
}
