package org.gpuagent.nvml.jna;

import org.gpuagent.nvml.NvmlException;
import org.gpuagent.nvml.jna.NvmlSymbolTable.Symbol;

/**
 * How the binding reads an {@code nvmlReturn_t}, in one place: success, an absent value, or an
 * {@link NvmlException} carrying the library's code. Allocates nothing unless it throws.
 */
final class ReturnCodes {
    private ReturnCodes() {
    }

    /**
     * True on success, false where the value is absent ({@code NOT_SUPPORTED}, or
     * {@code FUNCTION_NOT_FOUND} from a library stub); throws {@link NvmlException} otherwise.
     */
    static boolean answered(int rc, Symbol call) {
        if (rc == NvmlNative.NVML_SUCCESS) {
            return true;
        }
        if (rc == NvmlNative.NVML_ERROR_NOT_SUPPORTED || rc == NvmlNative.NVML_ERROR_FUNCTION_NOT_FOUND) {
            return false;
        }
        throw new NvmlException(call.cName(), rc);
    }

    /** Like {@link #answered(int, Symbol)}, with one more code that is an expected answer (true). */
    static boolean answered(int rc, Symbol call, int expected) {
        return rc == expected || answered(rc, call);
    }

    /** Success, or {@link NvmlException}: for calls whose value is never optional. */
    static void check(Symbol call, int rc) {
        if (rc != NvmlNative.NVML_SUCCESS) {
            throw new NvmlException(call.cName(), rc);
        }
    }

    /** A driver refusing a versioned struct it does not know (a header older than the struct). */
    static boolean refusesVersionedStruct(int rc) {
        return rc == NvmlNative.NVML_ERROR_ARGUMENT_VERSION_MISMATCH || rc == NvmlNative.NVML_ERROR_NOT_SUPPORTED
                || rc == NvmlNative.NVML_ERROR_FUNCTION_NOT_FOUND;
    }
}
