/*
 * A fake libcuda.so.1 for the CUDA context probe's tests: the few driver-API functions the
 * probe calls, under the names JCuda's natives import (cuCtxCreate_v2, cuMemAlloc_v2, ...).
 * JCuda binds libcuda's functions lazily, so the hundreds it never calls need not exist.
 *
 * It has one device, and books what the probe does into the fake libnvidia-ml loaded in the
 * same process (through its control API, fake_nvml_set), so that NVML sees it as it would see
 * a real driver: a context appears as a compute process of this pid holding the context cost,
 * an allocation adds its size, a free takes it away, destroying the context removes the process.
 *
 * Environment:
 *   FAKE_CUDA_NVML      the fake libnvidia-ml file (already loaded by the JVM; found again with
 *                       RTLD_NOLOAD). Without it nothing is booked and NVML sees no change.
 *   FAKE_CUDA_INIT      the code cuInit answers (default 0; e.g. 100 CUDA_ERROR_NO_DEVICE)
 *   FAKE_CUDA_UUID      the device UUID as NVML spells it (default: the p1000 scenario's)
 *   FAKE_CUDA_CONTEXT   the context cost in MiB (default 164, the simulator's P1000 figure)
 *   FAKE_CUDA_FREE      the device memory in MiB that allocations may take (default 3000)
 *
 * Build: gcc -shared -fPIC -Wl,-soname,libcuda.so.1 -o DIR/libcuda.so.1 fake_cuda.c -ldl
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CUDA_SUCCESS 0
#define CUDA_ERROR_INVALID_VALUE 1
#define CUDA_ERROR_OUT_OF_MEMORY 2
#define CUDA_ERROR_NOT_INITIALIZED 3
#define CUDA_ERROR_INVALID_CONTEXT 201
#define CUDA_ERROR_INVALID_DEVICE 101
#define MIB (1024ull * 1024ull)
#define MAX_ALLOCATIONS 64

typedef int (*set_fn)(const char *, const char *);

static int initialised;
static int context_live;
static unsigned long long context_bytes;
static unsigned long long held_bytes;
static unsigned long long allocation_size[MAX_ALLOCATIONS];
/* Fake device addresses: slot i is at BASE + i * 2^40, far from anything real. */
static const unsigned long long BASE = 0x7f0000000000ull;

static unsigned long long env_number(const char *name, unsigned long long fallback) {
    const char *v = getenv(name);
    return v == NULL || *v == '\0' ? fallback : strtoull(v, NULL, 10);
}

/* Tells the fake NVML what this process holds now (nothing: the process is gone). */
static void book(void) {
    const char *path = getenv("FAKE_CUDA_NVML");
    if (path == NULL || *path == '\0') {
        return;
    }
    void *nvml = dlopen(path, RTLD_LAZY | RTLD_NOLOAD);
    set_fn set = nvml == NULL ? NULL : (set_fn)dlsym(nvml, "fake_nvml_set");
    if (set == NULL) {
        fprintf(stderr, "fake libcuda: %s is not loaded or has no fake_nvml_set\n", path);
        return;
    }
    char key[64], value[64] = "";
    snprintf(key, sizeof key, "device.0.process.%d", (int)getpid());
    if (context_live) {
        snprintf(value, sizeof value, "compute %llu", context_bytes + held_bytes);
    }
    if (set(key, value) != 0) {
        fprintf(stderr, "fake libcuda: fake_nvml_set(%s, %s) failed\n", key, value);
    }
    dlclose(nvml);
}

int cuInit(unsigned int flags) {
    (void)flags;
    int rc = (int)env_number("FAKE_CUDA_INIT", 0);
    initialised = rc == CUDA_SUCCESS;
    return rc;
}

int cuDriverGetVersion(int *version) {
    if (version == NULL) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    *version = 13000;
    return CUDA_SUCCESS;
}

int cuDeviceGetCount(int *count) {
    if (!initialised) {
        return CUDA_ERROR_NOT_INITIALIZED;
    }
    *count = 1;
    return CUDA_SUCCESS;
}

int cuDeviceGet(int *device, int ordinal) {
    if (!initialised) {
        return CUDA_ERROR_NOT_INITIALIZED;
    }
    if (ordinal != 0) {
        return CUDA_ERROR_INVALID_DEVICE;
    }
    *device = 0;
    return CUDA_SUCCESS;
}

int cuDeviceGetName(char *name, int length, int device) {
    if (device != 0 || length < 1) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    snprintf(name, (size_t)length, "%s", "Quadro P1000");
    return CUDA_SUCCESS;
}

int cuDeviceGetUuid(unsigned char *uuid, int device) {
    const char *text = getenv("FAKE_CUDA_UUID");
    if (text == NULL || *text == '\0') {
        text = "GPU-5e7c1a2b-93d4-4f60-8b1e-2c9d7a4f6e31";
    }
    if (device != 0 || strncmp(text, "GPU-", 4) != 0) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    int n = 0;
    for (const char *p = text + 4; *p != '\0' && n < 16; p++) {
        if (*p == '-') {
            continue;
        }
        unsigned int byte;
        if (sscanf(p, "%2x", &byte) != 1) {
            return CUDA_ERROR_INVALID_VALUE;
        }
        uuid[n++] = (unsigned char)byte;
        p++;
    }
    return n == 16 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

int cuCtxCreate_v2(void **context, unsigned int flags, int device) {
    (void)flags;
    if (!initialised) {
        return CUDA_ERROR_NOT_INITIALIZED;
    }
    if (device != 0) {
        return CUDA_ERROR_INVALID_DEVICE;
    }
    if (context_live) {
        return CUDA_ERROR_INVALID_VALUE; /* one context is all the probe makes */
    }
    context_live = 1;
    context_bytes = env_number("FAKE_CUDA_CONTEXT", 164) * MIB;
    held_bytes = 0;
    *context = (void *)&context_live;
    book();
    return CUDA_SUCCESS;
}

int cuCtxDestroy_v2(void *context) {
    if (!context_live || context != (void *)&context_live) {
        return CUDA_ERROR_INVALID_CONTEXT;
    }
    context_live = 0;
    held_bytes = 0;
    memset(allocation_size, 0, sizeof allocation_size);
    book();
    return CUDA_SUCCESS;
}

int cuCtxSynchronize(void) {
    return context_live ? CUDA_SUCCESS : CUDA_ERROR_INVALID_CONTEXT;
}

int cuMemAlloc_v2(unsigned long long *pointer, size_t bytes) {
    if (!context_live) {
        return CUDA_ERROR_INVALID_CONTEXT;
    }
    if (held_bytes + bytes > env_number("FAKE_CUDA_FREE", 3000) * MIB) {
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    for (int i = 0; i < MAX_ALLOCATIONS; i++) {
        if (allocation_size[i] == 0) {
            allocation_size[i] = bytes;
            held_bytes += bytes;
            *pointer = BASE + ((unsigned long long)i << 40);
            book();
            return CUDA_SUCCESS;
        }
    }
    return CUDA_ERROR_OUT_OF_MEMORY;
}

static int slot(unsigned long long pointer) {
    if (pointer < BASE || (pointer - BASE) % (1ull << 40) != 0) {
        return -1;
    }
    unsigned long long i = (pointer - BASE) >> 40;
    return i < MAX_ALLOCATIONS && allocation_size[i] != 0 ? (int)i : -1;
}

int cuMemsetD8_v2(unsigned long long pointer, unsigned char value, size_t count) {
    (void)value;
    int i = slot(pointer);
    return i >= 0 && count <= allocation_size[i] ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

int cuMemFree_v2(unsigned long long pointer) {
    int i = slot(pointer);
    if (i < 0) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    held_bytes -= allocation_size[i];
    allocation_size[i] = 0;
    book();
    return CUDA_SUCCESS;
}
