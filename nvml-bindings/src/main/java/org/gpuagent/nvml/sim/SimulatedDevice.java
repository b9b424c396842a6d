package org.gpuagent.nvml.sim;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.gpuagent.nvml.Bar1Memory;
import org.gpuagent.nvml.EncoderStats;
import org.gpuagent.nvml.MemoryInfo;
import org.gpuagent.nvml.ProcessInfo;
import org.gpuagent.nvml.ProcessInfo.ProcessKind;
import org.gpuagent.nvml.ProcessUtilizationSample;

/**
 * One simulated GPU's hardware: the processes on it and the physical state that outlives NVML
 * sessions. Tests and the agent's simulated backend drive it ({@link #startProcess}, loads,
 * {@link #raiseXid}, {@link #loseGpu}); NVML sessions read it. The processes and the memory they
 * hold are kept here; load, heat and energy in its {@link SimulatedPhysics}.
 */
public final class SimulatedDevice {
    private final SimulatedGpuHost host;
    private final int index;
    private final GpuProfile profile;
    /** The calls this card answers with NOT_SUPPORTED, looked up on every simulated query. */
    private final EnumSet<SimCall> notSupported;

    // guarded by host.lock()
    private final LinkedHashMap<Integer, SimProcess> processes = new LinkedHashMap<>();
    private final SimulatedPhysics physics;
    private volatile boolean lost;

    SimulatedDevice(SimulatedGpuHost host, int index, GpuProfile profile, long nowMicros) {
        this.host = host;
        this.index = index;
        this.profile = profile;
        this.notSupported = profile.notSupported();
        this.physics = new SimulatedPhysics(profile, host.seed(), index, nowMicros);
    }

    public int index() {
        return index;
    }

    public GpuProfile profile() {
        return profile;
    }

    public SimulatedGpuHost host() {
        return host;
    }

    Object lock() {
        return host.lock();
    }

    // ---- processes ----

    /** Starts a compute process: a CUDA context costing the profile's {@link GpuProfile.Memory#contextCostBytes()}. */
    public SimProcess startProcess(int pid, String name) {
        return startProcess(pid, name, ProcessKind.COMPUTE);
    }

    /**
     * Starts a process with a context of {@code kind} (a graphics context, e.g. a display server,
     * is charged the same context cost).
     *
     * @throws CudaOutOfMemoryException when the context does not fit; nothing changes
     * @throws IllegalStateException when {@code pid} already has a context on this GPU
     */
    public SimProcess startProcess(int pid, String name, ProcessKind kind) {
        if (pid <= 0) {
            throw new IllegalArgumentException("pid must be positive: " + pid);
        }
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("a process needs a name");
        }
        if (kind == null) {
            throw new IllegalArgumentException("a process needs a kind");
        }
        synchronized (lock()) {
            physics.advance(host.nowMicros());
            if (processes.containsKey(pid)) {
                throw new IllegalStateException("pid " + pid + " already has a context on GPU " + index);
            }
            long free = freeBytesLocked();
            if (profile.memory().contextCostBytes() > free) {
                throw new CudaOutOfMemoryException(index, pid, "creating a context", profile.memory().contextCostBytes(), free);
            }
            SimProcess p = new SimProcess(this, pid, name, kind, profile.memory().contextCostBytes());
            processes.put(pid, p);
            return p;
        }
    }

    public Optional<SimProcess> process(int pid) {
        synchronized (lock()) {
            return Optional.ofNullable(processes.get(pid));
        }
    }

    /** Running processes in the order they started. */
    public List<SimProcess> processes() {
        synchronized (lock()) {
            return List.copyOf(processes.values());
        }
    }

    /** Frame buffer in use by processes (reserved memory not included). */
    public long usedBytes() {
        synchronized (lock()) {
            return usedBytesLocked();
        }
    }

    /** Frame buffer a process could still allocate. */
    public long freeBytes() {
        synchronized (lock()) {
            return freeBytesLocked();
        }
    }

    void allocate(SimProcess p, long bytes) {
        synchronized (lock()) {
            requireRunning(p);
            long free = freeBytesLocked();
            if (bytes > free) {
                throw new CudaOutOfMemoryException(index, p.pid(), "allocating", bytes, free);
            }
            p.allocatedLocked(p.allocatedLocked() + bytes);
        }
    }

    void free(SimProcess p, long bytes) {
        synchronized (lock()) {
            requireRunning(p);
            if (bytes < 0 || bytes > p.allocatedLocked()) {
                throw new IllegalArgumentException("pid " + p.pid() + " cannot free " + bytes + " bytes: it has "
                        + p.allocatedLocked() + " allocated");
            }
            p.allocatedLocked(p.allocatedLocked() - bytes);
        }
    }

    void setLoad(SimProcess p, int sm, int enc, int dec) {
        synchronized (lock()) {
            requireRunning(p);
            physics.advance(host.nowMicros());
            p.loadLocked(sm, enc, dec);
            recomputeLoads();
        }
    }

    void exit(SimProcess p) {
        synchronized (lock()) {
            if (!p.runningLocked()) {
                return;
            }
            physics.advance(host.nowMicros());
            p.stopLocked();
            processes.remove(p.pid());
            recomputeLoads();
        }
    }

    private void requireRunning(SimProcess p) {
        if (!p.runningLocked()) {
            throw new IllegalStateException("pid " + p.pid() + " has exited");
        }
    }

    private void recomputeLoads() {
        int sm = 0;
        int enc = 0;
        int dec = 0;
        for (SimProcess p : processes.values()) {
            sm += p.smLocked();
            enc += p.encoderLocked();
            dec += p.decoderLocked();
        }
        physics.setLoad(sm, enc, dec);
    }

    // ---- environment and faults ----

    /** Changes the air around the card (a hot closet); the temperature follows with the card's lag. */
    public void setAmbientCelsius(double celsius) {
        synchronized (lock()) {
            physics.advance(host.nowMicros());
            physics.setAmbientCelsius(celsius);
        }
    }

    /**
     * Delivers an Xid error to every open event set registered for Xid events on this GPU (an
     * event raised while no set is registered is lost, as with the driver).
     */
    public void raiseXid(long xid) {
        host.deliverXid(index, xid);
    }

    /** The GPU falls off the bus: every call on it answers GPU_IS_LOST and no session opens until {@link SimulatedGpuHost#recover()}. */
    public void loseGpu() {
        lost = true;
    }

    public boolean isLost() {
        return lost;
    }

    void recoverLocked() {
        lost = false;
    }

    // ---- what sessions read ----

    boolean supports(SimCall call) {
        return !notSupported.contains(call);
    }

    /** Callers hold the host's lock from here on. */
    SimulatedPhysics physics() {
        return physics;
    }

    private long usedBytesLocked() {
        long used = 0;
        for (SimProcess p : processes.values()) {
            used += p.usedLocked();
        }
        return used;
    }

    private long freeBytesLocked() {
        return profile.memory().usableBytes() - usedBytesLocked();
    }

    MemoryInfo memoryLocked(boolean v2) {
        long total = profile.memory().totalBytes();
        long reserved = profile.memory().reservedBytes();
        long used = usedBytesLocked();
        long free = total - reserved - used;
        return v2 ? new MemoryInfo(total, used, free, OptionalLong.of(reserved))
                : new MemoryInfo(total, used + reserved, free, OptionalLong.empty());
    }

    Bar1Memory bar1Locked() {
        GpuProfile.Bar1 bar1 = profile.memory().bar1();
        long total = bar1.totalBytes();
        long used = Math.min(total, bar1.baseUsedBytes() + bar1.perProcessBytes() * processes.size());
        return new Bar1Memory(total, used, total - used);
    }

    /** One NVENC session per process with encoder load. */
    EncoderStats encoderStatsLocked(long nowMicros) {
        int sessions = 0;
        if (profile.engines().nvenc()) {
            for (SimProcess p : processes.values()) {
                if (p.encoderLocked() > 0) {
                    sessions++;
                }
            }
        }
        return physics.encoderStats(sessions, nowMicros);
    }

    List<ProcessInfo> processInfosLocked(ProcessKind kind) {
        List<ProcessInfo> out = new ArrayList<>(processes.size());
        for (SimProcess p : processes.values()) {
            if (p.kind() == kind) {
                out.add(new ProcessInfo(p.pid(), OptionalLong.of(p.usedLocked()), kind));
            }
        }
        return List.copyOf(out);
    }

    /**
     * One sample per process, stamped at the start of the driver's current sample period (so a
     * second call within the same period with the last timestamp gets nothing new).
     */
    List<ProcessUtilizationSample> processUtilizationLocked(long sinceMicros, long nowMicros) {
        GpuProfile.Engines engines = profile.engines();
        long period = engines.samplePeriodMicros();
        long stamp = Math.floorDiv(nowMicros, period) * period;
        if (stamp <= sinceMicros || processes.isEmpty()) {
            return List.of();
        }
        List<ProcessUtilizationSample> out = new ArrayList<>(processes.size());
        for (SimProcess p : processes.values()) {
            int sm = p.smLocked();
            int mem = SimulatedPhysics.clamp((int) Math.round(sm * engines.memoryUtilizationRatio()), 0, 100);
            int enc = engines.nvenc() ? p.encoderLocked() : 0;
            int dec = engines.nvdec() ? p.decoderLocked() : 0;
            out.add(new ProcessUtilizationSample(p.pid(), stamp, sm, mem, enc, dec));
        }
        return List.copyOf(out);
    }

    @Override
    public String toString() {
        return "SimulatedDevice[" + index + ": " + profile + "]";
    }
}
