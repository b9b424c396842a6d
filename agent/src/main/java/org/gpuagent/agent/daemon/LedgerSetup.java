package org.gpuagent.agent.daemon;

import java.io.IOException;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.Optional;
import java.util.stream.Collectors;
import org.gpuagent.agent.config.AgentConfig;
import org.gpuagent.agent.config.ConfigException;
import org.gpuagent.agent.logging.DaemonLog;
import org.gpuagent.nvml.MemoryInfo;
import org.gpuagent.nvml.sampler.DeviceSnapshot;
import org.gpuagent.nvml.sampler.GpuSnapshot;
import org.gpuagent.scheduler.ByteSize;
import org.gpuagent.scheduler.SchedulerConfig;
import org.gpuagent.scheduler.Timers;
import org.gpuagent.scheduler.journal.FileJournal;
import org.gpuagent.scheduler.journal.JournalCorruptedException;

/**
 * How the ledger starts: the size of the GPU it arbitrates (from the first sample), its services,
 * and its journal. Each refusal is a {@link Daemon.StartupException} with one line for the operator.
 */
final class LedgerSetup {
    /** Budgeted for when NVML gives no size and the configuration names none: a P1000's 4 GiB. */
    static final long FALLBACK_TOTAL = 4 * ByteSize.GIB;

    private LedgerSetup() {
    }

    /** The selected GPU's memory from the first collect; the configured size when NVML gives none. */
    static long deviceTotal(AgentConfig config, DeviceChoice device, GpuSnapshot first)
            throws Daemon.StartupException {
        if (first.status() != GpuSnapshot.Status.OK) {
            long t = config.deviceMemoryBytes().orElse(FALLBACK_TOTAL);
            DaemonLog.warn("the first GPU sample failed (" + first.statusDetail().orElse(first.status().name())
                    + "); budgeting for " + ByteSize.format(t) + " until NVML answers");
            return t;
        }
        DeviceSnapshot d = device.select(first).orElseThrow(() -> new Daemon.StartupException(device.notFound(first)));
        Optional<MemoryInfo> mem = d.memory();
        if (mem.isEmpty() || mem.get().totalBytes() <= 0) {
            long t = config.deviceMemoryBytes().orElse(FALLBACK_TOTAL);
            DaemonLog.warn("GPU " + d.index() + " did not report its memory; budgeting for " + ByteSize.format(t));
            return t;
        }
        DaemonLog.info("GPU " + d.index() + ": " + d.name() + " (" + d.uuid() + "), "
                + ByteSize.format(mem.get().totalBytes()) + first.driverVersion().map(v -> ", driver " + v).orElse(""));
        return mem.get().totalBytes();
    }

    /**
     * The ledger's configuration on a device of {@code total} bytes. Refuses services that could
     * never be admitted on this GPU: the fit check check-config runs against {@code device-memory}.
     */
    static SchedulerConfig schedulerConfig(AgentConfig config, long total) throws Daemon.StartupException {
        try {
            return config.schedulerConfig(total);
        } catch (ConfigException e) {
            throw new Daemon.StartupException("the configuration does not fit this GPU (" + ByteSize.format(total)
                    + "): " + e.problems().stream().map(p -> p.path() + ": " + p.message())
                            .collect(Collectors.joining("; ")), e);
        }
    }

    /** The journal in {@code stateDir}, retrying failed writes on {@code retries}; a damaged one refuses the start. */
    static FileJournal openJournal(Path stateDir, InstantSource clock, Timers retries) throws Daemon.StartupException {
        FileJournal.Options options = FileJournal.Options.defaults();
        options = options.withRetries(retries, options.firstRetry(), options.longestRetry());
        try {
            return FileJournal.open(stateDir, clock, options);
        } catch (JournalCorruptedException e) {
            throw new Daemon.StartupException(e.getMessage(), e);
        } catch (IOException e) {
            throw new Daemon.StartupException("cannot open the ledger journal: " + Daemon.oneLine(e), e);
        }
    }
}
