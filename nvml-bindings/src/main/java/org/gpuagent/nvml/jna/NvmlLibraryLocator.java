package org.gpuagent.nvml.jna;

import com.sun.jna.NativeLibrary;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.gpuagent.nvml.NvmlLibraryNotFoundException;

/**
 * Where to look for libnvidia-ml, in order: a configured file, then the soname through the
 * dynamic linker's own search ({@code LD_LIBRARY_PATH}, {@code ld.so.cache}), then directories
 * that drivers install into but the linker may not search (NixOS keeps the driver in
 * {@code /run/opengl-driver/lib}). The first place that loads wins; when none does,
 * {@link #load()} throws one {@link NvmlLibraryNotFoundException} naming every place and why
 * it failed.
 *
 * <p>The list is data so that tests can point it at directories they control instead of the host.
 */
public final class NvmlLibraryLocator {

    /** The library's soname: the driver installs it, whereas the unversioned symlink comes with development packages. */
    public static final String SONAME = "libnvidia-ml.so.1";

    /** Searched after the soname, each as {@code <dir>/libnvidia-ml.so.1}. */
    public static final List<Path> DEFAULT_DIRECTORIES = List.of(
            Path.of("/run/opengl-driver/lib"),
            Path.of("/usr/lib/x86_64-linux-gnu"),
            Path.of("/usr/lib64"),
            Path.of("/usr/local/nvidia/lib64"));

    /** One place to try. */
    private record Candidate(String kind, String target, boolean isFile) {
        String describe() {
            return kind.isEmpty() ? target : kind + " " + target;
        }
    }

    private final List<Candidate> candidates;

    private NvmlLibraryLocator(List<Candidate> candidates) {
        this.candidates = List.copyOf(candidates);
    }

    /** The production search: {@code configured} if given, the soname, then {@link #DEFAULT_DIRECTORIES}. */
    public static NvmlLibraryLocator defaults(Optional<Path> configured) {
        return builder().configured(configured).soname(SONAME).directories(DEFAULT_DIRECTORIES).build();
    }

    /** Only this file: for tests and benchmarks that must load exactly one library. */
    public static NvmlLibraryLocator exactly(Path library) {
        return builder().configured(Optional.of(library)).build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The places in search order, as the failure message names them. */
    public List<String> places() {
        List<String> out = new ArrayList<>();
        for (Candidate c : candidates) {
            out.add(c.describe());
        }
        return out;
    }

    /**
     * Loads the first library that opens (a dlopen; NVML is not initialised here).
     *
     * @throws NvmlLibraryNotFoundException naming every place tried and why it failed
     */
    LoadedLibrary load() {
        List<String> tried = new ArrayList<>();
        for (Candidate c : candidates) {
            if (c.isFile && !Files.exists(Path.of(c.target))) {
                tried.add(c.describe() + " (no such file)");
                continue;
            }
            try {
                NativeLibrary library = NativeLibrary.getInstance(c.target);
                return new LoadedLibrary(library, c.describe());
            } catch (UnsatisfiedLinkError e) {
                tried.add(c.describe() + " (" + reason(e) + ")");
            }
        }
        if (tried.isEmpty()) {
            tried.add("(no places configured)");
        }
        throw new NvmlLibraryNotFoundException(tried);
    }

    /**
     * JNA's message starts with its own "Unable to load library" line and ends with where it looked
     * for a bundled copy; dlerror()'s text is the first line in between.
     */
    private static String reason(UnsatisfiedLinkError e) {
        String message = Objects.requireNonNullElse(e.getMessage(), "");
        for (String line : message.split("\n")) {
            String l = line.strip();
            if (!l.isEmpty() && !l.startsWith("Unable to load library") && !l.startsWith("Native library (")) {
                return l;
            }
        }
        return "dlopen failed";
    }

    @Override
    public String toString() {
        return "NvmlLibraryLocator" + places();
    }

    /** A library that opened, and the place it came from. */
    record LoadedLibrary(NativeLibrary library, String location) {
    }

    /** Builds a search list; places are tried in the order added. */
    public static final class Builder {
        private final List<Candidate> candidates = new ArrayList<>();

        private Builder() {
        }

        /** A file the operator named; tried first. */
        public Builder configured(Optional<Path> library) {
            library.ifPresent(p -> candidates.add(new Candidate("configured", p.toAbsolutePath().toString(), true)));
            return this;
        }

        /** A name without a directory, resolved by the dynamic linker's search. */
        public Builder soname(String soname) {
            if (soname.contains("/")) {
                throw new IllegalArgumentException("a soname has no directory: " + soname);
            }
            candidates.add(new Candidate("soname", soname, false));
            return this;
        }

        /** {@code <dir>/libnvidia-ml.so.1}. */
        public Builder directory(Path dir) {
            candidates.add(new Candidate("", dir.resolve(SONAME).toAbsolutePath().toString(), true));
            return this;
        }

        public Builder directories(List<Path> dirs) {
            dirs.forEach(this::directory);
            return this;
        }

        public NvmlLibraryLocator build() {
            return new NvmlLibraryLocator(candidates);
        }
    }
}
