package org.gpuagent.nvml.sim;

import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.gpuagent.nvml.Nvml;
import org.gpuagent.nvml.NvmlException;
import org.gpuagent.nvml.NvmlOpener;
import org.gpuagent.nvml.NvmlReturn;

/**
 * Simulated GPUs and their driver, in pure Java: the hardware state (processes, heat, energy)
 * outlives NVML sessions, as on a real host. {@link #open()} starts a session
 * ({@link Nvml#backend()} {@code "sim"}), so {@code host::open} is an {@link NvmlOpener}.
 *
 * <p>Deterministic: for a seed, the same sequence of clock readings and operations gives the same
 * values. Time comes only from the injected {@link InstantSource}; nothing here sleeps or reads
 * the system clock.
 *
 * <p>Fault injection mirrors the fake C library, by C function name: a chosen return code for a
 * call ({@link #failCall}; {@link NvmlReturn#NOT_SUPPORTED} makes the feature absent), a call that
 * blocks until released ({@link #blockCall}), a lost GPU ({@link SimulatedDevice#loseGpu()},
 * {@link #loseGpus()}, {@link #recover()}), Xid events ({@link SimulatedDevice#raiseXid}).
 */
public final class SimulatedGpuHost implements NvmlOpener {

    private final Object lock = new Object();
    private final long seed;
    private final InstantSource clock;
    private final List<SimulatedDevice> devices;
    private final String driverVersion;
    private final String nvmlVersion;
    private final int cudaDriverVersion;
    private final AtomicReferenceArray<Fault> faults = new AtomicReferenceArray<>(SimCall.values().length);
    private final CopyOnWriteArrayList<SimulatedEventSet> eventSets = new CopyOnWriteArrayList<>();
    private final AtomicInteger openSessions = new AtomicInteger();

    private SimulatedGpuHost(long seed, InstantSource clock, List<GpuProfile> profiles) {
        this.seed = seed;
        this.clock = Objects.requireNonNull(clock, "clock");
        if (profiles.isEmpty()) {
            throw new IllegalArgumentException("a simulated host needs at least one GPU profile");
        }
        GpuProfile first = profiles.get(0);
        Set<String> uuids = new HashSet<>();
        Set<String> busIds = new HashSet<>();
        long now = nowMicros();
        List<SimulatedDevice> list = new ArrayList<>();
        for (int i = 0; i < profiles.size(); i++) {
            GpuProfile p = Objects.requireNonNull(profiles.get(i), "profile " + i);
            if (!uuids.add(p.identity().uuid())) {
                throw new IllegalArgumentException("two simulated GPUs share the UUID " + p.identity().uuid()
                        + "; give the second one its own with GpuProfile.withIdentity");
            }
            if (!busIds.add(p.identity().pciBusId())) {
                throw new IllegalArgumentException("two simulated GPUs share the PCI bus id " + p.identity().pciBusId()
                        + "; give the second one its own with GpuProfile.withIdentity");
            }
            if (!p.driver().equals(first.driver())) {
                throw new IllegalArgumentException("one host has one driver: " + p.identity().name() + " names driver "
                        + p.driver().version() + " but " + first.identity().name() + " names " + first.driver().version());
            }
            list.add(new SimulatedDevice(this, i, p, now));
        }
        this.devices = List.copyOf(list);
        this.driverVersion = first.driver().version();
        this.nvmlVersion = first.driver().nvmlVersion();
        this.cudaDriverVersion = first.driver().cudaVersion();
    }

    /** A host with these GPUs at indexes 0, 1, ... */
    public static SimulatedGpuHost create(long seed, InstantSource clock, GpuProfile first, GpuProfile... more) {
        List<GpuProfile> all = new ArrayList<>();
        all.add(first);
        all.addAll(List.of(more));
        return new SimulatedGpuHost(seed, clock, all);
    }

    public static SimulatedGpuHost create(long seed, InstantSource clock, List<GpuProfile> profiles) {
        return new SimulatedGpuHost(seed, clock, List.copyOf(profiles));
    }

    /**
     * Initialises a session ({@code nvmlInit_v2}, then a handle and the identity of every GPU).
     *
     * @throws NvmlException GPU_IS_LOST while a GPU is lost, or an injected fault
     */
    @Override
    public Nvml open() {
        enterSystem(SimCall.INIT);
        for (SimulatedDevice d : devices) {
            if (d.isLost()) {
                throw new NvmlException(SimCall.HANDLE_BY_INDEX.cName(), NvmlReturn.GPU_IS_LOST,
                        "GPU " + d.index() + " has fallen off the bus");
            }
        }
        SimulatedNvml session = new SimulatedNvml(this);
        openSessions.incrementAndGet();
        return session;
    }

    public int deviceCount() {
        return devices.size();
    }

    public SimulatedDevice device(int index) {
        return devices.get(index);
    }

    public List<SimulatedDevice> devices() {
        return devices;
    }

    public long seed() {
        return seed;
    }

    public InstantSource clock() {
        return clock;
    }

    /** Sessions opened and not yet closed. */
    public int openSessions() {
        return openSessions.get();
    }

    /** The C names faults can be injected for. */
    public static List<String> callNames() {
        return SimCall.names();
    }

    // ---- fault injection ----

    /**
     * Every later {@code call} (its C name, e.g. {@code nvmlDeviceGetTemperature}; the version
     * suffix may be left out) on any GPU answers {@code code} until {@link #clearFault}. With
     * {@link NvmlReturn#NOT_SUPPORTED} the feature reads as absent.
     */
    public void failCall(String call, NvmlReturn code) {
        setFault(call, -1, code, -1);
    }

    /** As {@link #failCall(String, NvmlReturn)} for the next {@code times} calls only. */
    public void failCall(String call, NvmlReturn code, int times) {
        if (times <= 0) {
            throw new IllegalArgumentException("times must be positive: " + times);
        }
        setFault(call, -1, code, times);
    }

    /** As {@link #failCall(String, NvmlReturn)} on one GPU only. */
    public void failCallOn(int deviceIndex, String call, NvmlReturn code) {
        Objects.checkIndex(deviceIndex, devices.size());
        setFault(call, deviceIndex, code, -1);
    }

    private void setFault(String call, int device, NvmlReturn code, int times) {
        Objects.requireNonNull(code, "code");
        if (code == NvmlReturn.SUCCESS) {
            throw new IllegalArgumentException("a fault needs an error code, not NVML_SUCCESS");
        }
        SimCall c = SimCall.byName(call);
        faults.set(c.ordinal(), new Fault(c, device, code, times, null));
    }

    /**
     * Makes every later {@code call} block until {@link BlockedCall#release()} (a call wedged in the
     * driver). Replaces any other fault on that call.
     */
    public BlockedCall blockCall(String call) {
        SimCall c = SimCall.byName(call);
        BlockedCall block = new BlockedCall(this, c);
        faults.set(c.ordinal(), new Fault(c, -1, null, -1, block));
        return block;
    }

    public void clearFault(String call) {
        SimCall c = SimCall.byName(call);
        Fault f = faults.getAndSet(c.ordinal(), null);
        if (f != null && f.block != null) {
            f.block.release();
        }
    }

    /** Removes every fault and releases every blocked call; lost GPUs stay lost (see {@link #recover()}). */
    public void clearFaults() {
        for (SimCall c : SimCall.values()) {
            Fault f = faults.getAndSet(c.ordinal(), null);
            if (f != null && f.block != null) {
                f.block.release();
            }
        }
    }

    void removeBlock(BlockedCall block) {
        Fault f = faults.get(block.simCall().ordinal());
        if (f != null && f.block == block) {
            faults.compareAndSet(block.simCall().ordinal(), f, null);
        }
    }

    /** Every GPU falls off the bus. */
    public void loseGpus() {
        for (SimulatedDevice d : devices) {
            d.loseGpu();
        }
    }

    /** The lost GPUs are back (after a reset or reboot): new sessions open again; old ones stay broken. */
    public void recover() {
        for (SimulatedDevice d : devices) {
            d.recoverLocked();
        }
    }

    // ---- used by sessions and devices ----

    Object lock() {
        return lock;
    }

    long nowMicros() {
        Instant now = clock.instant();
        return Math.addExact(Math.multiplyExact(now.getEpochSecond(), 1_000_000L), now.getNano() / 1000);
    }

    String driverVersion() {
        return driverVersion;
    }

    String nvmlVersion() {
        return nvmlVersion;
    }

    int cudaDriverVersion() {
        return cudaDriverVersion;
    }

    /** Applies a fault for a host-level call. */
    void enterSystem(SimCall call) {
        Fault f = faults.get(call.ordinal());
        if (f != null && f.device < 0) {
            f.apply(this);
        }
    }

    /**
     * Applies a fault for a device call. Returns false when the call answers NOT_SUPPORTED (the
     * fault or the profile), throws for any other fault code, blocks for a blocked call.
     */
    boolean enterDevice(SimCall call, SimulatedDevice device) {
        Fault f = faults.get(call.ordinal());
        if (f != null && (f.device < 0 || f.device == device.index())) {
            if (!f.apply(this)) {
                return false;
            }
        }
        return device.supports(call);
    }

    void sessionClosed() {
        openSessions.decrementAndGet();
    }

    void addEventSet(SimulatedEventSet set) {
        eventSets.add(set);
    }

    void removeEventSet(SimulatedEventSet set) {
        eventSets.remove(set);
    }

    void deliverXid(int deviceIndex, long xid) {
        for (SimulatedEventSet set : eventSets) {
            set.deliverXid(deviceIndex, xid);
        }
    }

    /** An injected failure of one call: a return code ({@code times} left, -1 for ever) or a block. */
    private static final class Fault {
        final SimCall call;
        final int device;
        final NvmlReturn code;
        final AtomicInteger remaining;
        final BlockedCall block;

        Fault(SimCall call, int device, NvmlReturn code, int times, BlockedCall block) {
            this.call = call;
            this.device = device;
            this.code = code;
            this.remaining = new AtomicInteger(times);
            this.block = block;
        }

        /** Blocks, or throws the code; false for NOT_SUPPORTED; true when this fault is used up. */
        boolean apply(SimulatedGpuHost host) {
            if (block != null) {
                block.hold();
                return true;
            }
            int left = remaining.get();
            if (left >= 0) {
                while (true) {
                    if (left == 0) {
                        return true;
                    }
                    if (remaining.compareAndSet(left, left - 1)) {
                        if (left == 1) {
                            host.faults.compareAndSet(call.ordinal(), this, null);
                        }
                        break;
                    }
                    left = remaining.get();
                }
            }
            if (code == NvmlReturn.NOT_SUPPORTED) {
                return false;
            }
            throw new NvmlException(call.cName(), code, "injected by the simulator");
        }
    }
}
