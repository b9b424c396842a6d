package org.gpuagent.nvml;

/**
 * Every {@code nvmlReturn_t} the driver branches 470-580 define, with its numeric code and C name.
 *
 * <p>Codes this enum does not know (a newer driver) map to {@link #UNKNOWN} while
 * {@link NvmlException#rawCode()} keeps the number the library returned.
 */
public enum NvmlReturn {
    SUCCESS(0, "NVML_SUCCESS"),
    UNINITIALIZED(1, "NVML_ERROR_UNINITIALIZED"),
    INVALID_ARGUMENT(2, "NVML_ERROR_INVALID_ARGUMENT"),
    NOT_SUPPORTED(3, "NVML_ERROR_NOT_SUPPORTED"),
    NO_PERMISSION(4, "NVML_ERROR_NO_PERMISSION"),
    ALREADY_INITIALIZED(5, "NVML_ERROR_ALREADY_INITIALIZED"),
    NOT_FOUND(6, "NVML_ERROR_NOT_FOUND"),
    INSUFFICIENT_SIZE(7, "NVML_ERROR_INSUFFICIENT_SIZE"),
    INSUFFICIENT_POWER(8, "NVML_ERROR_INSUFFICIENT_POWER"),
    DRIVER_NOT_LOADED(9, "NVML_ERROR_DRIVER_NOT_LOADED"),
    TIMEOUT(10, "NVML_ERROR_TIMEOUT"),
    IRQ_ISSUE(11, "NVML_ERROR_IRQ_ISSUE"),
    LIBRARY_NOT_FOUND(12, "NVML_ERROR_LIBRARY_NOT_FOUND"),
    FUNCTION_NOT_FOUND(13, "NVML_ERROR_FUNCTION_NOT_FOUND"),
    CORRUPTED_INFOROM(14, "NVML_ERROR_CORRUPTED_INFOROM"),
    GPU_IS_LOST(15, "NVML_ERROR_GPU_IS_LOST"),
    RESET_REQUIRED(16, "NVML_ERROR_RESET_REQUIRED"),
    OPERATING_SYSTEM(17, "NVML_ERROR_OPERATING_SYSTEM"),
    LIB_RM_VERSION_MISMATCH(18, "NVML_ERROR_LIB_RM_VERSION_MISMATCH"),
    IN_USE(19, "NVML_ERROR_IN_USE"),
    MEMORY(20, "NVML_ERROR_MEMORY"),
    NO_DATA(21, "NVML_ERROR_NO_DATA"),
    VGPU_ECC_NOT_SUPPORTED(22, "NVML_ERROR_VGPU_ECC_NOT_SUPPORTED"),
    INSUFFICIENT_RESOURCES(23, "NVML_ERROR_INSUFFICIENT_RESOURCES"),
    FREQ_NOT_SUPPORTED(24, "NVML_ERROR_FREQ_NOT_SUPPORTED"),
    ARGUMENT_VERSION_MISMATCH(25, "NVML_ERROR_ARGUMENT_VERSION_MISMATCH"),
    DEPRECATED(26, "NVML_ERROR_DEPRECATED"),
    NOT_READY(27, "NVML_ERROR_NOT_READY"),
    GPU_NOT_FOUND(28, "NVML_ERROR_GPU_NOT_FOUND"),
    INVALID_STATE(29, "NVML_ERROR_INVALID_STATE"),
    RESET_TYPE_NOT_SUPPORTED(30, "NVML_ERROR_RESET_TYPE_NOT_SUPPORTED"),
    UNKNOWN(999, "NVML_ERROR_UNKNOWN");

    private static final NvmlReturn[] BY_CODE = new NvmlReturn[31];

    static {
        for (NvmlReturn r : values()) {
            if (r.code < BY_CODE.length) {
                BY_CODE[r.code] = r;
            }
        }
    }

    private final int code;
    private final String cName;

    NvmlReturn(int code, String cName) {
        this.code = code;
        this.cName = cName;
    }

    /** The numeric {@code nvmlReturn_t}. */
    public int code() {
        return code;
    }

    /** The C constant, e.g. {@code NVML_ERROR_NOT_SUPPORTED}; usable as a metric label. */
    public String cName() {
        return cName;
    }

    /** Maps a raw code; codes this enum does not list become {@link #UNKNOWN}. Never allocates. */
    public static NvmlReturn fromCode(int code) {
        if (code >= 0 && code < BY_CODE.length) {
            return BY_CODE[code];
        }
        return UNKNOWN;
    }

    /**
     * True for failures after which the device or the library must be re-initialised
     * (the GPU fell off the bus, the driver went away or was replaced underneath us).
     */
    public boolean requiresReinit() {
        return switch (this) {
            case GPU_IS_LOST, RESET_REQUIRED, DRIVER_NOT_LOADED, LIB_RM_VERSION_MISMATCH, UNINITIALIZED -> true;
            default -> false;
        };
    }
}
