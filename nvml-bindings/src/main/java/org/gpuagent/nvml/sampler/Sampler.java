package org.gpuagent.nvml.sampler;

import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.LongSupplier;
import org.gpuagent.nvml.ClockType;
import org.gpuagent.nvml.ExactListBuilder;
import org.gpuagent.nvml.MemoryInfo;
import org.gpuagent.nvml.Nvml;
import org.gpuagent.nvml.NvmlDevice;
import org.gpuagent.nvml.NvmlEvent;
import org.gpuagent.nvml.NvmlEventSet;
import org.gpuagent.nvml.NvmlEventType;
import org.gpuagent.nvml.NvmlException;
import org.gpuagent.nvml.NvmlOpener;
import org.gpuagent.nvml.NvmlReturn;
import org.gpuagent.nvml.PcieCounter;
import org.gpuagent.nvml.PowerLimitConstraints;
import org.gpuagent.nvml.ProcessInfo;
import org.gpuagent.nvml.ProcessUtilizationSample;
import org.gpuagent.nvml.TemperatureThreshold;

/**
 * Polls every GPU on one thread into immutable {@link GpuSnapshot}s, the only NVML caller on the
 * hot path. Backend-agnostic: it sees an {@link NvmlOpener}, never the JNA binding or the simulator.
 *
 * <p>Contracts:
 * <ul>
 *   <li>{@link #latest()} never returns null and never blocks; it starts as UNAVAILABLE.</li>
 *   <li>At most one collect is in flight ({@link #collectOnce()} and the sampling thread share a
 *       lock).</li>
 *   <li>A failing call records a {@link CallError} and leaves its field absent; the collect goes
 *       on. A code that {@link NvmlReturn#requiresReinit() requires re-initialisation}
 *       (GPU_IS_LOST, ...) ends the collect: the last good data is republished as LOST, the session
 *       is closed, and {@link NvmlOpener#open()} is retried after {@code backoffMin}, then after
 *       twice the previous wait, up to {@code backoffMax}, all measured on the nano ticker.</li>
 *   <li>A watchdog thread republishes the last snapshot as STALE once a collect has run past
 *       {@code watchdogTimeout} (a call blocked in the driver); when the collect returns, the
 *       next publish is OK again.</li>
 *   <li>Listeners run after each publish, in publish order, on the publishing thread; one that
 *       throws is logged and skipped. They must be quick and must not call {@link #collectOnce()}
 *       or {@link #close()}.</li>
 *   <li>The hot path allocates the snapshot and the values it holds, nothing else: no boxing,
 *       no capturing lambdas, no iterators, no strings (errors aside).</li>
 * </ul>
 */
public final class Sampler implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Sampler.class.getName());
    private static final long NOT_IN_FLIGHT = Long.MIN_VALUE;
    private static final int MAX_EVENTS_PER_COLLECT = 256;
    private static final long CLOSE_WAIT_MILLIS = 2_000;
    private static final String OPEN_CALL = "open";

    private final NvmlOpener opener;
    private final SamplerConfig config;
    private final InstantSource clock;
    private final LongSupplier ticker;
    private final long intervalNanos;
    private final long watchdogTimeoutNanos;
    private final long backoffMinNanos;
    private final long backoffMaxNanos;

    private final AtomicReference<GpuSnapshot> latest;
    private volatile List<Consumer<GpuSnapshot>> listeners = List.of();
    private final AtomicLong listenerFailures = new AtomicLong();

    // ---- collect state, guarded by collectLock ----
    private final ReentrantLock collectLock = new ReentrantLock();
    /** The devices of the collect in progress; guarded by collectLock. */
    private final ExactListBuilder<DeviceSnapshot> deviceList = new ExactListBuilder<>();
    private Nvml session;
    private NvmlEventSet events;
    private DeviceState[] states = new DeviceState[0];
    private Optional<String> backend = Optional.empty();
    private Optional<String> driverVersion = Optional.empty();
    private Optional<String> nvmlVersion = Optional.empty();
    private OptionalInt cudaDriverVersion = OptionalInt.empty();
    private GpuSnapshot lastGood;
    private int slowCountdown;
    private long retryDelayNanos;
    private volatile boolean backingOff;
    private volatile long nextOpenAtNanos;
    private String failureDetail = "";
    private final ArrayList<CallError> collectErrors = new ArrayList<>();
    private final Map<ErrorKey, long[]> errorCounts = new HashMap<>();
    private List<CallErrorTotal> errorTotals = List.of();
    private final Map<XidKey, long[]> xidCounts = new HashMap<>();
    private List<XidCount> xidCountList = List.of();
    private final ArrayDeque<XidEvent> recentXids = new ArrayDeque<>();
    private List<XidEvent> recentXidList = List.of();

    // ---- publishing, guarded by publishLock; notifyLock orders listener calls ----
    private final ReentrantLock publishLock = new ReentrantLock();
    private final ReentrantLock notifyLock = new ReentrantLock();
    private long sequence;
    private long inFlightSinceNanos = NOT_IN_FLIGHT;
    private boolean staleMarked;
    // Where the in-flight collect is, for the watchdog's message: constants only, no allocation.
    private volatile String currentCall = "";
    private volatile int currentDevice = -1;

    // ---- threads ----
    private final ReentrantLock wakeLock = new ReentrantLock();
    private final Condition wake = wakeLock.newCondition();
    private volatile boolean closed;
    private Thread samplerThread;
    private Thread watchdogThread;

    /**
     * @param opener     opens (and re-opens) NVML sessions
     * @param config     intervals, cadence, watchdog and backoff
     * @param clock      wall time for {@link GpuSnapshot#collectedAt()} and the like
     * @param nanoTicker monotonic time for durations, the watchdog and the backoff (System::nanoTime in production)
     */
    public Sampler(NvmlOpener opener, SamplerConfig config, InstantSource clock, LongSupplier nanoTicker) {
        this.opener = Objects.requireNonNull(opener, "opener");
        this.config = Objects.requireNonNull(config, "config");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.ticker = Objects.requireNonNull(nanoTicker, "nanoTicker");
        this.intervalNanos = config.interval().toNanos();
        this.watchdogTimeoutNanos = config.watchdogTimeout().toNanos();
        this.backoffMinNanos = config.backoffMin().toNanos();
        this.backoffMaxNanos = config.backoffMax().toNanos();
        this.latest = new AtomicReference<>(GpuSnapshot.initial(clock.instant()));
    }

    public SamplerConfig config() {
        return config;
    }

    /** The newest snapshot; never null, never blocks. */
    public GpuSnapshot latest() {
        return latest.get();
    }

    /** Called after each publish (see the class comment for the rules). */
    public void addListener(Consumer<GpuSnapshot> listener) {
        Objects.requireNonNull(listener, "listener");
        synchronized (this) {
            List<Consumer<GpuSnapshot>> next = new ArrayList<>(listeners);
            next.add(listener);
            listeners = List.copyOf(next);
        }
    }

    public void removeListener(Consumer<GpuSnapshot> listener) {
        synchronized (this) {
            List<Consumer<GpuSnapshot>> next = new ArrayList<>(listeners);
            next.remove(listener);
            listeners = List.copyOf(next);
        }
    }

    /** How many times a listener threw. */
    public long listenerFailures() {
        return listenerFailures.get();
    }

    /** Starts the daemon threads {@code gpu-sampler} and {@code gpu-sampler-watchdog}; the first collect runs at once. */
    public synchronized void start() {
        if (closed) {
            throw new IllegalStateException("the sampler is closed");
        }
        if (samplerThread != null) {
            throw new IllegalStateException("the sampler is already started");
        }
        samplerThread = new Thread(this::runSampling, "gpu-sampler");
        samplerThread.setDaemon(true);
        watchdogThread = new Thread(this::runWatchdog, "gpu-sampler-watchdog");
        watchdogThread.setDaemon(true);
        samplerThread.start();
        watchdogThread.start();
    }

    /**
     * Collects once, now, on the calling thread (waiting for a collect in flight on another
     * thread), publishes and returns the result. While re-opening is backing off and the next
     * attempt is not due, returns {@link #latest()} without publishing.
     *
     * @throws IllegalStateException after {@link #close()}
     */
    public GpuSnapshot collectOnce() {
        collectLock.lock();
        try {
            if (closed) {
                throw new IllegalStateException("the sampler is closed");
            }
            return collectLocked();
        } finally {
            collectLock.unlock();
        }
    }

    /**
     * Stops the threads and closes the NVML session; idempotent. Nothing is published after it
     * returns. Waits a bounded time (seconds) for a collect in flight: if a call stays blocked in
     * the driver, that collect closes the session when it returns.
     */
    @Override
    public void close() {
        Thread sampling;
        Thread watchdog;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            sampling = samplerThread;
            watchdog = watchdogThread;
        }
        signalWake();
        try {
            if (watchdog != null) {
                watchdog.interrupt();
                watchdog.join(CLOSE_WAIT_MILLIS);
            }
            if (sampling != null) {
                // Cuts a pause short; a call blocked in native code ignores it, the simulator's does not.
                sampling.interrupt();
                sampling.join(CLOSE_WAIT_MILLIS);
            }
            if (collectLock.tryLock(CLOSE_WAIT_MILLIS, TimeUnit.MILLISECONDS)) {
                try {
                    closeSession();
                } finally {
                    collectLock.unlock();
                }
            } else {
                LOG.log(System.Logger.Level.WARNING, "closing the sampler while a collect is blocked in "
                        + currentCall + "; the session closes when that call returns");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Threads still running; for tests. */
    boolean threadsAlive() {
        Thread s;
        Thread w;
        synchronized (this) {
            s = samplerThread;
            w = watchdogThread;
        }
        return (s != null && s.isAlive()) || (w != null && w.isAlive());
    }

    // ---- the collect ----

    private GpuSnapshot collectLocked() {
        long t0 = ticker.getAsLong();
        if (session == null && backingOff && t0 - nextOpenAtNanos < 0) {
            return latest.get();
        }
        beginCollect(t0);
        collectErrors.clear();
        try {
            if (session == null && !openSession()) {
                return publishFailure(t0);
            }
            boolean slowTick = slowCountdown == 0;
            slowCountdown = slowTick ? config.slowEveryTicks() - 1 : slowCountdown - 1;
            Instant now = clock.instant();
            DeviceState[] st = states;
            ExactListBuilder<DeviceSnapshot> out = deviceList.clear();
            for (int i = 0; i < st.length; i++) {
                out.add(readDevice(st[i], slowTick, now));
            }
            drainEvents(now);
            List<DeviceSnapshot> devices = out.build();
            return publishCollected(now, ticker.getAsLong() - t0, devices);
        } catch (NvmlException e) {
            // Only codes that require re-initialisation get here; the rest were recorded field by field.
            closeSession();
            retryDelayNanos = backoffMinNanos;
            nextOpenAtNanos = ticker.getAsLong() + retryDelayNanos;
            backingOff = true;
            failureDetail = "NVML must be re-initialised (" + e.getMessage() + "); re-opening with backoff";
            return publishFailure(t0);
        } finally {
            currentCall = "";
            currentDevice = -1;
            endCollect();
            if (closed) {
                closeSession();
            }
        }
    }

    private boolean openSession() {
        Nvml s = null;
        NvmlEventSet ev = null;
        try {
            where(OPEN_CALL, -1);
            s = opener.open();
            String be = s.backend();
            Optional<String> drv = Optional.empty();
            Optional<String> nvmlV = Optional.empty();
            OptionalInt cuda = OptionalInt.empty();
            try {
                drv = Optional.of(s.driverVersion());
            } catch (NvmlException e) {
                recordUnlessReinit(-1, e);
            }
            try {
                nvmlV = Optional.of(s.nvmlVersion());
            } catch (NvmlException e) {
                recordUnlessReinit(-1, e);
            }
            try {
                cuda = s.cudaDriverVersion();
            } catch (NvmlException e) {
                recordUnlessReinit(-1, e);
            }
            List<NvmlDevice> devs = s.devices();
            DeviceState[] st = new DeviceState[devs.size()];
            for (int i = 0; i < st.length; i++) {
                NvmlDevice d = devs.get(i);
                st[i] = new DeviceState(d, DeviceIdentity.of(d));
            }
            where("createEventSet", -1);
            try {
                ev = s.createEventSet();
            } catch (NvmlException e) {
                recordUnlessReinit(-1, e);
            }
            if (ev != null) {
                for (DeviceState d : st) {
                    where("registerEvents", d.index);
                    try {
                        ev.register(d.device, NvmlEventType.XID_CRITICAL_ERROR);
                    } catch (NvmlException e) {
                        recordUnlessReinit(d.index, e);
                    }
                }
            }
            session = s;
            events = ev;
            states = st;
            backend = Optional.of(be);
            driverVersion = drv;
            nvmlVersion = nvmlV;
            cudaDriverVersion = cuda;
            slowCountdown = 0;
            backingOff = false;
            retryDelayNanos = 0;
            failureDetail = "";
            return true;
        } catch (NvmlException e) {
            recordError(-1, e.call(), e.code(), e.getMessage());
            failureDetail = "cannot open NVML: " + e.getMessage();
        } catch (RuntimeException | LinkageError e) {
            recordError(-1, OPEN_CALL, NvmlReturn.UNKNOWN, String.valueOf(e));
            failureDetail = "cannot open NVML: " + e;
        }
        closeQuietly(ev);
        closeQuietly(s);
        retryDelayNanos = retryDelayNanos == 0 ? backoffMinNanos : Math.min(backoffMaxNanos, saturatedDouble(retryDelayNanos));
        nextOpenAtNanos = ticker.getAsLong() + retryDelayNanos;
        backingOff = true;
        return false;
    }

    private DeviceSnapshot readDevice(DeviceState st, boolean slowTick, Instant now) {
        MemoryInfo memory = read(st, "memory", NvmlDevice::memory, null);
        ClockReadings clocks = new ClockReadings(
                read(st, "clockMhz", NvmlDevice::clockMhz, ClockType.GRAPHICS, OptionalInt.empty()),
                read(st, "clockMhz", NvmlDevice::clockMhz, ClockType.SM, OptionalInt.empty()),
                read(st, "clockMhz", NvmlDevice::clockMhz, ClockType.MEMORY, OptionalInt.empty()),
                read(st, "clockMhz", NvmlDevice::clockMhz, ClockType.VIDEO, OptionalInt.empty()));
        DeviceSnapshot snap = new DeviceSnapshot(st.identity,
                memory == null ? Optional.empty() : Optional.of(memory),
                read(st, "bar1Memory", NvmlDevice::bar1Memory, Optional.empty()),
                read(st, "utilization", NvmlDevice::utilization, Optional.empty()),
                read(st, "encoderUtilization", NvmlDevice::encoderUtilization, Optional.empty()),
                read(st, "decoderUtilization", NvmlDevice::decoderUtilization, Optional.empty()),
                read(st, "encoderStats", NvmlDevice::encoderStats, Optional.empty()),
                read(st, "temperatureCelsius", NvmlDevice::temperatureCelsius, OptionalInt.empty()),
                read(st, "fanSpeedPercent", NvmlDevice::fanSpeedPercent, OptionalInt.empty()),
                read(st, "powerUsageMilliwatts", NvmlDevice::powerUsageMilliwatts, OptionalLong.empty()),
                read(st, "enforcedPowerLimitMilliwatts", NvmlDevice::enforcedPowerLimitMilliwatts,
                        OptionalLong.empty()),
                read(st, "totalEnergyMillijoules", NvmlDevice::totalEnergyMillijoules, OptionalLong.empty()),
                clocks,
                read(st, "performanceState", NvmlDevice::performanceState, OptionalInt.empty()),
                read(st, "clockEventReasons", NvmlDevice::clockEventReasons, OptionalLong.empty()),
                slowTick || st.slow == null ? readSlow(st, now) : st.slow);
        return snap;
    }

    private SlowFields readSlow(DeviceState st, Instant now) {
        List<ProcessInfo> compute = read(st, "computeProcesses", NvmlDevice::computeProcesses, null);
        List<ProcessInfo> graphics = read(st, "graphicsProcesses", NvmlDevice::graphicsProcesses, null);
        List<ProcessUtilizationSample> samples = null;
        where("processUtilization", st.index);
        try {
            samples = st.device.processUtilization(st.lastUtilizationTimestampMicros);
            for (int i = 0; i < samples.size(); i++) {
                long ts = samples.get(i).timestampMicros();
                if (ts > st.lastUtilizationTimestampMicros) {
                    st.lastUtilizationTimestampMicros = ts;
                }
            }
        } catch (NvmlException e) {
            recordOrRethrow(st.index, e);
        } catch (RuntimeException e) {
            recordError(st.index, "processUtilization", NvmlReturn.UNKNOWN, String.valueOf(e));
        }
        PcieReadings pcie = new PcieReadings(
                read(st, "pcieThroughputKiBps", NvmlDevice::pcieThroughputKiBps, PcieCounter.TX, OptionalInt.empty()),
                read(st, "pcieThroughputKiBps", NvmlDevice::pcieThroughputKiBps, PcieCounter.RX, OptionalInt.empty()),
                read(st, "pcieLinkGeneration", NvmlDevice::pcieLinkGeneration, OptionalInt.empty()),
                read(st, "pcieLinkWidth", NvmlDevice::pcieLinkWidth, OptionalInt.empty()),
                read(st, "maxPcieLinkGeneration", NvmlDevice::maxPcieLinkGeneration, OptionalInt.empty()),
                read(st, "maxPcieLinkWidth", NvmlDevice::maxPcieLinkWidth, OptionalInt.empty()));
        TemperatureThresholds thresholds = new TemperatureThresholds(
                read(st, "temperatureThresholdCelsius", NvmlDevice::temperatureThresholdCelsius,
                        TemperatureThreshold.SHUTDOWN, OptionalInt.empty()),
                read(st, "temperatureThresholdCelsius", NvmlDevice::temperatureThresholdCelsius,
                        TemperatureThreshold.SLOWDOWN, OptionalInt.empty()),
                read(st, "temperatureThresholdCelsius", NvmlDevice::temperatureThresholdCelsius,
                        TemperatureThreshold.MEM_MAX, OptionalInt.empty()),
                read(st, "temperatureThresholdCelsius", NvmlDevice::temperatureThresholdCelsius,
                        TemperatureThreshold.GPU_MAX, OptionalInt.empty()));
        Optional<PowerLimitConstraints> range = read(st, "powerLimitConstraints", NvmlDevice::powerLimitConstraints,
                Optional.empty());
        PowerLimitReadings powerLimits = new PowerLimitReadings(
                range.isPresent() ? OptionalLong.of(range.get().minMilliwatts()) : OptionalLong.empty(),
                range.isPresent() ? OptionalLong.of(range.get().maxMilliwatts()) : OptionalLong.empty(),
                read(st, "defaultPowerLimitMilliwatts", NvmlDevice::defaultPowerLimitMilliwatts, OptionalLong.empty()));
        ClockReadings maxClocks = new ClockReadings(
                read(st, "maxClockMhz", NvmlDevice::maxClockMhz, ClockType.GRAPHICS, OptionalInt.empty()),
                read(st, "maxClockMhz", NvmlDevice::maxClockMhz, ClockType.SM, OptionalInt.empty()),
                read(st, "maxClockMhz", NvmlDevice::maxClockMhz, ClockType.MEMORY, OptionalInt.empty()),
                read(st, "maxClockMhz", NvmlDevice::maxClockMhz, ClockType.VIDEO, OptionalInt.empty()));
        SlowFields slow = new SlowFields(now,
                compute == null ? Optional.empty() : Optional.of(compute),
                graphics == null ? Optional.empty() : Optional.of(graphics),
                samples == null ? Optional.empty() : Optional.of(samples),
                pcie, thresholds, maxClocks, powerLimits);
        st.slow = slow;
        return slow;
    }

    /**
     * One query: its value, or {@code absent} after recording why it failed. Codes that require
     * re-initialisation propagate and end the collect. Method references passed here capture
     * nothing, so no lambda is allocated per call.
     */
    private <T> T read(DeviceState st, String label, Function<NvmlDevice, T> query, T absent) {
        where(label, st.index);
        try {
            return query.apply(st.device);
        } catch (NvmlException e) {
            recordOrRethrow(st.index, e);
        } catch (RuntimeException e) {
            recordError(st.index, label, NvmlReturn.UNKNOWN, String.valueOf(e));
        }
        return absent;
    }

    private <A, T> T read(DeviceState st, String label, BiFunction<NvmlDevice, A, T> query, A arg, T absent) {
        where(label, st.index);
        try {
            return query.apply(st.device, arg);
        } catch (NvmlException e) {
            recordOrRethrow(st.index, e);
        } catch (RuntimeException e) {
            recordError(st.index, label, NvmlReturn.UNKNOWN, String.valueOf(e));
        }
        return absent;
    }

    private void drainEvents(Instant now) {
        NvmlEventSet ev = events;
        if (ev == null) {
            return;
        }
        where("eventSetPoll", -1);
        for (int n = 0; n < MAX_EVENTS_PER_COLLECT; n++) {
            Optional<NvmlEvent> next;
            try {
                next = ev.poll(0);
            } catch (NvmlException e) {
                recordOrRethrow(-1, e);
                return;
            } catch (RuntimeException e) {
                recordError(-1, "eventSetPoll", NvmlReturn.UNKNOWN, String.valueOf(e));
                return;
            }
            if (next.isEmpty()) {
                return;
            }
            NvmlEvent e = next.get();
            if (e.isXid()) {
                countXid(e.deviceIndex(), e.data(), now);
            }
        }
    }

    private void countXid(int deviceIndex, long xid, Instant now) {
        String uuid = "unknown";
        for (DeviceState st : states) {
            if (st.index == deviceIndex) {
                uuid = st.identity.uuid();
            }
        }
        XidKey key = new XidKey(uuid, xid);
        long[] count = xidCounts.get(key);
        if (count == null) {
            count = new long[] {0, deviceIndex, 0, 0};
            xidCounts.put(key, count);
        }
        count[0]++;
        count[1] = deviceIndex;
        count[2] = now.getEpochSecond();
        count[3] = now.getNano();
        List<XidCount> list = new ArrayList<>(xidCounts.size());
        for (Map.Entry<XidKey, long[]> en : xidCounts.entrySet()) {
            long[] c = en.getValue();
            list.add(new XidCount((int) c[1], en.getKey().uuid(), en.getKey().xid(), c[0],
                    Instant.ofEpochSecond(c[2], c[3])));
        }
        list.sort(Comparator.comparingInt(XidCount::deviceIndex).thenComparing(XidCount::uuid)
                .thenComparingLong(XidCount::xid));
        xidCountList = List.copyOf(list);
        if (config.recentXidLimit() > 0) {
            recentXids.addLast(new XidEvent(deviceIndex, uuid, xid, now));
            while (recentXids.size() > config.recentXidLimit()) {
                recentXids.removeFirst();
            }
            recentXidList = List.copyOf(recentXids);
        }
    }

    /** At open: the outer handler records the codes that abort the open. */
    private void recordUnlessReinit(int deviceIndex, NvmlException e) {
        if (e.code().requiresReinit()) {
            throw e;
        }
        recordError(deviceIndex, e.call(), e.code(), e.getMessage());
    }

    private void recordOrRethrow(int deviceIndex, NvmlException e) {
        recordError(deviceIndex, e.call(), e.code(), e.getMessage());
        if (e.code().requiresReinit()) {
            throw e;
        }
    }

    private void recordError(int deviceIndex, String call, NvmlReturn code, String message) {
        String c = call == null ? "unknown" : call;
        collectErrors.add(new CallError(deviceIndex, c, code, message == null ? "" : message));
        ErrorKey key = new ErrorKey(c, code);
        long[] count = errorCounts.computeIfAbsent(key, k -> new long[1]);
        count[0]++;
        List<CallErrorTotal> list = new ArrayList<>(errorCounts.size());
        for (Map.Entry<ErrorKey, long[]> en : errorCounts.entrySet()) {
            list.add(new CallErrorTotal(en.getKey().call(), en.getKey().code(), en.getValue()[0]));
        }
        list.sort(Comparator.comparing(CallErrorTotal::call).thenComparing(CallErrorTotal::code));
        errorTotals = List.copyOf(list);
    }

    private void where(String call, int device) {
        currentCall = call;
        currentDevice = device;
    }

    private void closeSession() {
        closeQuietly(events);
        events = null;
        closeQuietly(session);
        session = null;
        states = new DeviceState[0];
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception | LinkageError e) {
            LOG.log(System.Logger.Level.DEBUG, "closing " + c + " failed", e);
        }
    }

    private static long saturatedDouble(long v) {
        return v > Long.MAX_VALUE / 2 ? Long.MAX_VALUE : v * 2;
    }

    // ---- publishing and the watchdog ----

    private void beginCollect(long t0) {
        publishLock.lock();
        try {
            inFlightSinceNanos = t0;
            staleMarked = false;
        } finally {
            publishLock.unlock();
        }
    }

    private void endCollect() {
        publishLock.lock();
        try {
            inFlightSinceNanos = NOT_IN_FLIGHT;
        } finally {
            publishLock.unlock();
        }
    }

    private List<CallError> errorsOfThisCollect() {
        return collectErrors.isEmpty() ? List.of() : List.copyOf(collectErrors);
    }

    private GpuSnapshot publishCollected(Instant now, long durationNanos, List<DeviceSnapshot> devices) {
        List<CallError> errors = errorsOfThisCollect();
        Instant publishedAt = clock.instant();
        GpuSnapshot s;
        publishLock.lock();
        try {
            if (closed) {
                inFlightSinceNanos = NOT_IN_FLIGHT;
                return latest.get();
            }
            s = new GpuSnapshot(++sequence, GpuSnapshot.Status.OK, Optional.empty(), now, publishedAt, durationNanos, backend,
                    driverVersion, nvmlVersion, cudaDriverVersion, devices, errors, errorTotals, xidCountList,
                    recentXidList);
            lastGood = s;
            inFlightSinceNanos = NOT_IN_FLIGHT;
            latest.set(s);
            notifyLock.lock();
        } finally {
            publishLock.unlock();
        }
        notifyAndUnlock(s);
        return s;
    }

    /** LOST (with the last good data) when there was a good collect since start, else UNAVAILABLE. */
    private GpuSnapshot publishFailure(long t0) {
        Instant now = clock.instant();
        List<CallError> errors = errorsOfThisCollect();
        GpuSnapshot good = lastGood;
        Optional<String> detail = Optional.of(failureDetail.isEmpty() ? "NVML is not available" : failureDetail);
        GpuSnapshot s;
        publishLock.lock();
        try {
            if (closed) {
                inFlightSinceNanos = NOT_IN_FLIGHT;
                return latest.get();
            }
            if (good == null) {
                s = new GpuSnapshot(++sequence, GpuSnapshot.Status.UNAVAILABLE, detail, now, now,
                        ticker.getAsLong() - t0, backend, driverVersion, nvmlVersion, cudaDriverVersion, List.of(),
                        errors, errorTotals, xidCountList, recentXidList);
            } else {
                s = new GpuSnapshot(++sequence, GpuSnapshot.Status.LOST, detail, good.collectedAt(), now,
                        good.collectDurationNanos(), good.backend(), good.driverVersion(), good.nvmlVersion(),
                        good.cudaDriverVersion(), good.devices(), errors, errorTotals, xidCountList, recentXidList);
            }
            inFlightSinceNanos = NOT_IN_FLIGHT;
            latest.set(s);
            notifyLock.lock();
        } finally {
            publishLock.unlock();
        }
        notifyAndUnlock(s);
        return s;
    }

    /**
     * One watchdog check: if the collect in flight has run past the timeout and was not yet
     * reported, republishes the latest snapshot as STALE. Returns whether it did.
     */
    boolean checkWatchdog() {
        GpuSnapshot stale;
        publishLock.lock();
        try {
            long since = inFlightSinceNanos;
            if (since == NOT_IN_FLIGHT || staleMarked || closed) {
                return false;
            }
            long blockedNanos = ticker.getAsLong() - since;
            if (blockedNanos <= watchdogTimeoutNanos) {
                return false;
            }
            staleMarked = true;
            int device = currentDevice;
            String detail = String.format(Locale.ROOT, "a collect has been blocked for %.1f s in %s%s", blockedNanos / 1e9,
                    currentCall.isEmpty() ? "the driver" : currentCall, device >= 0 ? " on GPU " + device : "");
            stale = latest.get().withStatus(++sequence, GpuSnapshot.Status.STALE, Optional.of(detail), clock.instant());
            latest.set(stale);
            notifyLock.lock();
        } finally {
            publishLock.unlock();
        }
        LOG.log(System.Logger.Level.WARNING, stale.statusDetail().orElse("stale"));
        notifyAndUnlock(stale);
        return true;
    }

    /** Calls the listeners with {@code s}; the caller holds notifyLock, released here. */
    private void notifyAndUnlock(GpuSnapshot s) {
        try {
            List<Consumer<GpuSnapshot>> ls = listeners;
            for (int i = 0; i < ls.size(); i++) {
                try {
                    ls.get(i).accept(s);
                } catch (VirtualMachineError e) {
                    throw e;
                } catch (Throwable t) {
                    long n = listenerFailures.incrementAndGet();
                    if (Long.bitCount(n) == 1) {
                        LOG.log(System.Logger.Level.WARNING, "a snapshot listener failed (" + n + " failures so far)", t);
                    }
                }
            }
        } finally {
            notifyLock.unlock();
        }
    }

    // ---- threads ----

    private void runSampling() {
        while (!closed) {
            long started = ticker.getAsLong();
            collectLock.lock();
            try {
                if (closed) {
                    break;
                }
                collectLocked();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, "a collect failed unexpectedly", e);
            } finally {
                collectLock.unlock();
            }
            long now = ticker.getAsLong();
            long waitNanos = intervalNanos - (now - started);
            if (backingOff) {
                waitNanos = Math.min(waitNanos, nextOpenAtNanos - now);
            }
            pause(Math.max(0, Math.min(waitNanos, intervalNanos)));
        }
        collectLock.lock();
        try {
            closeSession();
        } finally {
            collectLock.unlock();
        }
    }

    private void runWatchdog() {
        long period = Math.max(TimeUnit.MILLISECONDS.toNanos(1), Math.min(TimeUnit.SECONDS.toNanos(1),
                watchdogTimeoutNanos / 4));
        while (!closed) {
            try {
                checkWatchdog();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, "the sampler watchdog failed", e);
            }
            pause(period);
        }
    }

    /** Real-time wait, cut short by {@link #close()}. */
    private void pause(long nanos) {
        if (nanos <= 0) {
            return;
        }
        wakeLock.lock();
        try {
            if (!closed) {
                wake.awaitNanos(nanos);
            }
        } catch (InterruptedException e) {
            // close() interrupts only after setting closed; the loops then end.
            Thread.currentThread().interrupt();
        } finally {
            wakeLock.unlock();
        }
    }

    private void signalWake() {
        wakeLock.lock();
        try {
            wake.signalAll();
        } finally {
            wakeLock.unlock();
        }
    }

    /** Per-device state of the open session. */
    private static final class DeviceState {
        final NvmlDevice device;
        final DeviceIdentity identity;
        final int index;
        SlowFields slow;
        long lastUtilizationTimestampMicros;

        DeviceState(NvmlDevice device, DeviceIdentity identity) {
            this.device = device;
            this.identity = identity;
            this.index = identity.index();
        }
    }

    private record ErrorKey(String call, NvmlReturn code) {
    }

    private record XidKey(String uuid, long xid) {
    }
}
