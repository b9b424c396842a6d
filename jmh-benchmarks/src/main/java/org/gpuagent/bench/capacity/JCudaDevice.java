package org.gpuagent.bench.capacity;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUresult;
import jcuda.driver.CUuuid;
import jcuda.driver.JCudaDriver;

/**
 * One device through the CUDA driver API (JCuda): identity at open, then contexts on demand.
 * The driver API is what a service's own CUDA code reaches in the end (the runtime API creates
 * the same kind of context, the device's primary one), so its cost here is the cost a service pays.
 */
final class JCudaDevice {

    private final CUdevice device;
    private final int ordinal;
    private final String name;
    private final String uuid;
    private final int driverVersion;

    private JCudaDevice(CUdevice device, int ordinal, String name, String uuid, int driverVersion) {
        this.device = device;
        this.ordinal = ordinal;
        this.name = name;
        this.uuid = uuid;
        this.driverVersion = driverVersion;
    }

    /**
     * Loads the driver API, initialises it and opens device {@code ordinal} (CUDA's numbering,
     * which {@code CUDA_VISIBLE_DEVICES} can change; NVML's is matched by UUID).
     *
     * @throws LinkageError when JCuda's natives or libcuda.so.1 do not load
     * @throws CudaCallException when the driver answers an error
     */
    static JCudaDevice open(int ordinal) {
        check("cuInit", JCudaDriver.cuInit(0));
        int[] value = new int[1];
        check("cuDriverGetVersion", JCudaDriver.cuDriverGetVersion(value));
        int version = value[0];
        check("cuDeviceGetCount", JCudaDriver.cuDeviceGetCount(value));
        if (ordinal >= value[0]) {
            throw new CudaCallException("cuDeviceGet", CudaCallException.CUDA_ERROR_INVALID_DEVICE,
                    "CUDA_ERROR_INVALID_DEVICE", "the driver lists " + value[0] + " device(s), asked for " + ordinal);
        }
        CUdevice device = new CUdevice();
        check("cuDeviceGet", JCudaDriver.cuDeviceGet(device, ordinal));
        byte[] name = new byte[256];
        check("cuDeviceGetName", JCudaDriver.cuDeviceGetName(name, name.length, device));
        CUuuid uuid = new CUuuid();
        check("cuDeviceGetUuid", JCudaDriver.cuDeviceGetUuid(uuid, device));
        return new JCudaDevice(device, ordinal, cString(name), nvmlUuid(uuid.bytes), version);
    }

    int ordinal() {
        return ordinal;
    }

    String name() {
        return name;
    }

    /** The UUID as NVML spells it: {@code GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}. */
    String uuid() {
        return uuid;
    }

    /** e.g. 13000 for CUDA 13.0. */
    int driverVersion() {
        return driverVersion;
    }

    /** A new context (flags 0: the driver's default scheduling), current on this thread. */
    CudaContext createContext() {
        CUcontext context = new CUcontext();
        check("cuCtxCreate", JCudaDriver.cuCtxCreate(context, 0, device));
        return new Context(context);
    }

    static String nvmlUuid(byte[] bytes) {
        if (bytes == null || bytes.length != 16) {
            throw new IllegalArgumentException("a CUDA UUID has 16 bytes");
        }
        StringBuilder hex = new StringBuilder(32);
        for (byte b : bytes) {
            hex.append(Character.forDigit((b >> 4) & 0xF, 16)).append(Character.forDigit(b & 0xF, 16));
        }
        return "GPU-" + hex.substring(0, 8) + "-" + hex.substring(8, 12) + "-" + hex.substring(12, 16) + "-"
                + hex.substring(16, 20) + "-" + hex.substring(20);
    }

    private static String cString(byte[] bytes) {
        int end = 0;
        while (end < bytes.length && bytes[end] != 0) {
            end++;
        }
        return new String(bytes, 0, end, StandardCharsets.UTF_8);
    }

    private static void check(String call, int rc) {
        if (rc != CUresult.CUDA_SUCCESS) {
            throw new CudaCallException(call, rc, CUresult.stringFor(rc));
        }
    }

    private static final class Context implements CudaContext {
        private final CUcontext context;
        private final Map<Long, CUdeviceptr> held = new HashMap<>();
        private long nextHandle = 1;
        private boolean closed;

        Context(CUcontext context) {
            this.context = context;
        }

        @Override
        public long allocate(long bytes) {
            CUdeviceptr pointer = new CUdeviceptr();
            check("cuMemAlloc", JCudaDriver.cuMemAlloc(pointer, bytes));
            try {
                check("cuMemsetD8", JCudaDriver.cuMemsetD8(pointer, (byte) 0, bytes));
                check("cuCtxSynchronize", JCudaDriver.cuCtxSynchronize());
            } catch (CudaCallException e) {
                JCudaDriver.cuMemFree(pointer);
                throw e;
            }
            long handle = nextHandle++;
            held.put(handle, pointer);
            return handle;
        }

        @Override
        public void free(long handle) {
            CUdeviceptr pointer = held.remove(handle);
            if (pointer == null) {
                throw new IllegalArgumentException("no allocation " + handle);
            }
            check("cuMemFree", JCudaDriver.cuMemFree(pointer));
        }

        @Override
        public void close() {
            if (closed) {
                return;
            }
            closed = true;
            held.clear();
            check("cuCtxDestroy", JCudaDriver.cuCtxDestroy(context));
        }
    }
}
