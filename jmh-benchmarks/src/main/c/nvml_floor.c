/*
 * The floor under the JNA binding's per-call cost: dlopen the same libnvidia-ml, resolve the same
 * functions the binding resolves (newest version first), and time each call from C.
 *
 * Usage: nvml_floor LIBRARY [ITERATIONS [ROUNDS [DEVICE]]]
 * For each call it runs a warm-up of ITERATIONS/10 calls, then ROUNDS rounds of ITERATIONS calls,
 * and prints the median round (and the best, which a busy machine disturbs least) as one line:
 *   floor call=<name> function=<C function> ns_per_op=<median> ns_best=<fastest round> calls_per_op=<n>
 *         iterations=<n> rounds=<n>
 * "errorString" is nvmlErrorString, a table lookup: the bare cost of a call into the library.
 * "computeProcesses" is one list read: the size query and the fill (two calls per op), as the
 * binding does it. Exit status 2 on a usage error, 1 when a call fails.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef int (*init_fn)(void);
typedef int (*handle_fn)(unsigned int, void **);
typedef int (*buffer_fn)(void *, void *);
typedef int (*temperature_fn)(void *, int, unsigned int *);
typedef int (*processes_fn)(void *, unsigned int *, void *);
typedef const char *(*error_string_fn)(int);

#define NVML_ERROR_INSUFFICIENT_SIZE 7
#define MEMORY_V2_VERSION (40u | (2u << 24))

static void *lib;
static void *device;
static buffer_fn memory_info;
static int memory_v2;
static buffer_fn utilization_rates;
static temperature_fn temperature;
static processes_fn compute_processes;
static error_string_fn error_string;
static const char *volatile string_sink;
static unsigned char buffer[64] __attribute__((aligned(8)));
static unsigned char process_buffer[1024 * 24] __attribute__((aligned(8)));
static volatile int sink;

static void *first_symbol(const char *const *names, const char **chosen) {
    for (; *names != NULL; names++) {
        void *f = dlsym(lib, *names);
        if (f != NULL) {
            *chosen = *names;
            return f;
        }
    }
    return NULL;
}

static int call_memory(void) {
    if (memory_v2) {
        memcpy(buffer, &(unsigned int){MEMORY_V2_VERSION}, sizeof(unsigned int));
    }
    return memory_info(device, buffer);
}

/* A table lookup in the library: the cost of the call itself. */
static int call_error_string(void) {
    string_sink = error_string(3);
    return 0;
}

static int call_utilization(void) {
    return utilization_rates(device, buffer);
}

static int call_temperature(void) {
    return temperature(device, 0, (unsigned int *)buffer);
}

/* Size query with a null buffer, then the fill; answers the fill's code. */
static int call_compute_processes(void) {
    unsigned int count = 0;
    int rc = compute_processes(device, &count, NULL);
    if (rc != NVML_ERROR_INSUFFICIENT_SIZE) {
        return rc;
    }
    count = (unsigned int)(sizeof process_buffer / 24);
    return compute_processes(device, &count, process_buffer);
}

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int measure(const char *name, const char *function, int calls_per_op, int (*op)(void),
                   long iterations, int rounds) {
    int rc = op();
    if (rc != 0) {
        fprintf(stderr, "nvml_floor: %s (%s) answered %d\n", name, function, rc);
        return 1;
    }
    for (long i = 0; i < iterations / 10; i++) {
        sink = op();
    }
    double per_op[64];
    for (int r = 0; r < rounds; r++) {
        double start = now_ns();
        for (long i = 0; i < iterations; i++) {
            sink = op();
        }
        per_op[r] = (now_ns() - start) / (double)iterations;
    }
    qsort(per_op, (size_t)rounds, sizeof per_op[0], compare_doubles);
    printf("floor call=%s function=%s ns_per_op=%.1f ns_best=%.1f calls_per_op=%d iterations=%ld rounds=%d\n",
           name, function, per_op[rounds / 2], per_op[0], calls_per_op, iterations, rounds);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2 || argc > 5) {
        fprintf(stderr, "usage: %s LIBRARY [ITERATIONS [ROUNDS [DEVICE]]]\n", argv[0]);
        return 2;
    }
    long iterations = argc > 2 ? atol(argv[2]) : 1000000L;
    int rounds = argc > 3 ? atoi(argv[3]) : 5;
    unsigned int index = argc > 4 ? (unsigned int)atoi(argv[4]) : 0;
    if (iterations < 10 || rounds < 1 || rounds > 64) {
        fprintf(stderr, "nvml_floor: ITERATIONS >= 10, 1 <= ROUNDS <= 64\n");
        return 2;
    }
    lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
        fprintf(stderr, "nvml_floor: %s\n", dlerror());
        return 1;
    }
    const char *unused;
    init_fn init = (init_fn)first_symbol((const char *const[]){"nvmlInit_v2", NULL}, &unused);
    init_fn shutdown = (init_fn)first_symbol((const char *const[]){"nvmlShutdown", NULL}, &unused);
    handle_fn handle = (handle_fn)first_symbol(
        (const char *const[]){"nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetHandleByIndex", NULL}, &unused);
    const char *memory_name = "", *processes_name = "";
    memory_info = (buffer_fn)first_symbol(
        (const char *const[]){"nvmlDeviceGetMemoryInfo_v2", "nvmlDeviceGetMemoryInfo", NULL}, &memory_name);
    memory_v2 = strcmp(memory_name, "nvmlDeviceGetMemoryInfo_v2") == 0;
    utilization_rates = (buffer_fn)first_symbol((const char *const[]){"nvmlDeviceGetUtilizationRates", NULL}, &unused);
    temperature = (temperature_fn)first_symbol((const char *const[]){"nvmlDeviceGetTemperature", NULL}, &unused);
    compute_processes = (processes_fn)first_symbol(
        (const char *const[]){"nvmlDeviceGetComputeRunningProcesses_v3", "nvmlDeviceGetComputeRunningProcesses_v2",
                              "nvmlDeviceGetComputeRunningProcesses", NULL}, &processes_name);
    error_string = (error_string_fn)first_symbol((const char *const[]){"nvmlErrorString", NULL}, &unused);
    if (!init || !shutdown || !handle || !error_string || !memory_info || !utilization_rates || !temperature || !compute_processes) {
        fprintf(stderr, "nvml_floor: %s lacks a function this benchmark calls\n", argv[1]);
        return 1;
    }
    int rc = init();
    if (rc != 0 || (rc = handle(index, &device)) != 0) {
        fprintf(stderr, "nvml_floor: NVML did not start or has no device %u: %d\n", index, rc);
        return 1;
    }
    int failed = measure("errorString", "nvmlErrorString", 1, call_error_string, iterations, rounds);
    failed |= measure("memory", memory_name, 1, call_memory, iterations, rounds);
    failed |= measure("utilization", "nvmlDeviceGetUtilizationRates", 1, call_utilization, iterations, rounds);
    failed |= measure("temperature", "nvmlDeviceGetTemperature", 1, call_temperature, iterations, rounds);
    failed |= measure("computeProcesses", processes_name, 2, call_compute_processes, iterations, rounds);
    shutdown();
    return failed;
}
