package org.gpuagent.bench.capacity;

import java.util.Set;

/** A CUDA driver call that answered something other than {@code CUDA_SUCCESS}. */
final class CudaCallException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    static final int CUDA_ERROR_OUT_OF_MEMORY = 2;
    static final int CUDA_ERROR_INVALID_DEVICE = 101;

    /**
     * Codes that mean "no usable GPU or driver here" rather than a broken one: a stub library,
     * a driver older than the API, no device, devices busy or prohibited, a driver/kernel
     * module mismatch.
     */
    private static final Set<Integer> NO_GPU = Set.of(34, 35, 46, 100, 803, 804);

    private final String call;
    private final int code;

    CudaCallException(String call, int code, String codeName) {
        this(call, code, codeName, "");
    }

    CudaCallException(String call, int code, String codeName, String detail) {
        super(call + " answered " + codeName + " (" + code + ")" + (detail.isEmpty() ? "" : ": " + detail));
        this.call = call;
        this.code = code;
    }

    String call() {
        return call;
    }

    int code() {
        return code;
    }

    /** True when the answer says there is no usable GPU or driver, not that something broke. */
    boolean meansNoGpu() {
        return NO_GPU.contains(code);
    }
}
