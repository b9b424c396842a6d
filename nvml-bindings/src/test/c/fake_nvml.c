/*
 * A fake libnvidia-ml.so.1 for tests: the same exported names and struct layouts as NVIDIA's
 * library (driver branches 470-580), answering from a scenario file, with fault injection.
 * The JNA binding's tests dlopen it and marshal through it exactly as they would the real one.
 *
 * BUILD VARIANTS (build.sh): the default build exports every symbol a 580 driver has that the
 * binding uses. -D flags leave symbols out, as an older driver would:
 *   FAKE_NVML_NO_MEMORY_V2            nvmlDeviceGetMemoryInfo_v2                   (before R510)
 *   FAKE_NVML_NO_PROCESSES_V3         nvmlDevice{Compute,Graphics}RunningProcesses_v3 (before R510)
 *   FAKE_NVML_NO_CLOCKS_EVENT_REASONS nvmlDeviceGetCurrentClocksEventReasons      (before R535)
 *   FAKE_NVML_NO_ENERGY               nvmlDeviceGetTotalEnergyConsumption
 *   FAKE_NVML_V1_ONLY                 every versioned call only in its oldest form (no _v2/_v3)
 *
 * SCENARIO FILE FORMAT (src/test/resources/fake-nvml/<name>.scenario)
 *   One "key = value" per line; blank lines and lines starting with '#' are ignored; an unknown
 *   key or a malformed value is an error naming the line. Numbers are decimal or 0x-hex; sizes
 *   may end in KiB, MiB or GiB. A device field that is not given makes its call return
 *   NVML_ERROR_NOT_SUPPORTED (so a card without a fan simply has no "fan" line).
 *
 *   System:   driver_version, nvml_version (strings), cuda_driver_version (e.g. 13000)
 *             return.<nvmlCall> = <code>       that call fails with <code> (every device)
 *   Devices:  device.<n>.<key>, n from 0; the device count is the highest n plus one.
 *     name, uuid, serial, vbios, pci.bus_id (strings; name, uuid, pci.bus_id are required)
 *     pci.device_id, pci.subsystem_id, brand (a number or QUADRO, TESLA, GEFORCE, NVIDIA, ...)
 *     compute_capability = <major>.<minor>
 *     memory.total (required), memory.reserved, memory.used   (used: memory no process
 *         accounts for; reported used = memory.used + the processes' bytes; free = the rest)
 *     bar1.total, bar1.used
 *     utilization.gpu, utilization.memory, encoder.utilization, encoder.sampling_us,
 *     decoder.utilization, decoder.sampling_us, encoder.sessions, encoder.fps, encoder.latency_us
 *     temperature, temperature.shutdown, temperature.slowdown, temperature.mem_max,
 *     temperature.gpu_max, fan, power.usage_mw, power.limit_mw, energy_mj,
 *     power.min_limit_mw, power.max_limit_mw (both or neither), power.default_limit_mw
 *     clock.{graphics,sm,memory,video}, max_clock.{graphics,sm,memory,video}
 *     pstate, clock_event_reasons, supported_events (nvmlEventType bits)
 *     pcie.tx_kbps, pcie.rx_kbps, pcie.gen, pcie.width, pcie.max_gen, pcie.max_width
 *     process.<pid> = compute|graphics|both <bytes|NA>       (NA: NVML_VALUE_NOT_AVAILABLE)
 *     process_sample.<pid> = <timestamp_us> <sm> <mem> <enc> <dec>
 *     return.<nvmlCall> = <code>      that call fails with <code> on this device only
 *     lose_after = <n>                the GPU falls off the bus after n more calls on it
 *   Codes are names (NOT_SUPPORTED or NVML_ERROR_NOT_SUPPORTED) or numbers.
 *   An empty value given through fake_nvml_set() removes the key (a process, a field, a fault).
 *
 * SCENARIO SELECTION: fake_nvml_load_scenario(path); else, at the first nvmlInit_v2, the file
 * named by the environment variable FAKE_NVML_SCENARIO; else nvmlInit_v2 answers
 * NVML_ERROR_DRIVER_NOT_LOADED (as a host without the kernel driver would).
 *
 * CONTROL API (exported, for tests; see FakeNvmlControl.java for the Java side). Functions
 * returning int answer -1 on bad input with the reason in fake_nvml_last_error().
 *   fake_nvml_load_scenario(path)   replace the whole state (values, faults, counters, queued
 *                                   events); NVML's init count and live event sets survive
 *   fake_nvml_reset()               reload the last scenario
 *   fake_nvml_set(key, value)       apply one scenario line now
 *   fake_nvml_set_return(call, code) / fake_nvml_set_device_return(dev, call, code); 0 clears
 *   fake_nvml_lose_gpu_after(dev, n) / fake_nvml_recover_gpu(dev)
 *       n more calls on dev succeed (n <= 0: lost at once); a lost GPU answers NVML_ERROR_GPU_IS_LOST to every call on it, including
 *       nvmlDeviceGetHandleByIndex; after recovery a fresh nvmlInit_v2 + handle work again
 *   fake_nvml_block(call, millis)   each call of `call` waits millis (< 0: until released)
 *   fake_nvml_release(call)         wake the waiting calls and stop blocking `call`
 *   fake_nvml_await_blocked(call, timeout_ms)  number of threads waiting in `call` (0: timeout)
 *   fake_nvml_call_count(call)      calls since the scenario was loaded
 *   fake_nvml_queue_event(dev, type, data) / fake_nvml_queue_xid(dev, xid)
 *       delivered to every event set registered for that type on that device; answers how many
 *   fake_nvml_add_process(dev, pid, kinds, bytes)  kinds: 1 compute, 2 graphics, 3 both;
 *       bytes < 0: not available. fake_nvml_remove_process(dev, pid)
 *   fake_nvml_grow_processes(dev, per_query, times)  after each of the next `times` process
 *       list calls that answer NVML_ERROR_INSUFFICIENT_SIZE, per_query new compute processes
 *       appear (the list grew between the size query and the fill)
 *   fake_nvml_add_process_sample(dev, pid, ts, sm, mem, enc, dec)
 *   fake_nvml_init_count(), fake_nvml_variant()
 *
 * Thread safety: one mutex guards everything; a blocked or waiting call releases it.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define EXPORT __attribute__((visibility("default")))

/* ---------------------------------------------------------------------------------------
 * NVML types, mirrored from nvml.h (the layouts are asserted below)
 * --------------------------------------------------------------------------------------- */

typedef int nvmlReturn_t;
enum {
    NVML_SUCCESS = 0,
    NVML_ERROR_UNINITIALIZED = 1,
    NVML_ERROR_INVALID_ARGUMENT = 2,
    NVML_ERROR_NOT_SUPPORTED = 3,
    NVML_ERROR_NOT_FOUND = 6,
    NVML_ERROR_INSUFFICIENT_SIZE = 7,
    NVML_ERROR_DRIVER_NOT_LOADED = 9,
    NVML_ERROR_TIMEOUT = 10,
    NVML_ERROR_GPU_IS_LOST = 15,
    NVML_ERROR_ARGUMENT_VERSION_MISMATCH = 25,
    NVML_ERROR_UNKNOWN = 999
};

#define NVML_VALUE_NOT_AVAILABLE 0xFFFFFFFFFFFFFFFFULL
#define NVML_EVENT_TYPE_XID 0x8ULL
#define NVML_MEMORY_V2_VERSION ((unsigned int)(sizeof(nvmlMemory_v2_t) | (2u << 24)))

typedef struct nvmlDevice_st *nvmlDevice_t;
typedef struct nvmlEventSet_st *nvmlEventSet_t;

typedef struct {
    unsigned long long total, free, used;
} nvmlMemory_t;

typedef struct {
    unsigned int version;
    unsigned long long total, reserved, free, used;
} nvmlMemory_v2_t;

typedef struct {
    unsigned long long bar1Total, bar1Free, bar1Used;
} nvmlBAR1Memory_t;

typedef struct {
    unsigned int gpu, memory;
} nvmlUtilization_t;

typedef struct {
    char busIdLegacy[16];
    unsigned int domain, bus, device, pciDeviceId, pciSubSystemId;
    char busId[32];
} nvmlPciInfo_t;

typedef struct {
    unsigned int pid;
    unsigned long long usedGpuMemory;
} nvmlProcessInfo_v1_t;

typedef struct {
    unsigned int pid;
    unsigned long long usedGpuMemory;
    unsigned int gpuInstanceId, computeInstanceId;
} nvmlProcessInfo_v2_t;

typedef struct {
    unsigned int pid;
    unsigned long long timeStamp;
    unsigned int smUtil, memUtil, encUtil, decUtil;
} nvmlProcessUtilizationSample_t;

typedef struct {
    nvmlDevice_t device;
    unsigned long long eventType, eventData;
    unsigned int gpuInstanceId, computeInstanceId;
} nvmlEventData_t;

_Static_assert(sizeof(nvmlMemory_t) == 24, "nvmlMemory_t");
_Static_assert(sizeof(nvmlMemory_v2_t) == 40 && offsetof(nvmlMemory_v2_t, total) == 8
               && offsetof(nvmlMemory_v2_t, used) == 32, "nvmlMemory_v2_t");
_Static_assert(sizeof(nvmlBAR1Memory_t) == 24, "nvmlBAR1Memory_t");
_Static_assert(sizeof(nvmlPciInfo_t) == 68 && offsetof(nvmlPciInfo_t, busId) == 36, "nvmlPciInfo_t");
_Static_assert(sizeof(nvmlProcessInfo_v1_t) == 16, "nvmlProcessInfo_v1_t");
_Static_assert(sizeof(nvmlProcessInfo_v2_t) == 24, "nvmlProcessInfo_v2_t");
_Static_assert(sizeof(nvmlProcessUtilizationSample_t) == 32, "nvmlProcessUtilizationSample_t");
_Static_assert(sizeof(nvmlEventData_t) == 32, "nvmlEventData_t");

/* ---------------------------------------------------------------------------------------
 * Calls (for counters, faults and blocking) and device fields
 * --------------------------------------------------------------------------------------- */

#define FAKE_CALLS(X) \
    X(nvmlInit_v2) X(nvmlShutdown) X(nvmlErrorString) \
    X(nvmlSystemGetDriverVersion) X(nvmlSystemGetNVMLVersion) \
    X(nvmlSystemGetCudaDriverVersion) X(nvmlSystemGetCudaDriverVersion_v2) \
    X(nvmlDeviceGetCount) X(nvmlDeviceGetCount_v2) \
    X(nvmlDeviceGetHandleByIndex) X(nvmlDeviceGetHandleByIndex_v2) \
    X(nvmlDeviceGetUUID) X(nvmlDeviceGetName) X(nvmlDeviceGetBrand) \
    X(nvmlDeviceGetPciInfo_v2) X(nvmlDeviceGetPciInfo_v3) \
    X(nvmlDeviceGetSerial) X(nvmlDeviceGetVbiosVersion) X(nvmlDeviceGetCudaComputeCapability) \
    X(nvmlDeviceGetMemoryInfo) X(nvmlDeviceGetMemoryInfo_v2) X(nvmlDeviceGetBAR1MemoryInfo) \
    X(nvmlDeviceGetUtilizationRates) X(nvmlDeviceGetEncoderUtilization) \
    X(nvmlDeviceGetDecoderUtilization) X(nvmlDeviceGetEncoderStats) \
    X(nvmlDeviceGetTemperature) X(nvmlDeviceGetTemperatureThreshold) X(nvmlDeviceGetFanSpeed) \
    X(nvmlDeviceGetPowerUsage) X(nvmlDeviceGetEnforcedPowerLimit) \
    X(nvmlDeviceGetPowerManagementLimitConstraints) X(nvmlDeviceGetPowerManagementDefaultLimit) \
    X(nvmlDeviceGetTotalEnergyConsumption) \
    X(nvmlDeviceGetClockInfo) X(nvmlDeviceGetMaxClockInfo) X(nvmlDeviceGetPerformanceState) \
    X(nvmlDeviceGetCurrentClocksEventReasons) X(nvmlDeviceGetCurrentClocksThrottleReasons) \
    X(nvmlDeviceGetPcieThroughput) X(nvmlDeviceGetCurrPcieLinkGeneration) \
    X(nvmlDeviceGetCurrPcieLinkWidth) X(nvmlDeviceGetMaxPcieLinkGeneration) \
    X(nvmlDeviceGetMaxPcieLinkWidth) \
    X(nvmlDeviceGetComputeRunningProcesses) X(nvmlDeviceGetComputeRunningProcesses_v2) \
    X(nvmlDeviceGetComputeRunningProcesses_v3) \
    X(nvmlDeviceGetGraphicsRunningProcesses) X(nvmlDeviceGetGraphicsRunningProcesses_v2) \
    X(nvmlDeviceGetGraphicsRunningProcesses_v3) \
    X(nvmlDeviceGetProcessUtilization) \
    X(nvmlEventSetCreate) X(nvmlDeviceGetSupportedEventTypes) X(nvmlDeviceRegisterEvents) \
    X(nvmlEventSetWait) X(nvmlEventSetWait_v2) X(nvmlEventSetFree)

enum call_id {
#define CALL_ENUM(name) C_##name,
    FAKE_CALLS(CALL_ENUM)
#undef CALL_ENUM
    CALL_COUNT
};

static const char *const call_names[CALL_COUNT] = {
#define CALL_NAME(name) #name,
    FAKE_CALLS(CALL_NAME)
#undef CALL_NAME
};

/* Numeric device fields: scenario key -> slot. Consecutive groups are indexed by NVML enums. */
#define DEVICE_FIELDS(X) \
    X(F_BRAND, "brand") X(F_PCI_DEVICE_ID, "pci.device_id") X(F_PCI_SUBSYSTEM_ID, "pci.subsystem_id") \
    X(F_CC_MAJOR, "compute_capability.major") X(F_CC_MINOR, "compute_capability.minor") \
    X(F_MEM_TOTAL, "memory.total") X(F_MEM_RESERVED, "memory.reserved") X(F_MEM_USED, "memory.used") \
    X(F_BAR1_TOTAL, "bar1.total") X(F_BAR1_USED, "bar1.used") \
    X(F_UTIL_GPU, "utilization.gpu") X(F_UTIL_MEMORY, "utilization.memory") \
    X(F_ENC_UTIL, "encoder.utilization") X(F_ENC_SAMPLING, "encoder.sampling_us") \
    X(F_DEC_UTIL, "decoder.utilization") X(F_DEC_SAMPLING, "decoder.sampling_us") \
    X(F_ENC_SESSIONS, "encoder.sessions") X(F_ENC_FPS, "encoder.fps") X(F_ENC_LATENCY, "encoder.latency_us") \
    X(F_TEMP, "temperature") \
    X(F_TEMP_SHUTDOWN, "temperature.shutdown") X(F_TEMP_SLOWDOWN, "temperature.slowdown") \
    X(F_TEMP_MEM_MAX, "temperature.mem_max") X(F_TEMP_GPU_MAX, "temperature.gpu_max") \
    X(F_FAN, "fan") X(F_POWER_USAGE, "power.usage_mw") X(F_POWER_LIMIT, "power.limit_mw") \
    X(F_ENERGY, "energy_mj") \
    X(F_POWER_MIN_LIMIT, "power.min_limit_mw") X(F_POWER_MAX_LIMIT, "power.max_limit_mw") \
    X(F_POWER_DEFAULT_LIMIT, "power.default_limit_mw") \
    X(F_CLOCK_GRAPHICS, "clock.graphics") X(F_CLOCK_SM, "clock.sm") \
    X(F_CLOCK_MEMORY, "clock.memory") X(F_CLOCK_VIDEO, "clock.video") \
    X(F_MAX_CLOCK_GRAPHICS, "max_clock.graphics") X(F_MAX_CLOCK_SM, "max_clock.sm") \
    X(F_MAX_CLOCK_MEMORY, "max_clock.memory") X(F_MAX_CLOCK_VIDEO, "max_clock.video") \
    X(F_PSTATE, "pstate") X(F_CLOCK_EVENT_REASONS, "clock_event_reasons") \
    X(F_SUPPORTED_EVENTS, "supported_events") \
    X(F_PCIE_TX, "pcie.tx_kbps") X(F_PCIE_RX, "pcie.rx_kbps") \
    X(F_PCIE_GEN, "pcie.gen") X(F_PCIE_WIDTH, "pcie.width") \
    X(F_PCIE_MAX_GEN, "pcie.max_gen") X(F_PCIE_MAX_WIDTH, "pcie.max_width") \
    X(F_LOSE_AFTER, "lose_after")

enum field_id {
#define FIELD_ENUM(id, key) id,
    DEVICE_FIELDS(FIELD_ENUM)
#undef FIELD_ENUM
    FIELD_COUNT
};

static const char *const field_keys[FIELD_COUNT] = {
#define FIELD_KEY(id, key) key,
    DEVICE_FIELDS(FIELD_KEY)
#undef FIELD_KEY
};

/* ---------------------------------------------------------------------------------------
 * State
 * --------------------------------------------------------------------------------------- */

#define MAX_DEVICES 8
#define MAX_PROCESSES 1024
#define MAX_SAMPLES 256
#define MAX_QUEUED_EVENTS 64
#define STR_LEN 96

struct process {
    unsigned int pid;
    int kinds; /* 1 compute, 2 graphics */
    unsigned long long bytes; /* NVML_VALUE_NOT_AVAILABLE when unknown */
};

struct process_sample {
    unsigned int pid;
    unsigned long long timestamp;
    unsigned int sm, mem, enc, dec;
};

/* A device handle (nvmlDevice_t) points at one of these inside the live scenario. */
struct nvmlDevice_st {
    char name[STR_LEN], uuid[STR_LEN], serial[STR_LEN], vbios[STR_LEN], bus_id[STR_LEN];
    unsigned int pci_domain, pci_bus, pci_device;
    unsigned long long field[FIELD_COUNT];
    unsigned char has[FIELD_COUNT];
    struct process processes[MAX_PROCESSES];
    int process_count;
    struct process_sample samples[MAX_SAMPLES];
    int sample_count;
    int returns[CALL_COUNT];
    /* runtime */
    int lost;
    long long calls_until_lost; /* -1: never */
    int grow_per_query, grow_times;
    unsigned int next_grown_pid;
};

struct scenario {
    int loaded;
    char driver_version[STR_LEN], nvml_version[STR_LEN];
    int has_cuda_version;
    int cuda_version;
    int device_count;
    int returns[CALL_COUNT];
    struct nvmlDevice_st devices[MAX_DEVICES];
};

struct queued_event {
    int device;
    unsigned long long type, data;
};

struct nvmlEventSet_st {
    unsigned long long registered[MAX_DEVICES];
    struct queued_event queue[MAX_QUEUED_EVENTS];
    int head, count;
    struct nvmlEventSet_st *next;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond; /* CLOCK_MONOTONIC; events, blocking, release */

static struct scenario S;
static char scenario_path[4096];
static int init_count;
static unsigned long long call_counts[CALL_COUNT];
static long long block_millis[CALL_COUNT];
static unsigned long release_generation[CALL_COUNT];
static int blocked_threads[CALL_COUNT];
static struct nvmlEventSet_st *event_sets;
static char last_error[512];

__attribute__((constructor)) static void fake_nvml_start(void) {
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&cond, &attr);
    pthread_condattr_destroy(&attr);
}

static void set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void set_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
}

static struct timespec deadline_after(long long millis) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    t.tv_sec += (time_t)(millis / 1000);
    t.tv_nsec += (long)(millis % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec += 1;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

static int find_call(const char *name) {
    for (int i = 0; i < CALL_COUNT; i++) {
        if (strcmp(call_names[i], name) == 0) {
            return i;
        }
    }
    return -1;
}

/* ---------------------------------------------------------------------------------------
 * Scenario parsing
 * --------------------------------------------------------------------------------------- */

static char *trim(char *s) {
    while (isspace((unsigned char)*s)) {
        s++;
    }
    char *end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1])) {
        *--end = '\0';
    }
    return s;
}

static int parse_u64(const char *s, unsigned long long *out) {
    if (*s == '\0' || *s == '-') {
        return -1;
    }
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno != 0 || end == s) {
        return -1;
    }
    while (isspace((unsigned char)*end)) {
        end++;
    }
    unsigned long long unit = 1;
    if (strcmp(end, "KiB") == 0) {
        unit = 1ULL << 10;
    } else if (strcmp(end, "MiB") == 0) {
        unit = 1ULL << 20;
    } else if (strcmp(end, "GiB") == 0) {
        unit = 1ULL << 30;
    } else if (*end != '\0') {
        return -1;
    }
    *out = v * unit;
    return 0;
}

static int parse_code(const char *s, int *out) {
    static const struct { const char *name; int code; } codes[] = {
        {"SUCCESS", 0}, {"UNINITIALIZED", 1}, {"INVALID_ARGUMENT", 2}, {"NOT_SUPPORTED", 3},
        {"NO_PERMISSION", 4}, {"ALREADY_INITIALIZED", 5}, {"NOT_FOUND", 6},
        {"INSUFFICIENT_SIZE", 7}, {"INSUFFICIENT_POWER", 8}, {"DRIVER_NOT_LOADED", 9},
        {"TIMEOUT", 10}, {"IRQ_ISSUE", 11}, {"LIBRARY_NOT_FOUND", 12},
        {"FUNCTION_NOT_FOUND", 13}, {"CORRUPTED_INFOROM", 14}, {"GPU_IS_LOST", 15},
        {"RESET_REQUIRED", 16}, {"OPERATING_SYSTEM", 17}, {"LIB_RM_VERSION_MISMATCH", 18},
        {"IN_USE", 19}, {"MEMORY", 20}, {"NO_DATA", 21}, {"ARGUMENT_VERSION_MISMATCH", 25},
        {"UNKNOWN", 999},
    };
    const char *name = s;
    if (strncmp(name, "NVML_ERROR_", 11) == 0) {
        name += 11;
    } else if (strcmp(name, "NVML_SUCCESS") == 0) {
        name = "SUCCESS";
    }
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        if (strcmp(codes[i].name, name) == 0) {
            *out = codes[i].code;
            return 0;
        }
    }
    unsigned long long v;
    if (parse_u64(s, &v) == 0 && v <= 100000) {
        *out = (int)v;
        return 0;
    }
    return -1;
}

static int parse_brand(const char *s, unsigned long long *out) {
    static const char *const brands[] = {
        "UNKNOWN", "QUADRO", "TESLA", "NVS", "GRID", "GEFORCE", "TITAN", "NVIDIA_VAPPS",
        "NVIDIA_VPC", "NVIDIA_VCS", "NVIDIA_VWS", "NVIDIA_CLOUD_GAMING", "QUADRO_RTX",
        "NVIDIA_RTX", "NVIDIA", "GEFORCE_RTX", "TITAN_RTX",
    };
    for (size_t i = 0; i < sizeof brands / sizeof brands[0]; i++) {
        if (strcmp(brands[i], s) == 0) {
            *out = i;
            return 0;
        }
    }
    return parse_u64(s, out);
}

static int copy_string(char *dst, const char *value, const char *key) {
    if (strlen(value) >= STR_LEN) {
        set_error("%s: value longer than %d characters", key, STR_LEN - 1);
        return -1;
    }
    strcpy(dst, value);
    return 0;
}

static void remove_process(struct nvmlDevice_st *d, unsigned int pid) {
    for (int i = 0; i < d->process_count; i++) {
        if (d->processes[i].pid == pid) {
            memmove(&d->processes[i], &d->processes[i + 1],
                    (size_t)(d->process_count - i - 1) * sizeof d->processes[0]);
            d->process_count--;
            return;
        }
    }
}

static int put_process(struct nvmlDevice_st *d, unsigned int pid, int kinds, unsigned long long bytes) {
    if (pid == 0 || kinds < 1 || kinds > 3) {
        set_error("process needs a pid > 0 and kinds 1 (compute), 2 (graphics) or 3 (both)");
        return -1;
    }
    for (int i = 0; i < d->process_count; i++) {
        if (d->processes[i].pid == pid) {
            d->processes[i].kinds = kinds;
            d->processes[i].bytes = bytes;
            return 0;
        }
    }
    if (d->process_count == MAX_PROCESSES) {
        set_error("more than %d processes on one device", MAX_PROCESSES);
        return -1;
    }
    d->processes[d->process_count++] = (struct process){pid, kinds, bytes};
    return 0;
}

static int put_sample(struct nvmlDevice_st *d, struct process_sample s) {
    if (d->sample_count == MAX_SAMPLES) {
        set_error("more than %d process samples on one device", MAX_SAMPLES);
        return -1;
    }
    d->samples[d->sample_count++] = s;
    return 0;
}

static int parse_pid(const char *s, unsigned int *pid) {
    unsigned long long v;
    if (parse_u64(s, &v) != 0 || v == 0 || v > 0xFFFFFFFFULL) {
        return -1;
    }
    *pid = (unsigned int)v;
    return 0;
}

static void device_defaults(struct nvmlDevice_st *d) {
    d->calls_until_lost = -1;
    d->next_grown_pid = 70000;
}

/* Applies one "key = value" to `sc`; an empty value removes. 0 ok, -1 with last_error set. */
static int apply(struct scenario *sc, const char *key, const char *value, int may_add_devices) {
    int removing = value[0] == '\0';
    if (strcmp(key, "driver_version") == 0) {
        return copy_string(sc->driver_version, value, key);
    }
    if (strcmp(key, "nvml_version") == 0) {
        return copy_string(sc->nvml_version, value, key);
    }
    if (strcmp(key, "cuda_driver_version") == 0) {
        unsigned long long v = 0;
        if (!removing && (parse_u64(value, &v) != 0 || v > 1000000)) {
            set_error("%s: not a version number: '%s'", key, value);
            return -1;
        }
        sc->has_cuda_version = !removing;
        sc->cuda_version = (int)v;
        return 0;
    }
    int *returns = sc->returns;
    const char *rest = key;
    struct nvmlDevice_st *d = NULL;
    if (strncmp(key, "device.", 7) == 0) {
        char *end;
        long n = strtol(key + 7, &end, 10);
        if (end == key + 7 || *end != '.' || n < 0 || n >= MAX_DEVICES) {
            set_error("%s: expected device.<0..%d>.<key>", key, MAX_DEVICES - 1);
            return -1;
        }
        if (n >= sc->device_count) {
            if (!may_add_devices) {
                set_error("%s: the scenario has %d device(s)", key, sc->device_count);
                return -1;
            }
            for (int i = sc->device_count; i <= n; i++) {
                device_defaults(&sc->devices[i]);
            }
            sc->device_count = (int)n + 1;
        }
        d = &sc->devices[n];
        returns = d->returns;
        rest = end + 1;
    }
    if (strncmp(rest, "return.", 7) == 0) {
        int call = find_call(rest + 7);
        int code = 0;
        if (call < 0) {
            set_error("%s: no call named %s", key, rest + 7);
            return -1;
        }
        if (!removing && parse_code(value, &code) != 0) {
            set_error("%s: not a return code: '%s'", key, value);
            return -1;
        }
        returns[call] = code;
        return 0;
    }
    if (d == NULL) {
        set_error("unknown key %s", key);
        return -1;
    }
    if (strcmp(rest, "name") == 0) {
        return copy_string(d->name, value, key);
    }
    if (strcmp(rest, "uuid") == 0) {
        return copy_string(d->uuid, value, key);
    }
    if (strcmp(rest, "serial") == 0) {
        return copy_string(d->serial, value, key);
    }
    if (strcmp(rest, "vbios") == 0) {
        return copy_string(d->vbios, value, key);
    }
    if (strcmp(rest, "pci.bus_id") == 0) {
        unsigned int domain, bus, device, function;
        char tail;
        if (!removing && sscanf(value, "%x:%x:%x.%x%c", &domain, &bus, &device, &function, &tail) != 4) {
            set_error("%s: expected DDDDDDDD:BB:DD.F, got '%s'", key, value);
            return -1;
        }
        d->pci_domain = removing ? 0 : domain;
        d->pci_bus = removing ? 0 : bus;
        d->pci_device = removing ? 0 : device;
        return copy_string(d->bus_id, value, key);
    }
    if (strcmp(rest, "compute_capability") == 0) {
        unsigned int major = 0, minor = 0;
        char tail;
        if (!removing && sscanf(value, "%u.%u%c", &major, &minor, &tail) != 2) {
            set_error("%s: expected <major>.<minor>, got '%s'", key, value);
            return -1;
        }
        d->has[F_CC_MAJOR] = d->has[F_CC_MINOR] = !removing;
        d->field[F_CC_MAJOR] = major;
        d->field[F_CC_MINOR] = minor;
        return 0;
    }
    if (strncmp(rest, "process.", 8) == 0) {
        unsigned int pid;
        if (parse_pid(rest + 8, &pid) != 0) {
            set_error("%s: not a pid", key);
            return -1;
        }
        if (removing) {
            remove_process(d, pid);
            return 0;
        }
        char kind[16], bytes[64], tail[2];
        if (sscanf(value, "%15s %63s %1s", kind, bytes, tail) != 2) {
            set_error("%s: expected 'compute|graphics|both <bytes|NA>', got '%s'", key, value);
            return -1;
        }
        int kinds = strcmp(kind, "compute") == 0 ? 1 : strcmp(kind, "graphics") == 0 ? 2
                  : strcmp(kind, "both") == 0 ? 3 : 0;
        unsigned long long b = NVML_VALUE_NOT_AVAILABLE;
        if (kinds == 0 || (strcmp(bytes, "NA") != 0 && parse_u64(bytes, &b) != 0)) {
            set_error("%s: expected 'compute|graphics|both <bytes|NA>', got '%s'", key, value);
            return -1;
        }
        return put_process(d, pid, kinds, b);
    }
    if (strncmp(rest, "process_sample.", 15) == 0) {
        struct process_sample s;
        char tail[2];
        if (parse_pid(rest + 15, &s.pid) != 0
            || sscanf(value, "%llu %u %u %u %u %1s", &s.timestamp, &s.sm, &s.mem, &s.enc, &s.dec, tail) != 5) {
            set_error("%s: expected '<timestamp_us> <sm> <mem> <enc> <dec>', got '%s'", key, value);
            return -1;
        }
        return put_sample(d, s);
    }
    for (int f = 0; f < FIELD_COUNT; f++) {
        if (strcmp(field_keys[f], rest) == 0) {
            unsigned long long v = 0;
            if (!removing) {
                int bad = f == F_BRAND ? parse_brand(value, &v) : parse_u64(value, &v);
                if (bad) {
                    set_error("%s: not a number: '%s'", key, value);
                    return -1;
                }
            }
            if (f == F_LOSE_AFTER) {
                d->calls_until_lost = removing ? -1 : (long long)v;
                return 0;
            }
            d->has[f] = !removing;
            d->field[f] = v;
            return 0;
        }
    }
    set_error("unknown key %s", key);
    return -1;
}

static int validate(const struct scenario *sc, const char *path) {
    if (sc->device_count == 0) {
        set_error("%s: no device.<n> keys", path);
        return -1;
    }
    for (int i = 0; i < sc->device_count; i++) {
        const struct nvmlDevice_st *d = &sc->devices[i];
        const char *missing = d->name[0] == '\0' ? "name" : d->uuid[0] == '\0' ? "uuid"
                            : d->bus_id[0] == '\0' ? "pci.bus_id" : !d->has[F_MEM_TOTAL] ? "memory.total" : NULL;
        if (missing != NULL) {
            set_error("%s: device.%d.%s is required", path, i, missing);
            return -1;
        }
        if (d->has[F_POWER_MIN_LIMIT] != d->has[F_POWER_MAX_LIMIT]) {
            set_error("%s: device.%d.power.min_limit_mw and power.max_limit_mw go together", path, i);
            return -1;
        }
    }
    return 0;
}

/* Parses `path` into a fresh scenario; NULL with last_error set on failure. */
static struct scenario *parse_file(const char *path) {
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        set_error("cannot open scenario %s: %s", path, strerror(errno));
        return NULL;
    }
    struct scenario *sc = calloc(1, sizeof *sc);
    if (sc == NULL) {
        fclose(f);
        set_error("out of memory");
        return NULL;
    }
    strcpy(sc->driver_version, "580.105.08");
    strcpy(sc->nvml_version, "13.580.105.08");
    char line[1024];
    int lineno = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        lineno++;
        char *s = trim(line);
        if (*s == '\0' || *s == '#') {
            continue;
        }
        char *eq = strchr(s, '=');
        if (eq == NULL) {
            set_error("%s:%d: expected key = value", path, lineno);
            goto fail;
        }
        *eq = '\0';
        char *key = trim(s);
        char *value = trim(eq + 1);
        if (*value == '\0') {
            set_error("%s:%d: %s has no value", path, lineno, key);
            goto fail;
        }
        if (apply(sc, key, value, 1) != 0) {
            char reason[sizeof last_error];
            strcpy(reason, last_error);
            set_error("%s:%d: %s", path, lineno, reason);
            goto fail;
        }
    }
    fclose(f);
    if (validate(sc, path) != 0) {
        free(sc);
        return NULL;
    }
    sc->loaded = 1;
    return sc;
fail:
    fclose(f);
    free(sc);
    return NULL;
}

/* Releases every blocked call; mu held. */
static void release_all(void) {
    for (int i = 0; i < CALL_COUNT; i++) {
        block_millis[i] = 0;
        release_generation[i]++;
    }
    pthread_cond_broadcast(&cond);
}

/* Installs a parsed scenario; mu held. Init count and live event sets survive. */
static void install(struct scenario *sc) {
    release_all();
    S = *sc;
    memset(call_counts, 0, sizeof call_counts);
    for (struct nvmlEventSet_st *set = event_sets; set != NULL; set = set->next) {
        set->head = set->count = 0;
    }
}

/* ---------------------------------------------------------------------------------------
 * Call entry: counting, blocking, faults
 * --------------------------------------------------------------------------------------- */

static void wait_if_blocked(int call) {
    if (block_millis[call] == 0) {
        return;
    }
    unsigned long generation = release_generation[call];
    blocked_threads[call]++;
    pthread_cond_broadcast(&cond);
    if (block_millis[call] > 0) {
        struct timespec until = deadline_after(block_millis[call]);
        while (release_generation[call] == generation) {
            if (pthread_cond_timedwait(&cond, &mu, &until) == ETIMEDOUT) {
                break;
            }
        }
    } else {
        while (release_generation[call] == generation) {
            pthread_cond_wait(&cond, &mu);
        }
    }
    blocked_threads[call]--;
}

/* Locks mu (the caller ends with end()), counts the call, blocks if told, applies global faults. */
static nvmlReturn_t begin(int call, int needs_init) {
    pthread_mutex_lock(&mu);
    call_counts[call]++;
    wait_if_blocked(call);
    if (needs_init && init_count == 0) {
        return NVML_ERROR_UNINITIALIZED;
    }
    return S.returns[call];
}

static struct nvmlDevice_st *device_of(nvmlDevice_t handle) {
    if (handle < S.devices || handle >= S.devices + S.device_count) {
        return NULL;
    }
    return handle;
}

/* GPU-lost accounting for one call on `d`; mu held. */
static nvmlReturn_t touch(struct nvmlDevice_st *d) {
    if (d->lost) {
        return NVML_ERROR_GPU_IS_LOST;
    }
    if (d->calls_until_lost == 0) {
        d->lost = 1;
        d->calls_until_lost = -1;
        return NVML_ERROR_GPU_IS_LOST;
    }
    if (d->calls_until_lost > 0) {
        d->calls_until_lost--;
    }
    return NVML_SUCCESS;
}

static nvmlReturn_t begin_device(int call, nvmlDevice_t handle, struct nvmlDevice_st **out) {
    nvmlReturn_t rc = begin(call, 1);
    if (rc == NVML_ERROR_UNINITIALIZED) {
        return rc;
    }
    struct nvmlDevice_st *d = device_of(handle);
    if (d == NULL) {
        return NVML_ERROR_INVALID_ARGUMENT;
    }
    nvmlReturn_t lost = touch(d);
    if (lost != NVML_SUCCESS) {
        return lost;
    }
    if (d->returns[call] != 0) {
        return d->returns[call];
    }
    *out = d;
    return rc;
}

static nvmlReturn_t end(nvmlReturn_t rc) {
    pthread_mutex_unlock(&mu);
    return rc;
}

static nvmlReturn_t get_u32(const struct nvmlDevice_st *d, int f, unsigned int *out) {
    if (out == NULL) {
        return NVML_ERROR_INVALID_ARGUMENT;
    }
    if (!d->has[f]) {
        return NVML_ERROR_NOT_SUPPORTED;
    }
    *out = (unsigned int)d->field[f];
    return NVML_SUCCESS;
}

static nvmlReturn_t get_string(const char *value, char *out, unsigned int length) {
    if (out == NULL) {
        return NVML_ERROR_INVALID_ARGUMENT;
    }
    if (value[0] == '\0') {
        return NVML_ERROR_NOT_SUPPORTED;
    }
    if (strlen(value) + 1 > length) {
        return NVML_ERROR_INSUFFICIENT_SIZE;
    }
    strcpy(out, value);
    return NVML_SUCCESS;
}

/* ---------------------------------------------------------------------------------------
 * NVML: system
 * --------------------------------------------------------------------------------------- */

EXPORT nvmlReturn_t nvmlInit_v2(void) {
    nvmlReturn_t rc = begin(C_nvmlInit_v2, 0);
    if (rc == NVML_SUCCESS && !S.loaded) {
        const char *path = getenv("FAKE_NVML_SCENARIO");
        if (path == NULL || path[0] == '\0') {
            fprintf(stderr, "fake libnvidia-ml: no scenario (set FAKE_NVML_SCENARIO or call fake_nvml_load_scenario)\n");
            rc = NVML_ERROR_DRIVER_NOT_LOADED;
        } else {
            struct scenario *sc = parse_file(path);
            if (sc == NULL) {
                fprintf(stderr, "fake libnvidia-ml: %s\n", last_error);
                rc = NVML_ERROR_UNKNOWN;
            } else {
                snprintf(scenario_path, sizeof scenario_path, "%s", path);
                install(sc);
                free(sc);
            }
        }
    }
    if (rc == NVML_SUCCESS) {
        init_count++;
    }
    return end(rc);
}

EXPORT nvmlReturn_t nvmlShutdown(void) {
    nvmlReturn_t rc = begin(C_nvmlShutdown, 1);
    if (rc == NVML_SUCCESS && --init_count == 0) {
        while (event_sets != NULL) {
            struct nvmlEventSet_st *next = event_sets->next;
            free(event_sets);
            event_sets = next;
        }
        pthread_cond_broadcast(&cond);
    }
    return end(rc);
}

EXPORT const char *nvmlErrorString(nvmlReturn_t result) {
    switch (result) {
    case NVML_SUCCESS: return "Success";
    case NVML_ERROR_UNINITIALIZED: return "Uninitialized";
    case NVML_ERROR_INVALID_ARGUMENT: return "Invalid Argument";
    case NVML_ERROR_NOT_SUPPORTED: return "Not Supported";
    case NVML_ERROR_NOT_FOUND: return "Not Found";
    case NVML_ERROR_INSUFFICIENT_SIZE: return "Insufficient Size";
    case NVML_ERROR_DRIVER_NOT_LOADED: return "Driver Not Loaded";
    case NVML_ERROR_TIMEOUT: return "Timeout";
    case NVML_ERROR_GPU_IS_LOST: return "GPU is lost";
    default: return "Unknown Error";
    }
}

EXPORT nvmlReturn_t nvmlSystemGetDriverVersion(char *version, unsigned int length) {
    nvmlReturn_t rc = begin(C_nvmlSystemGetDriverVersion, 1);
    if (rc == NVML_SUCCESS) {
        rc = get_string(S.driver_version, version, length);
    }
    return end(rc);
}

EXPORT nvmlReturn_t nvmlSystemGetNVMLVersion(char *version, unsigned int length) {
    nvmlReturn_t rc = begin(C_nvmlSystemGetNVMLVersion, 1);
    if (rc == NVML_SUCCESS) {
        rc = get_string(S.nvml_version, version, length);
    }
    return end(rc);
}

static nvmlReturn_t cuda_version(int call, int *version) {
    nvmlReturn_t rc = begin(call, 0); /* answers without nvmlInit, as the real call does */
    if (rc == NVML_SUCCESS) {
        rc = version == NULL ? NVML_ERROR_INVALID_ARGUMENT
           : !S.has_cuda_version ? NVML_ERROR_NOT_SUPPORTED : NVML_SUCCESS;
        if (rc == NVML_SUCCESS) {
            *version = S.cuda_version;
        }
    }
    return end(rc);
}

EXPORT nvmlReturn_t nvmlSystemGetCudaDriverVersion(int *version) {
    return cuda_version(C_nvmlSystemGetCudaDriverVersion, version);
}

#ifndef FAKE_NVML_V1_ONLY
EXPORT nvmlReturn_t nvmlSystemGetCudaDriverVersion_v2(int *version) {
    return cuda_version(C_nvmlSystemGetCudaDriverVersion_v2, version);
}
#endif

static nvmlReturn_t device_count(int call, unsigned int *count) {
    nvmlReturn_t rc = begin(call, 1);
    if (rc == NVML_SUCCESS) {
        if (count == NULL) {
            rc = NVML_ERROR_INVALID_ARGUMENT;
        } else {
            *count = (unsigned int)S.device_count;
        }
    }
    return end(rc);
}

EXPORT nvmlReturn_t nvmlDeviceGetCount(unsigned int *count) {
    return device_count(C_nvmlDeviceGetCount, count);
}

#ifndef FAKE_NVML_V1_ONLY
EXPORT nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int *count) {
    return device_count(C_nvmlDeviceGetCount_v2, count);
}
#endif

static nvmlReturn_t handle_by_index(int call, unsigned int index, nvmlDevice_t *device) {
    nvmlReturn_t rc = begin(call, 1);
    if (rc == NVML_ERROR_UNINITIALIZED) {
        return end(rc);
    }
    if (device == NULL || index >= (unsigned int)S.device_count) {
        return end(NVML_ERROR_INVALID_ARGUMENT);
    }
    struct nvmlDevice_st *d = &S.devices[index];
    if (d->lost) {
        return end(NVML_ERROR_GPU_IS_LOST);
    }
    if (d->returns[call] != 0) {
        return end(d->returns[call]);
    }
    if (rc == NVML_SUCCESS) {
        *device = d;
    }
    return end(rc);
}

EXPORT nvmlReturn_t nvmlDeviceGetHandleByIndex(unsigned int index, nvmlDevice_t *device) {
    return handle_by_index(C_nvmlDeviceGetHandleByIndex, index, device);
}

#ifndef FAKE_NVML_V1_ONLY
EXPORT nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t *device) {
    return handle_by_index(C_nvmlDeviceGetHandleByIndex_v2, index, device);
}
#endif

/* ---------------------------------------------------------------------------------------
 * NVML: device identity
 * --------------------------------------------------------------------------------------- */

EXPORT nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t device, char *uuid, unsigned int length) {
    struct nvmlDevice_st *d;
    nvmlReturn_t rc = begin_device(C_nvmlDeviceGetUUID, device, &d);
    if (rc == NVML_SUCCESS) {
        rc = get_string(d->uuid, uuid, length);
    }
    return end(rc);
}

EXPORT nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t device, char *name, unsigned int length) {
    struct nvmlDevice_st *d;
    nvmlReturn_t rc = begin_device(C_nvmlDeviceGetName, device, &d);
    if (rc == NVML_SUCCESS) {
        rc = get_string(d->name, name, length);
    }
    return end(rc);
}

EXPORT nvmlReturn_t nvmlDeviceGetBrand(nvmlDevice_t device, int *type) {
    struct nvmlDevice_st *d;
    nvmlReturn_t rc = begin_device(C_nvmlDeviceGetBrand, device, &d);
    if (rc == NVML_SUCCESS) {
        rc = get_u32(d, F_BRAND, (unsigned int *)type);
    }
    return end(rc);
}

static nvmlReturn_t pci_info(int call, nvmlDevice_t device, nvmlPciInfo_t *pci) {
    struct nvmlDevice_st *d;
    nvmlReturn_t rc = begin_device(call, device, &d);
    if (rc == NVML_SUCCESS) {
        if (pci == NULL) {
            rc = NVML_ERROR_INVALID_ARGUMENT;
        } else {
            memset(pci, 0, sizeof *pci);
            snprintf(pci->busIdLegacy, sizeof pci->busIdLegacy, "%04x:%02x:%02x.0",
                     d->pci_domain & 0xffffu, d->pci_bus & 0xffu, d->pci_device & 0xffu);
            pci->domain = d->pci_domain;
            pci->bus = d->pci_bus;
            pci->device = d->pci_device;
            pci->pciDeviceId = (unsigned int)d->field[F_PCI_DEVICE_ID];
            pci->pciSubSystemId = (unsigned int)d->field[F_PCI_SUBSYSTEM_ID];
            snprintf(pci->busId, sizeof pci->busId, "%.31s", d->bus_id);
        }
    }
    return end(rc);
}

EXPORT nvmlReturn_t nvmlDeviceGetPciInfo_v2(nvmlDevice_t device, nvmlPciInfo_t *pci) {
    return pci_info(C_nvmlDeviceGetPciInfo_v2, device, pci);
}

#ifndef FAKE_NVML_V1_ONLY
EXPORT nvmlReturn_t nvmlDeviceGetPciInfo_v3(nvmlDevice_t device, nvmlPciInfo_t *pci) {
    return pci_info(C_nvmlDeviceGetPciInfo_v3, device, pci);
}
#endif

EXPORT nvmlReturn_t nvmlDeviceGetSerial(nvmlDevice_t device, char *serial, unsigned int length) {
    struct nvmlDevice_st *d;
    nvmlReturn_t rc = begin_device(C_nvmlDeviceGetSerial, device, &d);
    if (rc == NVML_SUCCESS) {
        rc = get_string(d->serial, serial, length);
    }
    return end(rc);
}

EXPORT nvmlReturn_t nvmlDeviceGetVbiosVersion(nvmlDevice_t device, char *version, unsigned int length) {
    struct nvmlDevice_st *d;
    nvmlReturn_t rc = begin_device(C_nvmlDeviceGetVbiosVersion, device, &d);
    if (rc == NVML_SUCCESS) {
        rc = get_string(d->vbios, version, length);
    }
    return end(rc);
}

EXPORT nvmlReturn_t nvmlDeviceGetCudaComputeCapability(nvmlDevice_t device, int *major, int *minor) {
    struct nvmlDevice_st *d;
    nvmlReturn_t rc = begin_device(C_nvmlDeviceGetCudaComputeCapability, device, &d);
    if (rc == NVML_SUCCESS && minor == NULL) {
        rc = NVML_ERROR_INVALID_ARGUMENT;
    }
    if (rc == NVML_SUCCESS) {
        rc = get_u32(d, F_CC_MAJOR, (unsigned int *)major);
    }
    if (rc == NVML_SUCCESS) {
        *minor = (int)d->field[F_CC_MINOR];
    }
    return end(rc);
}

/* ---------------------------------------------------------------------------------------
 * NVML: memory and utilization
 * --------------------------------------------------------------------------------------- */

/* Reported use: the scenario's unattributed use plus every process's bytes, capped at what fits. */
static void memory_figures(const struct nvmlDevice_st *d, unsigned long long *reserved,
                           unsigned long long *used, unsigned long long *free) {
    unsigned long long total = d->field[F_MEM_TOTAL];
    unsigned long long r = d->has[F_MEM_RESERVED] ? d->field[F_MEM_RESERVED] : 0;
    unsigned long long u = d->has[F_MEM_USED] ? d->field[F_MEM_USED] : 0;
    for (int i = 0; i < d->process_count; i++) {
        if (d->processes[i].bytes != NVML_VALUE_NOT_AVAILABLE) {
            u += d->processes[i].bytes;
        }
    }
    if (r > total) {
        r = total;
    }
    if (u > total - r) {
        u = total - r;
    }
    *reserved = r;
    *used = u;
    *free = total - r - u;
}

EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t device, nvmlMemory_t *memory) {
    struct nvmlDevice_st *d;
    nvmlReturn_t rc = begin_device(C_nvmlDeviceGetMemoryInfo, device, &d);
    if (rc == NVML_SUCCESS) {
        if (memory == NULL) {
            rc = NVML_ERROR_INVALID_ARGUMENT;
        } else {
            unsigned long long reserved, used, free;
            memory_figures(d, &reserved, &used, &free);
            memory->total = d->field[F_MEM_TOTAL];
            memory->used = used + reserved; /* v1 counts reserved memory as used */
            memory->free = free;
        }
    }
    return end(rc);
}

#if !defined(FAKE_NVML_NO_MEMORY_V2) && !defined(FAKE_NVML_V1_ONLY)
EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t device, nvmlMemory_v2_t *memory) {
    struct nvmlDevice_st *d;
    nvmlReturn_t rc = begin_device(C_nvmlDeviceGetMemoryInfo_v2, device, &d);
    if (rc == NVML_SUCCESS) {
        if (memory == NULL) {
            rc = NVML_ERROR_INVALID_ARGUMENT;
        } else if (memory->version != NVML_MEMORY_V2_VERSION) {
            rc = NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
        } else {
            memory->total = d->field[F_MEM_TOTAL];
            memory_figures(d, &memory->reserved, &memory->used, &memory->free);
        }
    }
    return end(rc);
}
#endif

EXPORT nvmlReturn_t nvmlDeviceGetBAR1MemoryInfo(nvmlDevice_t device, nvmlBAR1Memory_t *bar1) {
    struct nvmlDevice_st *d;
    nvmlReturn_t rc = begin_device(C_nvmlDeviceGetBAR1MemoryInfo, device, &d);
    if (rc == NVML_SUCCESS) {
        rc = bar1 == NULL ? NVML_ERROR_INVALID_ARGUMENT
           : !d->has[F_BAR1_TOTAL] ? NVML_ERROR_NOT_SUPPORTED : NVML_SUCCESS;
    }
    if (rc == NVML_SUCCESS) {
        unsigned long long used = d->field[F_BAR1_USED];
        bar1->bar1Total = d->field[F_BAR1_TOTAL];
        bar1->bar1Used = used > bar1->bar1Total ? bar1->bar1Total : used;
        bar1->bar1Free = bar1->bar1Total - bar1->bar1Used;
    }
    return end(rc);
}

EXPORT nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t device, nvmlUtilization_t *utilization) {
    struct nvmlDevice_st *d;
    nvmlReturn_t rc = begin_device(C_nvmlDeviceGetUtilizationRates, device, &d);
    if (rc == NVML_SUCCESS) {
        rc = utilization == NULL ? NVML_ERROR_INVALID_ARGUMENT
           : get_u32(d, F_UTIL_GPU, &utilization->gpu);
    }
    if (rc == NVML_SUCCESS) {
        rc = get_u32(d, F_UTIL_MEMORY, &utilization->memory);
    }
    return end(rc);
}

static nvmlReturn_t engine_utilization(int call, int util_field, nvmlDevice_t device,
                                       unsigned int *utilization, unsigned int *sampling_us) {
    struct nvmlDevice_st *d;
    nvmlReturn_t rc = begin_device(call, device, &d);
    if (rc == NVML_SUCCESS) {
        rc = get_u32(d, util_field, utilization);
    }
    if (rc == NVML_SUCCESS) {
        rc = get_u32(d, util_field + 1, sampling_us);
    }
    return end(rc);
}

EXPORT nvmlReturn_t nvmlDeviceGetEncoderUtilization(nvmlDevice_t device, unsigned int *utilization,
                                                    unsigned int *sampling_us) {
    return engine_utilization(C_nvmlDeviceGetEncoderUtilization, F_ENC_UTIL, device, utilization, sampling_us);
}

EXPORT nvmlReturn_t nvmlDeviceGetDecoderUtilization(nvmlDevice_t device, unsigned int *utilization,
                                                    unsigned int *sampling_us) {
    return engine_utilization(C_nvmlDeviceGetDecoderUtilization, F_DEC_UTIL, device, utilization, sampling_us);
}

EXPORT nvmlReturn_t nvmlDeviceGetEncoderStats(nvmlDevice_t device, unsigned int *sessions,
                                              unsigned int *fps, unsigned int *latency_us) {
    struct nvmlDevice_st *d;
    nvmlReturn_t rc = begin_device(C_nvmlDeviceGetEncoderStats, device, &d);
    if (rc == NVML_SUCCESS) {
        rc = get_u32(d, F_ENC_SESSIONS, sessions);
    }
    if (rc == NVML_SUCCESS) {
        rc = get_u32(d, F_ENC_FPS, fps);
    }
    if (rc == NVML_SUCCESS) {
        rc = get_u32(d, F_ENC_LATENCY, latency_us);
    }
    return end(rc);
}

/* ---------------------------------------------------------------------------------------
 * NVML: thermals, power, clocks, PCIe
 * --------------------------------------------------------------------------------------- */

static nvmlReturn_t simple_u32(int call, int field, nvmlDevice_t device, unsigned int *out) {
    struct nvmlDevice_st *d;
    nvmlReturn_t rc = begin_device(call, device, &d);
    if (rc == NVML_SUCCESS) {
        rc = get_u32(d, field, out);
    }
    return end(rc);
}

/* A call taking an enum selecting one of `count` consecutive fields starting at `first`. */
static nvmlReturn_t indexed_u32(int call, int first, int count, nvmlDevice_t device,
                                int which, unsigned int *out) {
    struct nvmlDevice_st *d;
    nvmlReturn_t rc = begin_device(call, device, &d);
    if (rc == NVML_SUCCESS) {
        rc = which < 0 || which >= count ? NVML_ERROR_INVALID_ARGUMENT : get_u32(d, first + which, out);
    }
    return end(rc);
}

EXPORT nvmlReturn_t nvmlDeviceGetTemperature(nvmlDevice_t device, int sensor, unsigned int *temp) {
    return indexed_u32(C_nvmlDeviceGetTemperature, F_TEMP, 1, device, sensor, temp);
}

EXPORT nvmlReturn_t nvmlDeviceGetTemperatureThreshold(nvmlDevice_t device, int threshold, unsigned int *temp) {
    return indexed_u32(C_nvmlDeviceGetTemperatureThreshold, F_TEMP_SHUTDOWN, 4, device, threshold, temp);
}

EXPORT nvmlReturn_t nvmlDeviceGetFanSpeed(nvmlDevice_t device, unsigned int *speed) {
    return simple_u32(C_nvmlDeviceGetFanSpeed, F_FAN, device, speed);
}

EXPORT nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t device, unsigned int *power) {
    return simple_u32(C_nvmlDeviceGetPowerUsage, F_POWER_USAGE, device, power);
}

EXPORT nvmlReturn_t nvmlDeviceGetEnforcedPowerLimit(nvmlDevice_t device, unsigned int *limit) {
    return simple_u32(C_nvmlDeviceGetEnforcedPowerLimit, F_POWER_LIMIT, device, limit);
}

EXPORT nvmlReturn_t nvmlDeviceGetPowerManagementLimitConstraints(nvmlDevice_t device, unsigned int *minLimit,
                                                                 unsigned int *maxLimit) {
    struct nvmlDevice_st *d;
    nvmlReturn_t rc = begin_device(C_nvmlDeviceGetPowerManagementLimitConstraints, device, &d);
    if (rc == NVML_SUCCESS) {
        rc = minLimit == NULL || maxLimit == NULL ? NVML_ERROR_INVALID_ARGUMENT : get_u32(d, F_POWER_MIN_LIMIT, minLimit);
    }
    if (rc == NVML_SUCCESS) {
        rc = get_u32(d, F_POWER_MAX_LIMIT, maxLimit);
    }
    return end(rc);
}

EXPORT nvmlReturn_t nvmlDeviceGetPowerManagementDefaultLimit(nvmlDevice_t device, unsigned int *defaultLimit) {
    return simple_u32(C_nvmlDeviceGetPowerManagementDefaultLimit, F_POWER_DEFAULT_LIMIT, device, defaultLimit);
}

static nvmlReturn_t simple_u64(int call, int field, nvmlDevice_t device, unsigned long long *out) {
    struct nvmlDevice_st *d;
    nvmlReturn_t rc = begin_device(call, device, &d);
    if (rc == NVML_SUCCESS) {
        rc = out == NULL ? NVML_ERROR_INVALID_ARGUMENT : !d->has[field] ? NVML_ERROR_NOT_SUPPORTED : NVML_SUCCESS;
    }
    if (rc == NVML_SUCCESS) {
        *out = d->field[field];
    }
    return end(rc);
}

#if !defined(FAKE_NVML_NO_ENERGY)
EXPORT nvmlReturn_t nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_t device, unsigned long long *energy) {
    return simple_u64(C_nvmlDeviceGetTotalEnergyConsumption, F_ENERGY, device, energy);
}
#endif

EXPORT nvmlReturn_t nvmlDeviceGetClockInfo(nvmlDevice_t device, int type, unsigned int *clock) {
    return indexed_u32(C_nvmlDeviceGetClockInfo, F_CLOCK_GRAPHICS, 4, device, type, clock);
}

EXPORT nvmlReturn_t nvmlDeviceGetMaxClockInfo(nvmlDevice_t device, int type, unsigned int *clock) {
    return indexed_u32(C_nvmlDeviceGetMaxClockInfo, F_MAX_CLOCK_GRAPHICS, 4, device, type, clock);
}

EXPORT nvmlReturn_t nvmlDeviceGetPerformanceState(nvmlDevice_t device, int *pstate) {
    return simple_u32(C_nvmlDeviceGetPerformanceState, F_PSTATE, device, (unsigned int *)pstate);
}

#if !defined(FAKE_NVML_NO_CLOCKS_EVENT_REASONS) && !defined(FAKE_NVML_V1_ONLY)
EXPORT nvmlReturn_t nvmlDeviceGetCurrentClocksEventReasons(nvmlDevice_t device, unsigned long long *reasons) {
    return simple_u64(C_nvmlDeviceGetCurrentClocksEventReasons, F_CLOCK_EVENT_REASONS, device, reasons);
}
#endif

EXPORT nvmlReturn_t nvmlDeviceGetCurrentClocksThrottleReasons(nvmlDevice_t device, unsigned long long *reasons) {
    return simple_u64(C_nvmlDeviceGetCurrentClocksThrottleReasons, F_CLOCK_EVENT_REASONS, device, reasons);
}

EXPORT nvmlReturn_t nvmlDeviceGetPcieThroughput(nvmlDevice_t device, int counter, unsigned int *value) {
    return indexed_u32(C_nvmlDeviceGetPcieThroughput, F_PCIE_TX, 2, device, counter, value);
}

EXPORT nvmlReturn_t nvmlDeviceGetCurrPcieLinkGeneration(nvmlDevice_t device, unsigned int *gen) {
    return simple_u32(C_nvmlDeviceGetCurrPcieLinkGeneration, F_PCIE_GEN, device, gen);
}

EXPORT nvmlReturn_t nvmlDeviceGetCurrPcieLinkWidth(nvmlDevice_t device, unsigned int *width) {
    return simple_u32(C_nvmlDeviceGetCurrPcieLinkWidth, F_PCIE_WIDTH, device, width);
}

EXPORT nvmlReturn_t nvmlDeviceGetMaxPcieLinkGeneration(nvmlDevice_t device, unsigned int *gen) {
    return simple_u32(C_nvmlDeviceGetMaxPcieLinkGeneration, F_PCIE_MAX_GEN, device, gen);
}

EXPORT nvmlReturn_t nvmlDeviceGetMaxPcieLinkWidth(nvmlDevice_t device, unsigned int *width) {
    return simple_u32(C_nvmlDeviceGetMaxPcieLinkWidth, F_PCIE_MAX_WIDTH, device, width);
}

/* ---------------------------------------------------------------------------------------
 * NVML: processes
 * --------------------------------------------------------------------------------------- */

static void grow_after_size_answer(struct nvmlDevice_st *d) {
    if (d->grow_times <= 0) {
        return;
    }
    d->grow_times--;
    for (int i = 0; i < d->grow_per_query && d->process_count < MAX_PROCESSES; i++) {
        d->processes[d->process_count++] = (struct process){d->next_grown_pid++, 1, 1ULL << 20};
    }
}

/* The list protocol of nvmlDevice*RunningProcesses*: entries of `entry_size` bytes
 * (16 for v1, 24 for v2/v3: pid u32, pad, usedGpuMemory u64[, gpuInstanceId, computeInstanceId]). */
static nvmlReturn_t running_processes(int call, int kind, size_t entry_size, nvmlDevice_t device,
                                      unsigned int *count, void *infos) {
    struct nvmlDevice_st *d;
    nvmlReturn_t rc = begin_device(call, device, &d);
    if (rc != NVML_SUCCESS) {
        return end(rc);
    }
    if (count == NULL || (infos == NULL && *count != 0)) {
        return end(NVML_ERROR_INVALID_ARGUMENT);
    }
    unsigned int n = 0;
    for (int i = 0; i < d->process_count; i++) {
        n += (d->processes[i].kinds & kind) != 0;
    }
    if (*count < n) {
        *count = n;
        grow_after_size_answer(d);
        return end(NVML_ERROR_INSUFFICIENT_SIZE);
    }
    unsigned int written = 0;
    for (int i = 0; i < d->process_count; i++) {
        const struct process *p = &d->processes[i];
        if ((p->kinds & kind) == 0) {
            continue;
        }
        char *entry = (char *)infos + written * entry_size;
        memset(entry, 0, entry_size);
        memcpy(entry, &p->pid, sizeof p->pid);
        memcpy(entry + 8, &p->bytes, sizeof p->bytes);
        if (entry_size == sizeof(nvmlProcessInfo_v2_t)) {
            unsigned int no_mig = 0xFFFFFFFFu;
            memcpy(entry + 16, &no_mig, sizeof no_mig);
            memcpy(entry + 20, &no_mig, sizeof no_mig);
        }
        written++;
    }
    *count = written;
    return end(NVML_SUCCESS);
}

#define COMPUTE 1
#define GRAPHICS 2

EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses(nvmlDevice_t device, unsigned int *count,
                                                         nvmlProcessInfo_v1_t *infos) {
    return running_processes(C_nvmlDeviceGetComputeRunningProcesses, COMPUTE,
                             sizeof(nvmlProcessInfo_v1_t), device, count, infos);
}

EXPORT nvmlReturn_t nvmlDeviceGetGraphicsRunningProcesses(nvmlDevice_t device, unsigned int *count,
                                                          nvmlProcessInfo_v1_t *infos) {
    return running_processes(C_nvmlDeviceGetGraphicsRunningProcesses, GRAPHICS,
                             sizeof(nvmlProcessInfo_v1_t), device, count, infos);
}

#ifndef FAKE_NVML_V1_ONLY
EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v2(nvmlDevice_t device, unsigned int *count,
                                                            nvmlProcessInfo_v2_t *infos) {
    return running_processes(C_nvmlDeviceGetComputeRunningProcesses_v2, COMPUTE,
                             sizeof(nvmlProcessInfo_v2_t), device, count, infos);
}

EXPORT nvmlReturn_t nvmlDeviceGetGraphicsRunningProcesses_v2(nvmlDevice_t device, unsigned int *count,
                                                             nvmlProcessInfo_v2_t *infos) {
    return running_processes(C_nvmlDeviceGetGraphicsRunningProcesses_v2, GRAPHICS,
                             sizeof(nvmlProcessInfo_v2_t), device, count, infos);
}
#endif

#if !defined(FAKE_NVML_NO_PROCESSES_V3) && !defined(FAKE_NVML_V1_ONLY)
EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t device, unsigned int *count,
                                                            nvmlProcessInfo_v2_t *infos) {
    return running_processes(C_nvmlDeviceGetComputeRunningProcesses_v3, COMPUTE,
                             sizeof(nvmlProcessInfo_v2_t), device, count, infos);
}

EXPORT nvmlReturn_t nvmlDeviceGetGraphicsRunningProcesses_v3(nvmlDevice_t device, unsigned int *count,
                                                             nvmlProcessInfo_v2_t *infos) {
    return running_processes(C_nvmlDeviceGetGraphicsRunningProcesses_v3, GRAPHICS,
                             sizeof(nvmlProcessInfo_v2_t), device, count, infos);
}
#endif

/* Samples newer than last_seen; NVML_ERROR_NOT_FOUND when there is none (an idle GPU). */
EXPORT nvmlReturn_t nvmlDeviceGetProcessUtilization(nvmlDevice_t device, nvmlProcessUtilizationSample_t *samples,
                                                    unsigned int *count, unsigned long long last_seen) {
    struct nvmlDevice_st *d;
    nvmlReturn_t rc = begin_device(C_nvmlDeviceGetProcessUtilization, device, &d);
    if (rc != NVML_SUCCESS) {
        return end(rc);
    }
    if (count == NULL) {
        return end(NVML_ERROR_INVALID_ARGUMENT);
    }
    unsigned int n = 0;
    for (int i = 0; i < d->sample_count; i++) {
        n += d->samples[i].timestamp > last_seen;
    }
    if (n == 0) {
        *count = 0;
        return end(NVML_ERROR_NOT_FOUND);
    }
    if (samples == NULL || *count < n) {
        *count = n;
        return end(NVML_ERROR_INSUFFICIENT_SIZE);
    }
    unsigned int written = 0;
    for (int i = 0; i < d->sample_count; i++) {
        const struct process_sample *s = &d->samples[i];
        if (s->timestamp > last_seen) {
            samples[written++] = (nvmlProcessUtilizationSample_t){s->pid, s->timestamp, s->sm, s->mem, s->enc, s->dec};
        }
    }
    *count = written;
    return end(NVML_SUCCESS);
}

/* ---------------------------------------------------------------------------------------
 * NVML: events
 * --------------------------------------------------------------------------------------- */

static struct nvmlEventSet_st *live_set(nvmlEventSet_t set) {
    for (struct nvmlEventSet_st *s = event_sets; s != NULL; s = s->next) {
        if (s == set) {
            return s;
        }
    }
    return NULL;
}

EXPORT nvmlReturn_t nvmlEventSetCreate(nvmlEventSet_t *set) {
    nvmlReturn_t rc = begin(C_nvmlEventSetCreate, 1);
    if (rc == NVML_SUCCESS) {
        struct nvmlEventSet_st *s = set == NULL ? NULL : calloc(1, sizeof *s);
        if (s == NULL) {
            rc = set == NULL ? NVML_ERROR_INVALID_ARGUMENT : NVML_ERROR_UNKNOWN;
        } else {
            s->next = event_sets;
            event_sets = s;
            *set = s;
        }
    }
    return end(rc);
}

EXPORT nvmlReturn_t nvmlDeviceGetSupportedEventTypes(nvmlDevice_t device, unsigned long long *types) {
    return simple_u64(C_nvmlDeviceGetSupportedEventTypes, F_SUPPORTED_EVENTS, device, types);
}

EXPORT nvmlReturn_t nvmlDeviceRegisterEvents(nvmlDevice_t device, unsigned long long types, nvmlEventSet_t set) {
    struct nvmlDevice_st *d;
    nvmlReturn_t rc = begin_device(C_nvmlDeviceRegisterEvents, device, &d);
    if (rc == NVML_SUCCESS) {
        struct nvmlEventSet_st *s = live_set(set);
        unsigned long long supported = d->has[F_SUPPORTED_EVENTS] ? d->field[F_SUPPORTED_EVENTS] : 0;
        if (s == NULL) {
            rc = NVML_ERROR_INVALID_ARGUMENT;
        } else if (types == 0 || (types & ~supported) != 0) {
            rc = NVML_ERROR_NOT_SUPPORTED;
        } else {
            s->registered[d - S.devices] |= types;
        }
    }
    return end(rc);
}

static nvmlReturn_t event_wait(int call, nvmlEventSet_t set, nvmlEventData_t *data, size_t data_size,
                               unsigned int timeout_ms) {
    nvmlReturn_t rc = begin(call, 1);
    struct nvmlEventSet_st *s = live_set(set);
    if (rc == NVML_SUCCESS && (s == NULL || data == NULL)) {
        rc = NVML_ERROR_INVALID_ARGUMENT;
    }
    struct timespec until = deadline_after(timeout_ms);
    while (rc == NVML_SUCCESS) {
        for (int i = 0; i < S.device_count; i++) {
            if (s->registered[i] != 0 && S.devices[i].lost) {
                rc = NVML_ERROR_GPU_IS_LOST;
            }
        }
        if (rc != NVML_SUCCESS) {
            break;
        }
        if (s->count > 0) {
            struct queued_event e = s->queue[s->head];
            s->head = (s->head + 1) % MAX_QUEUED_EVENTS;
            s->count--;
            nvmlEventData_t out = {&S.devices[e.device], e.type, e.data, 0xFFFFFFFFu, 0xFFFFFFFFu};
            memcpy(data, &out, data_size);
            break;
        }
        /* Like the driver, a zero timeout polls: no trip through the kernel's timer (which
         * costs about 100 us on a VM and would dominate a whole sample). */
        if (timeout_ms == 0 || pthread_cond_timedwait(&cond, &mu, &until) == ETIMEDOUT) {
            rc = NVML_ERROR_TIMEOUT;
        } else if (live_set(set) == NULL) {
            rc = NVML_ERROR_UNINITIALIZED; /* freed underneath us by the last nvmlShutdown */
        }
    }
    return end(rc);
}

/* The v1 call fills only {device, eventType, eventData}. */
EXPORT nvmlReturn_t nvmlEventSetWait(nvmlEventSet_t set, nvmlEventData_t *data, unsigned int timeout_ms) {
    return event_wait(C_nvmlEventSetWait, set, data, offsetof(nvmlEventData_t, gpuInstanceId), timeout_ms);
}

#ifndef FAKE_NVML_V1_ONLY
EXPORT nvmlReturn_t nvmlEventSetWait_v2(nvmlEventSet_t set, nvmlEventData_t *data, unsigned int timeout_ms) {
    return event_wait(C_nvmlEventSetWait_v2, set, data, sizeof(nvmlEventData_t), timeout_ms);
}
#endif

EXPORT nvmlReturn_t nvmlEventSetFree(nvmlEventSet_t set) {
    nvmlReturn_t rc = begin(C_nvmlEventSetFree, 1);
    if (rc == NVML_SUCCESS) {
        rc = NVML_ERROR_INVALID_ARGUMENT;
        for (struct nvmlEventSet_st **p = &event_sets; *p != NULL; p = &(*p)->next) {
            if (*p == set) {
                *p = set->next;
                free(set);
                rc = NVML_SUCCESS;
                break;
            }
        }
        pthread_cond_broadcast(&cond);
    }
    return end(rc);
}

/* ---------------------------------------------------------------------------------------
 * Control API (tests)
 * --------------------------------------------------------------------------------------- */

EXPORT const char *fake_nvml_last_error(void) {
    return last_error;
}

EXPORT const char *fake_nvml_variant(void) {
#if defined(FAKE_NVML_V1_ONLY)
    return "v1";
#elif defined(FAKE_NVML_NO_MEMORY_V2)
    return "r470";
#else
    return "r580";
#endif
}

EXPORT int fake_nvml_load_scenario(const char *path) {
    if (path == NULL) {
        set_error("no scenario path");
        return -1;
    }
    struct scenario *sc = parse_file(path);
    if (sc == NULL) {
        return -1;
    }
    pthread_mutex_lock(&mu);
    snprintf(scenario_path, sizeof scenario_path, "%s", path);
    install(sc);
    pthread_mutex_unlock(&mu);
    free(sc);
    return 0;
}

EXPORT int fake_nvml_reset(void) {
    char path[sizeof scenario_path];
    pthread_mutex_lock(&mu);
    snprintf(path, sizeof path, "%s", scenario_path);
    pthread_mutex_unlock(&mu);
    if (path[0] == '\0') {
        set_error("no scenario was loaded");
        return -1;
    }
    return fake_nvml_load_scenario(path);
}

EXPORT int fake_nvml_set(const char *key, const char *value) {
    if (key == NULL || value == NULL) {
        set_error("key and value are required");
        return -1;
    }
    pthread_mutex_lock(&mu);
    int rc = S.loaded ? apply(&S, key, value, 0) : -1;
    if (!S.loaded) {
        set_error("load a scenario first");
    }
    pthread_mutex_unlock(&mu);
    return rc;
}

static int call_arg(const char *call) {
    int id = call == NULL ? -1 : find_call(call);
    if (id < 0) {
        set_error("the fake libnvidia-ml has no call named %s", call == NULL ? "(null)" : call);
    }
    return id;
}

static struct nvmlDevice_st *device_arg(int device) {
    if (device < 0 || device >= S.device_count) {
        set_error("no device %d (the scenario has %d)", device, S.device_count);
        return NULL;
    }
    return &S.devices[device];
}

EXPORT int fake_nvml_set_return(const char *call, int code) {
    int id = call_arg(call);
    if (id < 0) {
        return -1;
    }
    pthread_mutex_lock(&mu);
    S.returns[id] = code;
    pthread_mutex_unlock(&mu);
    return 0;
}

EXPORT int fake_nvml_set_device_return(int device, const char *call, int code) {
    int id = call_arg(call);
    if (id < 0) {
        return -1;
    }
    pthread_mutex_lock(&mu);
    struct nvmlDevice_st *d = device_arg(device);
    if (d != NULL) {
        d->returns[id] = code;
    }
    pthread_mutex_unlock(&mu);
    return d == NULL ? -1 : 0;
}

EXPORT int fake_nvml_lose_gpu_after(int device, long long calls) {
    pthread_mutex_lock(&mu);
    struct nvmlDevice_st *d = device_arg(device);
    if (d != NULL && calls <= 0) {
        d->lost = 1;
        d->calls_until_lost = -1;
        pthread_cond_broadcast(&cond); /* event waits on this GPU end */
    } else if (d != NULL) {
        d->calls_until_lost = calls;
    }
    pthread_mutex_unlock(&mu);
    return d == NULL ? -1 : 0;
}

EXPORT int fake_nvml_recover_gpu(int device) {
    pthread_mutex_lock(&mu);
    struct nvmlDevice_st *d = device_arg(device);
    if (d != NULL) {
        d->lost = 0;
        d->calls_until_lost = -1;
    }
    pthread_mutex_unlock(&mu);
    return d == NULL ? -1 : 0;
}

EXPORT int fake_nvml_block(const char *call, long long millis) {
    int id = call_arg(call);
    if (id < 0) {
        return -1;
    }
    pthread_mutex_lock(&mu);
    block_millis[id] = millis;
    pthread_mutex_unlock(&mu);
    return 0;
}

EXPORT int fake_nvml_release(const char *call) {
    int id = call_arg(call);
    if (id < 0) {
        return -1;
    }
    pthread_mutex_lock(&mu);
    block_millis[id] = 0;
    release_generation[id]++;
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&mu);
    return 0;
}

EXPORT int fake_nvml_await_blocked(const char *call, long long timeout_ms) {
    int id = call_arg(call);
    if (id < 0) {
        return -1;
    }
    pthread_mutex_lock(&mu);
    struct timespec until = deadline_after(timeout_ms);
    while (blocked_threads[id] == 0) {
        if (pthread_cond_timedwait(&cond, &mu, &until) == ETIMEDOUT) {
            break;
        }
    }
    int n = blocked_threads[id];
    pthread_mutex_unlock(&mu);
    return n;
}

EXPORT long long fake_nvml_call_count(const char *call) {
    int id = call_arg(call);
    if (id < 0) {
        return -1;
    }
    pthread_mutex_lock(&mu);
    long long n = (long long)call_counts[id];
    pthread_mutex_unlock(&mu);
    return n;
}

EXPORT int fake_nvml_queue_event(int device, unsigned long long type, unsigned long long data) {
    pthread_mutex_lock(&mu);
    int delivered = device_arg(device) == NULL ? -1 : 0;
    for (struct nvmlEventSet_st *s = event_sets; s != NULL && delivered >= 0; s = s->next) {
        if ((s->registered[device] & type) != 0 && s->count < MAX_QUEUED_EVENTS) {
            s->queue[(s->head + s->count) % MAX_QUEUED_EVENTS] = (struct queued_event){device, type, data};
            s->count++;
            delivered++;
        }
    }
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&mu);
    return delivered;
}

EXPORT int fake_nvml_queue_xid(int device, unsigned long long xid) {
    return fake_nvml_queue_event(device, NVML_EVENT_TYPE_XID, xid);
}

EXPORT int fake_nvml_add_process(int device, unsigned int pid, int kinds, long long bytes) {
    pthread_mutex_lock(&mu);
    struct nvmlDevice_st *d = device_arg(device);
    int rc = d == NULL ? -1
           : put_process(d, pid, kinds, bytes < 0 ? NVML_VALUE_NOT_AVAILABLE : (unsigned long long)bytes);
    pthread_mutex_unlock(&mu);
    return rc;
}

EXPORT int fake_nvml_remove_process(int device, unsigned int pid) {
    pthread_mutex_lock(&mu);
    struct nvmlDevice_st *d = device_arg(device);
    if (d != NULL) {
        remove_process(d, pid);
    }
    pthread_mutex_unlock(&mu);
    return d == NULL ? -1 : 0;
}

EXPORT int fake_nvml_grow_processes(int device, int per_query, int times) {
    pthread_mutex_lock(&mu);
    struct nvmlDevice_st *d = device_arg(device);
    if (d != NULL) {
        d->grow_per_query = per_query;
        d->grow_times = times;
    }
    pthread_mutex_unlock(&mu);
    return d == NULL ? -1 : 0;
}

EXPORT int fake_nvml_add_process_sample(int device, unsigned int pid, unsigned long long timestamp,
                                        unsigned int sm, unsigned int mem, unsigned int enc, unsigned int dec) {
    pthread_mutex_lock(&mu);
    struct nvmlDevice_st *d = device_arg(device);
    int rc = d == NULL ? -1 : put_sample(d, (struct process_sample){pid, timestamp, sm, mem, enc, dec});
    pthread_mutex_unlock(&mu);
    return rc;
}

EXPORT int fake_nvml_init_count(void) {
    pthread_mutex_lock(&mu);
    int n = init_count;
    pthread_mutex_unlock(&mu);
    return n;
}
