package org.gpuagent.nvml.jna;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import org.gpuagent.nvml.NvmlException;
import org.gpuagent.nvml.NvmlReturn;
import org.gpuagent.nvml.jna.NvmlLibraryLocator.LoadedLibrary;

/**
 * The one libnvidia-ml this JVM's direct-mapped functions are bound to.
 *
 * <p>Direct mapping binds each holder class's native methods to one library for the life of the
 * class, so the binding happens once per JVM: later sessions reuse it (a re-open is
 * {@code nvmlShutdown} + {@code nvmlInit_v2}, never a second dlopen), and a request for a
 * different library file fails instead of silently calling the first one.
 */
final class NvmlBinding {

    private static NvmlBinding bound; // guarded by NvmlBinding.class

    private final NativeLibrary library;
    private final String location;
    private final long initAddress;
    private final NvmlSymbolTable symbols;

    private NvmlBinding(NativeLibrary library, String location, long initAddress, NvmlSymbolTable symbols) {
        this.library = library;
        this.location = location;
        this.initAddress = initAddress;
        this.symbols = symbols;
    }

    /**
     * Binds to {@code loaded} if nothing is bound yet, or returns the existing binding when it is
     * the same library (same address of {@code nvmlInit_v2}, however it was named).
     *
     * @throws org.gpuagent.nvml.NvmlException FUNCTION_NOT_FOUND when the library lacks a required function
     * @throws IllegalStateException when this JVM is already bound to another library
     */
    static synchronized NvmlBinding bind(LoadedLibrary loaded) {
        if (Native.POINTER_SIZE != 8) {
            throw new IllegalStateException("NVML needs a 64-bit JVM (pointers are passed as 64-bit addresses)");
        }
        long init;
        try {
            init = Pointer.nativeValue(loaded.library().getFunction("nvmlInit_v2"));
        } catch (UnsatisfiedLinkError e) {
            throw new NvmlException("dlsym", NvmlReturn.FUNCTION_NOT_FOUND,
                    loaded.location() + " is not a usable libnvidia-ml: it lacks nvmlInit_v2");
        }
        if (bound != null) {
            if (bound.initAddress != init) {
                throw new IllegalStateException("NVML is already bound to " + bound.location
                        + " in this JVM; cannot switch to " + loaded.location());
            }
            return bound;
        }
        NvmlSymbolTable symbols = NvmlSymbolTable.resolve(loaded.library(), loaded.location());
        symbols.register(loaded.library());
        bound = new NvmlBinding(loaded.library(), loaded.location(), init, symbols);
        return bound;
    }

    /** The library this JVM is bound to, if any. */
    static synchronized java.util.Optional<NvmlBinding> current() {
        return java.util.Optional.ofNullable(bound);
    }

    NvmlSymbolTable symbols() {
        return symbols;
    }

    /** The place the library was loaded from, as the locator named it. */
    String location() {
        return location;
    }

    NativeLibrary library() {
        return library;
    }
}
