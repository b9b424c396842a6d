package org.gpuagent.nvml.jna;

import com.sun.jna.Library;
import com.sun.jna.Native;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import org.gpuagent.nvml.Nvml;
import org.gpuagent.nvml.NvmlOpener;
import org.gpuagent.nvml.NvmlReturn;
import org.gpuagent.nvml.ProcessInfo.ProcessKind;
import org.gpuagent.nvml.testing.Prerequisites;

/**
 * Drives the fake libnvidia-ml ({@code src/test/c/fake_nvml.c}) from tests in any package, without
 * importing JNA: load a scenario, inject faults, block calls, queue events, add processes.
 *
 * <p>Typical use:
 * <pre>{@code
 * FakeNvmlControl fake = FakeNvmlControl.r580();     // skips (fails under CI=true) without gcc
 * fake.loadScenario("p1000");                        // src/test/resources/fake-nvml/p1000.scenario
 * NvmlOpener opener = fake.opener();                 // NativeNvml over exactly this library file
 * fake.blockUntilReleased("nvmlDeviceGetMemoryInfo_v2");
 * ... start the sampler; fake.awaitBlocked("nvmlDeviceGetMemoryInfo_v2", Duration.ofSeconds(10));
 * ... assert the device goes stale; then fake.release("nvmlDeviceGetMemoryInfo_v2");
 * }</pre>
 *
 * <p>State lives in the library and so is global to the JVM: load a scenario (or {@link #reset()})
 * before each test; loading also releases blocked calls and clears faults, counters and queued
 * events. Call names are the C names ({@code nvmlDeviceGetTemperature}); an unknown name is an
 * {@link IllegalArgumentException}.
 *
 * <p>One JVM binds NVML to one library file, so tests of the {@link Variant#R470} and
 * {@link Variant#V1} builds run in their own surefire executions (JUnit tags
 * {@code fake-nvml-r470}, {@code fake-nvml-v1}); untagged tests use {@link Variant#R580}.
 */
public final class FakeNvmlControl {

    /** The builds of the fake (see build.sh). */
    public enum Variant {
        /** Every symbol a 580 driver has that the binding uses. */
        R580(""),
        /** A 470-like driver: no _v2 memory, no _v3 process lists, no clocks-event-reasons call, no energy counter. */
        R470("r470"),
        /** Only the oldest form of every versioned call. */
        V1("v1");

        private final String subdirectory;

        Variant(String subdirectory) {
            this.subdirectory = subdirectory;
        }
    }

    /** The C control functions; interface mapping is fine off the hot path and allows one instance per variant. */
    interface Api extends Library {
        int fake_nvml_load_scenario(String path);

        String fake_nvml_last_error();

        int fake_nvml_reset();

        int fake_nvml_set(String key, String value);

        int fake_nvml_set_return(String call, int code);

        int fake_nvml_set_device_return(int device, String call, int code);

        int fake_nvml_lose_gpu_after(int device, long calls);

        int fake_nvml_recover_gpu(int device);

        int fake_nvml_block(String call, long millis);

        int fake_nvml_release(String call);

        int fake_nvml_await_blocked(String call, long timeoutMillis);

        long fake_nvml_call_count(String call);

        int fake_nvml_queue_event(int device, long type, long data);

        int fake_nvml_queue_xid(int device, long xid);

        int fake_nvml_add_process(int device, int pid, int kinds, long bytes);

        int fake_nvml_remove_process(int device, int pid);

        int fake_nvml_grow_processes(int device, int perQuery, int times);

        int fake_nvml_add_process_sample(int device, int pid, long timestamp, int sm, int mem, int enc, int dec);

        int fake_nvml_init_count();

        String fake_nvml_variant();
    }

    private static final Map<Variant, FakeNvmlControl> INSTANCES = new EnumMap<>(Variant.class);

    private final Variant variant;
    private final Path library;
    private final Api api;

    private FakeNvmlControl(Variant variant, Path library) {
        this.variant = variant;
        this.library = library;
        this.api = Native.load(library.toString(), Api.class);
    }

    /** The 580-like build; skips the calling test (fails it under CI=true) when it was not built. */
    public static FakeNvmlControl r580() {
        return of(Variant.R580);
    }

    public static synchronized FakeNvmlControl of(Variant variant) {
        FakeNvmlControl c = INSTANCES.get(variant);
        if (c == null) {
            Path dir = Prerequisites.requireFakeNvmlDir();
            Path lib = (variant.subdirectory.isEmpty() ? dir : dir.resolve(variant.subdirectory))
                    .resolve(NvmlLibraryLocator.SONAME).toAbsolutePath();
            Prerequisites.require(Files.isRegularFile(lib), "the fake libnvidia-ml variant " + variant + " is missing: " + lib);
            c = new FakeNvmlControl(variant, lib);
            INSTANCES.put(variant, c);
        }
        return c;
    }

    public Variant variant() {
        return variant;
    }

    /** The library file. */
    public Path library() {
        return library;
    }

    /** A locator that tries only this library file. */
    public NvmlLibraryLocator locator() {
        return NvmlLibraryLocator.exactly(library);
    }

    /** Opens {@link NativeNvml} sessions over this library (what the sampler takes). */
    public NvmlOpener opener() {
        return NativeNvml.opener(locator());
    }

    /** A new session over this library. */
    public Nvml open() {
        return NativeNvml.open(locator());
    }

    // ---- scenarios ----

    /**
     * A scenario file from {@code src/test/resources/fake-nvml/} ({@code "p1000"},
     * {@code "h200"}, {@code "two-gpus"}; the {@code .scenario} suffix is optional), as a file
     * the C code can open (copied out when the resource sits in a jar).
     */
    public static Path scenario(String name) {
        String file = name.endsWith(".scenario") ? name : name + ".scenario";
        URL url = FakeNvmlControl.class.getResource("/fake-nvml/" + file);
        if (url == null) {
            throw new IllegalArgumentException("no scenario fake-nvml/" + file + " on the test classpath");
        }
        try {
            if ("file".equals(url.getProtocol())) {
                return Path.of(url.toURI());
            }
            Path tmp = Files.createTempFile("fake-nvml-", "-" + file);
            tmp.toFile().deleteOnExit();
            try (InputStream in = url.openStream()) {
                Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            }
            return tmp;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Replaces the fake's whole state with a scenario (see {@link #scenario(String)}). */
    public FakeNvmlControl loadScenario(String name) {
        return loadScenario(scenario(name));
    }

    public FakeNvmlControl loadScenario(Path file) {
        ok(api.fake_nvml_load_scenario(file.toAbsolutePath().toString()), "load " + file);
        return this;
    }

    /** Reloads the last scenario: values, faults, counters, processes and queued events as in the file. */
    public FakeNvmlControl reset() {
        ok(api.fake_nvml_reset(), "reset");
        return this;
    }

    /** Applies one scenario line now, e.g. {@code set("device.0.temperature", 85)}. */
    public FakeNvmlControl set(String key, Object value) {
        ok(api.fake_nvml_set(key, String.valueOf(value)), "set " + key);
        return this;
    }

    /** Removes a scenario key: a field then answers NOT_SUPPORTED. */
    public FakeNvmlControl unset(String key) {
        ok(api.fake_nvml_set(key, ""), "unset " + key);
        return this;
    }

    // ---- faults ----

    /** Every later call of {@code call} (on every device) answers {@code code}. */
    public FakeNvmlControl failCall(String call, NvmlReturn code) {
        ok(api.fake_nvml_set_return(call, code.code()), "fail " + call);
        return this;
    }

    /** Every later call of {@code call} on {@code device} answers {@code code}. */
    public FakeNvmlControl failCall(int device, String call, NvmlReturn code) {
        ok(api.fake_nvml_set_device_return(device, call, code.code()), "fail " + call);
        return this;
    }

    public FakeNvmlControl clearFault(String call) {
        ok(api.fake_nvml_set_return(call, 0), "clear " + call);
        return this;
    }

    /**
     * After {@code calls} more calls on {@code device} succeed, it falls off the bus: every call
     * on it answers GPU_IS_LOST, including getting its handle, until {@link #recoverGpu(int)}.
     */
    public FakeNvmlControl loseGpuAfter(int device, long calls) {
        ok(api.fake_nvml_lose_gpu_after(device, calls), "lose gpu " + device);
        return this;
    }

    /** The GPU is back: a fresh session (nvmlInit_v2 + handles) works again. */
    public FakeNvmlControl recoverGpu(int device) {
        ok(api.fake_nvml_recover_gpu(device), "recover gpu " + device);
        return this;
    }

    // ---- blocking ----

    /** Every later call of {@code call} waits {@code delay} before it answers (or until {@link #release}). */
    public FakeNvmlControl block(String call, Duration delay) {
        if (delay.isNegative() || delay.isZero()) {
            throw new IllegalArgumentException("delay must be positive: " + delay);
        }
        ok(api.fake_nvml_block(call, delay.toMillis()), "block " + call);
        return this;
    }

    /** Every later call of {@code call} waits until {@link #release(String)} (or a scenario load). */
    public FakeNvmlControl blockUntilReleased(String call) {
        ok(api.fake_nvml_block(call, -1), "block " + call);
        return this;
    }

    /** Wakes every call waiting in {@code call} and stops blocking it. */
    public FakeNvmlControl release(String call) {
        ok(api.fake_nvml_release(call), "release " + call);
        return this;
    }

    /** Waits until at least one thread is blocked in {@code call}; false if none got there in time. */
    public boolean awaitBlocked(String call, Duration timeout) {
        int n = api.fake_nvml_await_blocked(call, timeout.toMillis());
        ok(n, "await " + call);
        return n > 0;
    }

    /** Calls of {@code call} since the scenario was loaded. */
    public long callCount(String call) {
        long n = api.fake_nvml_call_count(call);
        ok(n < 0 ? -1 : 0, "count " + call);
        return n;
    }

    // ---- events ----

    /** Queues an Xid; answers the number of event sets registered for Xid events on that device. */
    public int queueXid(int device, long xid) {
        int n = api.fake_nvml_queue_xid(device, xid);
        ok(n, "queue xid");
        return n;
    }

    /** Queues an event of any {@code NvmlEventType} bit. */
    public int queueEvent(int device, long type, long data) {
        int n = api.fake_nvml_queue_event(device, type, data);
        ok(n, "queue event");
        return n;
    }

    // ---- processes ----

    /** Adds (or replaces) a process; {@code bytes} empty means the driver cannot tell (NVML_VALUE_NOT_AVAILABLE). */
    public FakeNvmlControl addProcess(int device, int pid, Set<ProcessKind> kinds, OptionalLong bytes) {
        int k = (kinds.contains(ProcessKind.COMPUTE) ? 1 : 0) | (kinds.contains(ProcessKind.GRAPHICS) ? 2 : 0);
        ok(api.fake_nvml_add_process(device, pid, k, bytes.orElse(-1)), "add process " + pid);
        return this;
    }

    public FakeNvmlControl addComputeProcess(int device, int pid, long bytes) {
        return addProcess(device, pid, EnumSet.of(ProcessKind.COMPUTE), OptionalLong.of(bytes));
    }

    public FakeNvmlControl removeProcess(int device, int pid) {
        ok(api.fake_nvml_remove_process(device, pid), "remove process " + pid);
        return this;
    }

    /**
     * After each of the next {@code times} process-list calls on {@code device} that answer
     * INSUFFICIENT_SIZE, {@code perQuery} new 1 MiB compute processes appear (pids from 70000).
     */
    public FakeNvmlControl growProcessListAfterSizeQuery(int device, int perQuery, int times) {
        ok(api.fake_nvml_grow_processes(device, perQuery, times), "grow processes");
        return this;
    }

    public FakeNvmlControl addProcessSample(int device, int pid, long timestampMicros, int sm, int mem, int enc, int dec) {
        ok(api.fake_nvml_add_process_sample(device, pid, timestampMicros, sm, mem, enc, dec), "add sample");
        return this;
    }

    // ---- introspection ----

    /** NVML's initialisation count inside the fake (nvmlInit_v2 minus nvmlShutdown). */
    public int initCount() {
        return api.fake_nvml_init_count();
    }

    /** What the library says it is: {@code r580}, {@code r470} or {@code v1}. */
    public String builtVariant() {
        return api.fake_nvml_variant();
    }

    private void ok(int rc, String what) {
        if (rc < 0) {
            throw new IllegalArgumentException("fake libnvidia-ml: " + what + ": " + api.fake_nvml_last_error());
        }
    }
}
