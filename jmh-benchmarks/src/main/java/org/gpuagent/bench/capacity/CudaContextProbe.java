package org.gpuagent.bench.capacity;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.function.Supplier;
import org.gpuagent.bench.capacity.ContextFootprint.Allocation;
import org.gpuagent.bench.capacity.ContextFootprint.Match;
import org.gpuagent.bench.capacity.ContextFootprint.Reading;
import org.gpuagent.bench.capacity.ContextFootprint.Result;
import org.gpuagent.nvml.Nvml;
import org.gpuagent.nvml.NvmlDevice;
import org.gpuagent.nvml.NvmlException;
import org.gpuagent.nvml.NvmlLibraryNotFoundException;
import org.gpuagent.nvml.NvmlReturn;
import org.gpuagent.nvml.jna.NativeNvml;
import org.gpuagent.nvml.jna.NvmlLibraryLocator;

/**
 * Measures what a CUDA context costs one process on a real GPU, and what NVML shows for plain
 * allocations in it (256 MiB and 1 GiB): per process (this JVM's entry in NVML's compute-process
 * list) and device-wide (NVML's used memory).
 *
 * <pre>
 * java -cp jmh-benchmarks/target/benchmarks.jar org.gpuagent.bench.capacity.CudaContextProbe
 *     [--cuda-device ORDINAL] [--library LIBNVIDIA_ML]
 * </pre>
 *
 * Prints {@code key=value} lines (machine-readable; sizes in bytes, times in ms) and then a
 * summary whose lines start with {@code #}. Exit status: 0 measured; 3 no GPU or driver here (one
 * line on stderr, nothing else); 1 a call failed; 2 a usage error.
 */
public final class CudaContextProbe {

    static final int OK = 0;
    static final int FAILED = 1;
    static final int USAGE = 2;
    static final int NO_GPU = 3;

    private static final String NAME = "cuda-context-probe";
    private static final String USAGE_LINE =
            "usage: " + NAME + " [--cuda-device ORDINAL] [--library LIBNVIDIA_ML]";
    /** NVML answers that mean "no NVIDIA GPU or driver here" rather than a broken one. */
    private static final Set<NvmlReturn> NVML_ABSENT = Set.of(NvmlReturn.DRIVER_NOT_LOADED,
            NvmlReturn.LIBRARY_NOT_FOUND, NvmlReturn.GPU_NOT_FOUND, NvmlReturn.NO_PERMISSION);
    private static final long PAUSE_MILLIS = 25;
    /** 40 reads of 25 ms: a step waits at most about a second for NVML to show a change. */
    private static final int MAX_READS = 40;

    private CudaContextProbe() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err, System.getenv("GPU_AGENT_NVML_LIBRARY")));
    }

    /** The CUDA side the probe opens; tests replace the JCuda one. */
    interface CudaOpener {
        /**
         * @throws LinkageError when the driver API's libraries do not load
         * @throws CudaCallException when the driver answers an error
         */
        OpenedDevice open(int ordinal);
    }

    /** A CUDA device as the probe needs it. */
    record OpenedDevice(String name, String uuid, int driverVersion, Supplier<CudaContext> contexts) {
    }

    static int run(String[] args, PrintStream out, PrintStream err, String libraryFromEnv) {
        int ordinal = 0;
        String library = libraryFromEnv;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--help") || a.equals("-h")) {
                out.println(USAGE_LINE);
                return OK;
            }
            if ((a.equals("--cuda-device") || a.equals("--library")) && i + 1 < args.length) {
                String v = args[++i];
                if (a.equals("--library")) {
                    library = v;
                    continue;
                }
                try {
                    ordinal = Integer.parseInt(v);
                } catch (NumberFormatException e) {
                    ordinal = -1;
                }
                if (ordinal < 0) {
                    err.println(NAME + ": --cuda-device takes a device ordinal (0, 1, ...), got '" + v + "'");
                    return USAGE;
                }
                continue;
            }
            err.println(NAME + ": unknown or incomplete argument '" + a + "'; " + USAGE_LINE);
            return USAGE;
        }
        NvmlLibraryLocator locator = NvmlLibraryLocator.defaults(
                library == null || library.isBlank() ? Optional.empty() : Optional.of(Path.of(library)));
        return run(ordinal, locator, CudaContextProbe::openJCuda, out, err);
    }

    static int run(int ordinal, NvmlLibraryLocator locator, CudaOpener cuda, PrintStream out, PrintStream err) {
        NativeNvml nvml;
        try {
            nvml = NativeNvml.open(locator);
        } catch (NvmlLibraryNotFoundException e) {
            err.println(NAME + ": no GPU here: libnvidia-ml did not load (" + e.tried().size() + " places tried: "
                    + String.join("; ", e.tried()) + ")");
            return NO_GPU;
        } catch (NvmlException e) {
            return nvmlFailure(e, err);
        } catch (IllegalStateException e) {
            err.println(NAME + ": " + oneLine(e.getMessage()));
            return FAILED;
        }
        try (nvml) {
            if (nvml.deviceCount() == 0) {
                err.println(NAME + ": no GPU here: NVML lists no device");
                return NO_GPU;
            }
            return measure(ordinal, nvml, nvml.libraryLocation(), cuda,
                    device -> new ContextFootprint(device, (int) ProcessHandle.current().pid(), System::nanoTime,
                            CudaContextProbe::pause, MAX_READS), out, err);
        } catch (NvmlException e) {
            return nvmlFailure(e, err);
        }
    }

    /** How the probe makes its {@link ContextFootprint} for the NVML device that matched. */
    interface FootprintFactory {
        ContextFootprint create(NvmlDevice device);
    }

    static int measure(int ordinal, Nvml nvml, String nvmlLibrary, CudaOpener cuda, FootprintFactory footprints,
            PrintStream out, PrintStream err) {
        OpenedDevice opened;
        try {
            opened = cuda.open(ordinal);
        } catch (LinkageError e) {
            err.println(NAME + ": no GPU here: the CUDA driver API did not load (" + linkReason(e) + ")");
            return NO_GPU;
        } catch (CudaCallException e) {
            err.println(NAME + ": " + (e.meansNoGpu() ? "no GPU here: " : "") + oneLine(e.getMessage()));
            return e.meansNoGpu() ? NO_GPU : FAILED;
        }
        NvmlDevice device = null;
        for (NvmlDevice d : nvml.devices()) {
            if (d.uuid().equalsIgnoreCase(opened.uuid())) {
                device = d;
            }
        }
        if (device == null) {
            err.println(NAME + ": CUDA device " + ordinal + " (" + opened.uuid() + ") is not among NVML's "
                    + nvml.deviceCount() + " device(s)");
            return FAILED;
        }
        Result result;
        try {
            result = footprints.create(device).measure(opened.contexts(), ContextFootprint.DEFAULT_ALLOCATIONS);
        } catch (CudaCallException e) {
            err.println(NAME + ": " + oneLine(e.getMessage()) + " on " + opened.name());
            return FAILED;
        }
        List<String> lines = new ArrayList<>();
        lines.add("probe=cuda-context");
        lines.add("pid=" + result.pid());
        lines.add("nvml.library=" + nvmlLibrary);
        lines.add("nvml.driver=" + nvml.driverVersion());
        lines.add("cuda.driver.version=" + opened.driverVersion());
        lines.add("cuda.ordinal=" + ordinal);
        lines.add("device.index=" + device.index());
        lines.add("device.name=" + device.name());
        lines.add("device.uuid=" + device.uuid());
        lines.addAll(report(result));
        lines.forEach(out::println);
        summary(result, device, opened, nvml.driverVersion()).forEach(out::println);
        return OK;
    }

    /** The measured figures as {@code key=value} lines; an absent figure reads {@code absent}. */
    static List<String> report(Result r) {
        List<String> lines = new ArrayList<>();
        lines.add("device.memory.total.bytes=" + r.memoryAtStart().totalBytes());
        lines.add("device.memory.reserved.bytes=" + text(r.memoryAtStart().reservedBytes()));
        lines.add("baseline.device.used.bytes=" + r.baseline().deviceUsedBytes());
        lines.add("baseline.processes=" + r.baseline().pids().size());
        lines.add("baseline.process.match=" + r.baseline().match().label());
        Reading ctx = r.context().reading();
        lines.add("context.create.ms=" + millis(r.context().nanos()));
        lines.add("context.process.match=" + ctx.match().label());
        lines.add("context.process.bytes=" + text(minus(ctx.processBytesOrZero(), r.baseline().processBytesOrZero())));
        lines.add("context.device.delta.bytes=" + (ctx.deviceUsedBytes() - r.baseline().deviceUsedBytes()));
        lines.add("context.nvml.reads=" + r.context().reads());
        Reading before = ctx;
        for (Allocation a : r.allocations()) {
            String k = "alloc." + sizeLabel(a.bytes()) + ".";
            Reading held = a.allocated().reading();
            Reading freed = a.freed().reading();
            lines.add(k + "bytes=" + a.bytes());
            lines.add(k + "ms=" + millis(a.allocated().nanos()));
            lines.add(k + "process.delta.bytes=" + text(minus(held.processBytesOrZero(), before.processBytesOrZero())));
            lines.add(k + "device.delta.bytes=" + (held.deviceUsedBytes() - before.deviceUsedBytes()));
            lines.add(k + "nvml.reads=" + a.allocated().reads());
            lines.add(k + "freed.process.delta.bytes="
                    + text(minus(freed.processBytesOrZero(), before.processBytesOrZero())));
            lines.add(k + "freed.device.delta.bytes=" + (freed.deviceUsedBytes() - before.deviceUsedBytes()));
            lines.add(k + "freed.nvml.reads=" + a.freed().reads());
            before = freed;
        }
        Reading gone = r.destroyed().reading();
        lines.add("destroy.ms=" + millis(r.destroyed().nanos()));
        lines.add("destroy.process.match=" + gone.match().label());
        lines.add("destroy.device.delta.bytes=" + (gone.deviceUsedBytes() - r.baseline().deviceUsedBytes()));
        lines.add("destroy.nvml.reads=" + r.destroyed().reads());
        return lines;
    }

    private static List<String> summary(Result r, NvmlDevice device, OpenedDevice cuda, String driver) {
        List<String> lines = new ArrayList<>();
        Reading ctx = r.context().reading();
        lines.add(String.format(Locale.ROOT, "# CUDA context probe on %s (NVML device %d, %s), driver %s, CUDA %d.%d",
                device.name(), device.index(), device.uuid(), driver, cuda.driverVersion() / 1000,
                cuda.driverVersion() % 1000 / 10));
        String who = switch (ctx.match()) {
            case PID -> "this JVM (pid " + r.pid() + ") is listed with " + mib(ctx.processBytesOrZero());
            case NEW_ENTRY -> "this JVM (pid " + r.pid() + ") is not listed under its pid; the one new entry shows "
                    + mib(ctx.processBytesOrZero());
            case NONE -> "this JVM (pid " + r.pid() + ") is not in NVML's process list";
        };
        lines.add("# context: " + who + "; device used " + signedMib(ctx.deviceUsedBytes()
                - r.baseline().deviceUsedBytes()) + " (cuCtxCreate " + millis(r.context().nanos()) + " ms)");
        Reading before = ctx;
        for (Allocation a : r.allocations()) {
            Reading held = a.allocated().reading();
            Reading freed = a.freed().reading();
            lines.add("# cuMemAlloc " + sizeLabel(a.bytes()).replaceFirst("(\\d)([A-Z])", "$1 $2") + ": process "
                    + signed(minus(held.processBytesOrZero(), before.processBytesOrZero())) + ", device "
                    + signedMib(held.deviceUsedBytes() - before.deviceUsedBytes()) + "; after cuMemFree: process "
                    + signed(minus(freed.processBytesOrZero(), before.processBytesOrZero())) + ", device "
                    + signedMib(freed.deviceUsedBytes() - before.deviceUsedBytes()));
            before = freed;
        }
        Reading gone = r.destroyed().reading();
        lines.add("# cuCtxDestroy: device used " + signedMib(gone.deviceUsedBytes() - r.baseline().deviceUsedBytes())
                + " against the start; this JVM " + (gone.match() == Match.NONE ? "no longer listed" : "still listed"));
        return lines;
    }

    private static OpenedDevice openJCuda(int ordinal) {
        JCudaDevice d = JCudaDevice.open(ordinal);
        return new OpenedDevice(d.name(), d.uuid(), d.driverVersion(), d::createContext);
    }

    private static int nvmlFailure(NvmlException e, PrintStream err) {
        boolean absent = NVML_ABSENT.contains(e.code());
        err.println(NAME + ": " + (absent ? "no GPU here: " : "") + oneLine(e.getMessage()));
        return absent ? NO_GPU : FAILED;
    }

    private static void pause() {
        try {
            Thread.sleep(PAUSE_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for NVML", e);
        }
    }

    /**
     * JCuda's load error lists every place it tried; the dynamic linker's complaint (a missing
     * libcuda.so.1, say) is the part that tells what is wrong.
     */
    static String linkReason(LinkageError e) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        for (String line : message.split("\n")) {
            if (line.contains("cannot open shared object file") || line.contains("undefined symbol")) {
                return line.strip();
            }
        }
        return oneLine(message);
    }

    static String oneLine(String s) {
        return s == null ? "" : s.replaceAll("\\s*\\R\\s*", " | ").strip();
    }

    static String sizeLabel(long bytes) {
        if (bytes % (1L << 30) == 0) {
            return bytes / (1L << 30) + "GiB";
        }
        if (bytes % ContextFootprint.MIB == 0) {
            return bytes / ContextFootprint.MIB + "MiB";
        }
        return bytes + "B";
    }

    private static OptionalLong minus(OptionalLong a, OptionalLong b) {
        return a.isPresent() && b.isPresent() ? OptionalLong.of(a.getAsLong() - b.getAsLong()) : OptionalLong.empty();
    }

    private static String text(OptionalLong v) {
        return v.isPresent() ? Long.toString(v.getAsLong()) : "absent";
    }

    private static String millis(long nanos) {
        return String.format(Locale.ROOT, "%.1f", nanos / 1e6);
    }

    private static String mib(OptionalLong bytes) {
        return bytes.isPresent() ? String.format(Locale.ROOT, "%.1f MiB", bytes.getAsLong() / (double) ContextFootprint.MIB)
                : "an unknown amount (NVML gave no figure)";
    }

    private static String signed(OptionalLong bytes) {
        return bytes.isPresent() ? signedMib(bytes.getAsLong()) : "unknown";
    }

    private static String signedMib(long bytes) {
        return String.format(Locale.ROOT, "%+.1f MiB", bytes / (double) ContextFootprint.MIB);
    }
}
