package org.gpuagent.nvml;

/**
 * A failed NVML call: the library's own return code plus the C function that returned it.
 *
 * <p>{@link NvmlReturn#NOT_SUPPORTED} never reaches callers as an exception: the typed API turns
 * it into an absent value. Callers see this exception for real failures (GPU lost, no permission,
 * a driver mismatch, a missing library).
 */
public class NvmlException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final NvmlReturn code;
    private final int rawCode;
    private final String call;

    public NvmlException(String call, int rawCode) {
        this(call, rawCode, null);
    }

    public NvmlException(String call, int rawCode, String detail) {
        super(message(call, rawCode, detail));
        this.call = call;
        this.rawCode = rawCode;
        this.code = NvmlReturn.fromCode(rawCode);
    }

    public NvmlException(String call, NvmlReturn code, String detail) {
        this(call, code.code(), detail);
    }

    private static String message(String call, int rawCode, String detail) {
        NvmlReturn r = NvmlReturn.fromCode(rawCode);
        String name = r == NvmlReturn.UNKNOWN && rawCode != NvmlReturn.UNKNOWN.code()
                ? "NVML_ERROR_UNKNOWN(" + rawCode + ")" : r.cName();
        return call + " failed: " + name + (detail == null || detail.isEmpty() ? "" : ": " + detail);
    }

    /** The return code as an enum ({@link NvmlReturn#UNKNOWN} for codes newer than this build). */
    public NvmlReturn code() {
        return code;
    }

    /** The number the library returned. */
    public int rawCode() {
        return rawCode;
    }

    /** The C function that failed, e.g. {@code nvmlDeviceGetMemoryInfo_v2}. */
    public String call() {
        return call;
    }
}
