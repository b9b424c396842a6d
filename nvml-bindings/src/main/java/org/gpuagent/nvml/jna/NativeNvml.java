package org.gpuagent.nvml.jna;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.gpuagent.nvml.Nvml;
import org.gpuagent.nvml.NvmlDevice;
import org.gpuagent.nvml.NvmlEventSet;
import org.gpuagent.nvml.NvmlException;
import org.gpuagent.nvml.NvmlOpener;
import org.gpuagent.nvml.NvmlReturn;
import org.gpuagent.nvml.jna.NvmlSymbolTable.Feature;
import org.gpuagent.nvml.jna.NvmlSymbolTable.Symbol;

/**
 * An NVML session over the real libnvidia-ml (or the fake one built for tests), through JNA
 * direct mapping.
 *
 * <p>Opening loads the library (once per JVM, see {@link NvmlLibraryLocator}), calls
 * {@code nvmlInit_v2}, and reads the versions and every device's identity; nothing of that is
 * asked again. Closing frees the session's event sets and calls {@code nvmlShutdown}. NVML
 * counts its initialisations, so sessions may overlap (the sampler opens a new one before the
 * old one is gone).
 *
 * <p>After {@link #close()}, every method that would reach the library throws
 * {@link NvmlException} with {@link NvmlReturn#UNINITIALIZED} without calling it, and so do the
 * session's own accessors; a device's identity accessors ({@link NvmlDevice#uuid()} and the
 * like) keep answering from what was read at open, so a stale device can still be labelled.
 */
public final class NativeNvml implements Nvml {

    private final String location;
    private final NvmlSymbolTable symbols;
    private final String driverVersion;
    private final String nvmlVersion;
    private final OptionalInt cudaDriverVersion;
    private final List<NvmlDevice> devices;
    private final Map<String, NativeDevice> byUuid;
    private final Set<NativeEventSet> eventSets = ConcurrentHashMap.newKeySet();
    private final Object closeLock = new Object();
    private volatile boolean closed;
    /** Set just before nvmlShutdown: from then on event sets are not freed one by one. */
    private volatile boolean shutDown;

    private NativeNvml(NvmlBinding binding, String location) {
        this.location = location;
        this.symbols = binding.symbols();
        Memory text = new Memory(NvmlNative.STRING_BUFFER_SIZE);
        Memory out = new Memory(8);
        long textAddress = Pointer.nativeValue(text);
        long outAddress = Pointer.nativeValue(out);
        check(Symbol.SYSTEM_GET_DRIVER_VERSION,
                NvmlNative.SystemGetDriverVersion.nvmlSystemGetDriverVersion(textAddress, NvmlNative.STRING_BUFFER_SIZE));
        this.driverVersion = text.getString(0, StandardCharsets.UTF_8.name());
        check(Symbol.SYSTEM_GET_NVML_VERSION,
                NvmlNative.SystemGetNvmlVersion.nvmlSystemGetNVMLVersion(textAddress, NvmlNative.STRING_BUFFER_SIZE));
        this.nvmlVersion = text.getString(0, StandardCharsets.UTF_8.name());
        this.cudaDriverVersion = readCudaDriverVersion(out);

        Symbol count = symbols.chosen(Feature.DEVICE_COUNT);
        check(count, count == Symbol.DEVICE_GET_COUNT_V2
                ? NvmlNative.DeviceGetCountV2.nvmlDeviceGetCount_v2(outAddress)
                : NvmlNative.DeviceGetCount.nvmlDeviceGetCount(outAddress));
        int n = out.getInt(0);
        List<NvmlDevice> list = new ArrayList<>(n);
        Map<String, NativeDevice> uuids = new HashMap<>();
        for (int i = 0; i < n; i++) {
            NativeDevice d = NativeDevice.open(this, i);
            list.add(d);
            uuids.put(d.uuid(), d);
        }
        this.devices = List.copyOf(list);
        this.byUuid = Map.copyOf(uuids);
    }

    /**
     * Loads libnvidia-ml from the first place {@code locator} names that opens, and initialises
     * NVML.
     *
     * @throws org.gpuagent.nvml.NvmlLibraryNotFoundException when no place loads
     * @throws NvmlException when the library loads but NVML does not start (e.g.
     *         {@link NvmlReturn#DRIVER_NOT_LOADED}, {@link NvmlReturn#GPU_IS_LOST}) or lacks a
     *         required function ({@link NvmlReturn#FUNCTION_NOT_FOUND})
     * @throws IllegalStateException when this JVM is already bound to a different library file
     */
    public static NativeNvml open(NvmlLibraryLocator locator) {
        NvmlLibraryLocator.LoadedLibrary loaded = locator.load();
        NvmlBinding binding = NvmlBinding.bind(loaded);
        int rc = NvmlNative.InitV2.nvmlInit_v2();
        if (rc != NvmlNative.NVML_SUCCESS) {
            throw new NvmlException(Symbol.INIT_V2.cName(), rc, "library " + loaded.location());
        }
        try {
            return new NativeNvml(binding, loaded.location());
        } catch (RuntimeException e) {
            NvmlNative.Shutdown.nvmlShutdown();
            throw e;
        }
    }

    /** {@link #open(NvmlLibraryLocator)} with the production search, {@code configuredLibrary} first. */
    public static NativeNvml open(Optional<Path> configuredLibrary) {
        return open(NvmlLibraryLocator.defaults(configuredLibrary));
    }

    /** Opens a new session on each call: what the sampler holds to re-initialise after a lost GPU. */
    public static NvmlOpener opener(NvmlLibraryLocator locator) {
        return () -> open(locator);
    }

    @Override
    public String backend() {
        return "nvml";
    }

    /** Where the library was loaded from, as the locator named the place (e.g. {@code soname libnvidia-ml.so.1}). */
    public String libraryLocation() {
        return location;
    }

    /**
     * Which C function serves each feature on this library ({@code "absent"} where the driver has
     * none), e.g. {@code memory -> nvmlDeviceGetMemoryInfo_v2}; for a start-up log line.
     */
    public Map<String, String> functions() {
        return symbols.describe();
    }

    /**
     * Raw direct-mapped calls on one device, without the typed wrapping, for the benchmark that
     * separates JNA's cost from this binding's.
     */
    public DirectCalls directCalls(int deviceIndex) {
        return new DirectCalls(symbols, ((NativeDevice) device(deviceIndex)).handle());
    }

    @Override
    public int deviceCount() {
        ensureOpen("nvmlDeviceGetCount_v2");
        return devices.size();
    }

    @Override
    public NvmlDevice device(int index) {
        ensureOpen("nvmlDeviceGetHandleByIndex_v2");
        return devices.get(index);
    }

    @Override
    public List<NvmlDevice> devices() {
        ensureOpen("nvmlDeviceGetHandleByIndex_v2");
        return devices;
    }

    @Override
    public NvmlDevice deviceByUuid(String uuid) {
        ensureOpen("nvmlDeviceGetHandleByUUID");
        NativeDevice d = byUuid.get(uuid);
        if (d == null) {
            throw new NvmlException("nvmlDeviceGetHandleByUUID", NvmlReturn.NOT_FOUND, "no device " + uuid);
        }
        return d;
    }

    @Override
    public String driverVersion() {
        ensureOpen(Symbol.SYSTEM_GET_DRIVER_VERSION.cName());
        return driverVersion;
    }

    @Override
    public String nvmlVersion() {
        ensureOpen(Symbol.SYSTEM_GET_NVML_VERSION.cName());
        return nvmlVersion;
    }

    @Override
    public OptionalInt cudaDriverVersion() {
        ensureOpen("nvmlSystemGetCudaDriverVersion");
        return cudaDriverVersion;
    }

    @Override
    public NvmlEventSet createEventSet() {
        ensureOpen(Symbol.EVENT_SET_CREATE.cName());
        for (Feature f : new Feature[] {Feature.EVENT_SET_CREATE, Feature.REGISTER_EVENTS, Feature.EVENT_SET_WAIT,
                Feature.EVENT_SET_FREE}) {
            if (!symbols.has(f)) {
                throw new NvmlException(f.name(), NvmlReturn.FUNCTION_NOT_FOUND,
                        "the library has no " + f.name().toLowerCase(java.util.Locale.ROOT) + " function");
            }
        }
        NativeEventSet set = NativeEventSet.create(this);
        eventSets.add(set);
        if (closed) {
            set.close(); // lost a race with close(): free it while the library is still initialised
            ensureOpen(Symbol.EVENT_SET_CREATE.cName());
        }
        return set;
    }

    @Override
    public void close() {
        synchronized (closeLock) {
            if (closed) {
                return;
            }
            closed = true;
        }
        for (NativeEventSet set : eventSets) {
            set.close();
        }
        shutDown = true;
        // Nothing is left to undo when shutdown fails (e.g. the GPU is gone): the result is moot.
        NvmlNative.Shutdown.nvmlShutdown();
    }

    // ---- for devices and event sets ----

    NvmlSymbolTable symbols() {
        return symbols;
    }

    /** True once nvmlShutdown is (about to be) called for this session. */
    boolean isShutDown() {
        return shutDown;
    }

    /** Throws UNINITIALIZED after {@link #close()}; the library is never called on a closed session. */
    void ensureOpen(String call) {
        if (closed) {
            throw new NvmlException(call, NvmlReturn.UNINITIALIZED, "the NVML session is closed");
        }
    }

    void forget(NativeEventSet set) {
        eventSets.remove(set);
    }

    /** The index of the device with this handle address, or -1. */
    int indexOfHandle(long address) {
        for (int i = 0; i < devices.size(); i++) {
            if (((NativeDevice) devices.get(i)).handle() == address) {
                return i;
            }
        }
        return -1;
    }

    private OptionalInt readCudaDriverVersion(Memory out) {
        Symbol s = symbols.chosen(Feature.CUDA_DRIVER_VERSION);
        if (s == null) {
            return OptionalInt.empty();
        }
        long address = Pointer.nativeValue(out);
        int rc = s == Symbol.SYSTEM_GET_CUDA_DRIVER_VERSION_V2
                ? NvmlNative.SystemGetCudaDriverVersionV2.nvmlSystemGetCudaDriverVersion_v2(address)
                : NvmlNative.SystemGetCudaDriverVersion.nvmlSystemGetCudaDriverVersion(address);
        return ReturnCodes.answered(rc, s) ? OptionalInt.of(out.getInt(0)) : OptionalInt.empty();
    }

    private static void check(Symbol call, int rc) {
        if (rc != NvmlNative.NVML_SUCCESS) {
            throw new NvmlException(call.cName(), rc);
        }
    }
}
