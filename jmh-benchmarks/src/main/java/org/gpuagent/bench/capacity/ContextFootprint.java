package org.gpuagent.bench.capacity;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Set;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.gpuagent.nvml.MemoryInfo;
import org.gpuagent.nvml.NvmlDevice;
import org.gpuagent.nvml.ProcessInfo;

/**
 * What one CUDA context and plain allocations in it cost, as NVML sees it: the figures the
 * scheduler's per-service defaults and the ledger's reconciliation rest on.
 *
 * <p>Sequence: read NVML (baseline), create a context, then for each size allocate, read, free,
 * read; destroy the context, read. Each read after a change polls NVML until it shows a change
 * and two reads in a row agree, or the reads run out (then the last read is reported as is, with
 * the number of reads taken: a figure that never moved is a finding too).
 *
 * <p>This process is found in NVML's compute-process list by its pid. Where NVML lists pids of
 * another namespace (a container), the one entry that was not there before the context is taken
 * instead, and the output says which match was used.
 */
final class ContextFootprint {

    static final long MIB = 1L << 20;
    /** A small and a large test allocation; both fit a 4 GiB P1000 next to its context. */
    static final List<Long> DEFAULT_ALLOCATIONS = List.of(256 * MIB, 1024 * MIB);

    /** How this process was found in NVML's list. */
    enum Match {
        /** Listed under this JVM's pid. */
        PID,
        /** Not under its pid, but exactly one entry appeared that the baseline did not have. */
        NEW_ENTRY,
        /** Not listed (or several new entries, none of them ours for sure). */
        NONE;

        String label() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
    }

    /** One look at NVML: the device's used memory and this process's entry, if found. */
    record Reading(long deviceUsedBytes, Match match, OptionalLong processBytes, Set<Integer> pids) {
        boolean sameAs(Reading other) {
            return deviceUsedBytes == other.deviceUsedBytes && match == other.match
                    && processBytes.equals(other.processBytes);
        }

        /** This process's bytes, 0 when it is not listed (no context, no memory). */
        OptionalLong processBytesOrZero() {
            return match == Match.NONE ? OptionalLong.of(0) : processBytes;
        }
    }

    /** A reading after a change, how many reads it took, and how long the change itself took. */
    record Step(Reading reading, int reads, long nanos) {
    }

    record Allocation(long bytes, Step allocated, Step freed) {
    }

    record Result(int pid, MemoryInfo memoryAtStart, Reading baseline, Step context, List<Allocation> allocations,
            Step destroyed) {
    }

    private final NvmlDevice device;
    private final int pid;
    private final LongSupplier nanoTicker;
    private final Runnable pause;
    private final int maxReads;

    /**
     * @param pid this process as NVML should list it
     * @param nanoTicker monotonic time, for how long the CUDA calls take
     * @param pause waits between two NVML reads of one step
     * @param maxReads NVML reads per step at most (at least 2)
     */
    ContextFootprint(NvmlDevice device, int pid, LongSupplier nanoTicker, Runnable pause, int maxReads) {
        if (maxReads < 2) {
            throw new IllegalArgumentException("a step needs at least 2 reads to see agreement: " + maxReads);
        }
        this.device = Objects.requireNonNull(device, "device");
        this.pid = pid;
        this.nanoTicker = Objects.requireNonNull(nanoTicker, "nanoTicker");
        this.pause = Objects.requireNonNull(pause, "pause");
        this.maxReads = maxReads;
    }

    /**
     * Runs the sequence. The context is destroyed on every path, also when an allocation fails.
     *
     * @throws CudaCallException when a CUDA call fails
     * @throws org.gpuagent.nvml.NvmlException when an NVML read fails
     */
    Result measure(Supplier<CudaContext> createContext, List<Long> sizes) {
        MemoryInfo start = device.memory();
        Set<Integer> before = pids(device.computeProcesses());
        Reading baseline = read(before);

        long t0 = nanoTicker.getAsLong();
        CudaContext context = createContext.get();
        long created = nanoTicker.getAsLong() - t0;
        List<Allocation> allocations = new ArrayList<>();
        Step contextStep;
        try {
            contextStep = settle(baseline, before, created);
            Reading last = contextStep.reading();
            for (long size : sizes) {
                long a0 = nanoTicker.getAsLong();
                long handle = context.allocate(size);
                Step allocated = settle(last, before, nanoTicker.getAsLong() - a0);
                long f0 = nanoTicker.getAsLong();
                context.free(handle);
                Step freed = settle(allocated.reading(), before, nanoTicker.getAsLong() - f0);
                allocations.add(new Allocation(size, allocated, freed));
                last = freed.reading();
            }
        } catch (RuntimeException e) {
            try {
                context.close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        Reading beforeDestroy = allocations.isEmpty() ? contextStep.reading()
                : allocations.get(allocations.size() - 1).freed().reading();
        long d0 = nanoTicker.getAsLong();
        context.close();
        Step destroyed = settle(beforeDestroy, before, nanoTicker.getAsLong() - d0);
        return new Result(pid, start, baseline, contextStep, List.copyOf(allocations), destroyed);
    }

    /** Reads until NVML shows a change from {@code prior} and two reads in a row agree. */
    private Step settle(Reading prior, Set<Integer> baselinePids, long nanos) {
        Reading last = read(baselinePids);
        int reads = 1;
        while (reads < maxReads) {
            pause.run();
            Reading next = read(baselinePids);
            reads++;
            if (!next.sameAs(prior) && next.sameAs(last)) {
                return new Step(next, reads, nanos);
            }
            last = next;
        }
        return new Step(last, reads, nanos);
    }

    private Reading read(Set<Integer> baselinePids) {
        long used = device.memory().usedBytes();
        List<ProcessInfo> processes = device.computeProcesses();
        Set<Integer> now = pids(processes);
        ProcessInfo own = null;
        Match match = Match.NONE;
        for (ProcessInfo p : processes) {
            if (p.pid() == pid) {
                own = p;
                match = Match.PID;
            }
        }
        if (own == null) {
            List<ProcessInfo> fresh = processes.stream().filter(p -> !baselinePids.contains(p.pid())).toList();
            if (fresh.size() == 1) {
                own = fresh.get(0);
                match = Match.NEW_ENTRY;
            }
        }
        return new Reading(used, match, own == null ? OptionalLong.empty() : own.usedBytes(), now);
    }

    private static Set<Integer> pids(List<ProcessInfo> processes) {
        Set<Integer> out = new LinkedHashSet<>();
        for (ProcessInfo p : processes) {
            out.add(p.pid());
        }
        return Set.copyOf(out);
    }
}
