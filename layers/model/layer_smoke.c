/* Smoke test of an unzipped model layer, without Rust or Python: dlopen() the layer's
 * libonnxruntime.so, load each model with the ONNX Runtime C API and run it once.
 *
 *   cc -O1 -o layer_smoke layers/model/layer_smoke.c -ldl -lm
 *   ./layer_smoke OPT/models/lib/libonnxruntime.so OPT/models/multilingual-e5-small/model.int8.onnx ...
 *
 * arm64 on an x86_64 machine (Debian: gcc-aarch64-linux-gnu libc6-dev-arm64-cross
 * libstdc++6-arm64-cross qemu-user):
 *   aarch64-linux-gnu-gcc -O1 -o layer_smoke.arm64 layers/model/layer_smoke.c -ldl -lm
 *   qemu-aarch64 -cpu neoverse-n1 -L ROOT -E LD_LIBRARY_PATH=/usr/aarch64-linux-gnu/lib \
 *       ./layer_smoke.arm64 OPT/models/lib/libonnxruntime.so ...
 * where ROOT holds `lib -> /usr/aarch64-linux-gnu/lib` and a `proc/cpuinfo` in the ARM format
 * (qemu opens ROOT/proc/cpuinfo for /proc/cpuinfo; ONNX Runtime's cpuinfo crashes on the host's
 * x86 one). See layers/model/README.md, "Lambda layer", for what -cpu changes.
 *
 * Each model gets one batch of 1 x 6 tokens ([1, 3293, 83, 10, 3034, 2]; int64 input_ids, an
 * all-ones attention_mask, zero token_type_ids when the model has that input) and the program
 * prints the output shape, the first values of the first row and that row's L2 norm
 * (LAYER_SMOKE_FULL=1: the whole first row too, to compare two architectures). Exit status 0
 * only if every model loads and runs.
 *
 * No ONNX Runtime header is needed: the program uses the version-1 part of the OrtApi function
 * table, which ONNX Runtime keeps frozen ("End of Version 1 - DO NOT MODIFY ABOVE" in
 * onnxruntime_c_api.h), through its fixed slot numbers below.
 */
#include <dlfcn.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void *Status; /* OrtStatus*, NULL on success */
typedef struct {
    const void *(*GetApi)(uint32_t version);
    const char *(*GetVersionString)(void);
} OrtApiBase;

/* slots of struct OrtApi (version 1) */
enum {
    S_GetErrorMessage = 2, S_CreateEnv = 3, S_CreateSession = 7, S_Run = 9,
    S_CreateSessionOptions = 10, S_SetGraphOptimizationLevel = 23, S_SetIntraOpNumThreads = 24,
    S_SessionGetInputCount = 30, S_SessionGetInputName = 36, S_SessionGetOutputName = 37,
    S_CreateTensorWithDataAsOrtValue = 49, S_GetTensorMutableData = 51,
    S_GetDimensionsCount = 61, S_GetDimensions = 62, S_GetTensorTypeAndShape = 65,
    S_CreateCpuMemoryInfo = 69, S_GetAllocatorWithDefaultOptions = 78,
};

static void *const *api;
#define FN(slot, type) ((type)api[slot])

static int check(Status s, const char *what) {
    if (!s) return 0;
    const char *msg = FN(S_GetErrorMessage, const char *(*)(Status))(s);
    fprintf(stderr, "error: %s: %s\n", what, msg);
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s LIB MODEL.onnx...\n", argv[0]);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!lib) { fprintf(stderr, "dlopen: %s\n", dlerror()); return 1; }
    const OrtApiBase *(*get_base)(void) = (const OrtApiBase *(*)(void))dlsym(lib, "OrtGetApiBase");
    if (!get_base) { fprintf(stderr, "no OrtGetApiBase in %s\n", argv[1]); return 1; }
    const OrtApiBase *base = get_base();
    printf("onnxruntime %s\n", base->GetVersionString());
    api = (void *const *)base->GetApi(1);
    if (!api) { fprintf(stderr, "GetApi(1) failed\n"); return 1; }

    void *env = NULL, *mem = NULL, *alloc = NULL;
    if (check(FN(S_CreateEnv, Status (*)(int, const char *, void **))(3, "smoke", &env), "CreateEnv")
        || check(FN(S_CreateCpuMemoryInfo, Status (*)(int, int, void **))(1, 0, &mem), "CreateCpuMemoryInfo")
        || check(FN(S_GetAllocatorWithDefaultOptions, Status (*)(void **))(&alloc), "allocator"))
        return 1;

    int failed = 0;
    for (int m = 2; m < argc; m++) {
        void *opts = NULL, *sess = NULL;
        size_t n_in = 0;
        if (check(FN(S_CreateSessionOptions, Status (*)(void **))(&opts), "CreateSessionOptions")
            || check(FN(S_SetIntraOpNumThreads, Status (*)(void *, int))(opts, 2), "threads")
            || check(FN(S_SetGraphOptimizationLevel, Status (*)(void *, int))(opts, 99), "optimisation level")
            || check(FN(S_CreateSession, Status (*)(void *, const char *, void *, void **))(env, argv[m], opts, &sess), argv[m])
            || check(FN(S_SessionGetInputCount, Status (*)(void *, size_t *))(sess, &n_in), "input count")
            || n_in > 8) {
            failed = 1;
            continue;
        }
        int64_t ids[6] = {1, 3293, 83, 10, 3034, 2}, ones[6] = {1, 1, 1, 1, 1, 1}, zeros[6] = {0};
        int64_t shape[2] = {1, 6};
        char *in_names[8], *out_name = NULL;
        void *inputs[8], *output = NULL;
        int ok = 1;
        for (size_t i = 0; i < n_in && ok; i++) {
            ok = !check(FN(S_SessionGetInputName, Status (*)(void *, size_t, void *, char **))(sess, i, alloc, &in_names[i]), "input name");
            if (!ok) break;
            int64_t *data = strcmp(in_names[i], "input_ids") == 0 ? ids
                          : strcmp(in_names[i], "attention_mask") == 0 ? ones : zeros;
            ok = !check(FN(S_CreateTensorWithDataAsOrtValue,
                           Status (*)(void *, void *, size_t, const int64_t *, size_t, int, void **))(
                            mem, data, sizeof ids, shape, 2, 7 /* int64 */, &inputs[i]), "input tensor");
        }
        ok = ok && !check(FN(S_SessionGetOutputName, Status (*)(void *, size_t, void *, char **))(sess, 0, alloc, &out_name), "output name");
        ok = ok && !check(FN(S_Run, Status (*)(void *, void *, char **, void **, size_t, char **, size_t, void **))(
                              sess, NULL, in_names, inputs, n_in, &out_name, 1, &output), "Run");
        void *info = NULL;
        size_t nd = 0;
        int64_t dims[4] = {0};
        float *out = NULL;
        ok = ok && !check(FN(S_GetTensorTypeAndShape, Status (*)(void *, void **))(output, &info), "output shape")
                && !check(FN(S_GetDimensionsCount, Status (*)(void *, size_t *))(info, &nd), "dims count")
                && nd <= 4
                && !check(FN(S_GetDimensions, Status (*)(void *, int64_t *, size_t))(info, dims, nd), "dims")
                && !check(FN(S_GetTensorMutableData, Status (*)(void *, void **))(output, (void **)&out), "output data");
        if (!ok) { failed = 1; continue; }
        int64_t row = dims[nd - 1];
        double norm = 0;
        for (int64_t k = 0; k < row; k++) norm += (double)out[k] * out[k];
        printf("%s: %zu inputs, output %s [", argv[m], n_in, out_name);
        for (size_t d = 0; d < nd; d++) printf(d ? ", %lld" : "%lld", (long long)dims[d]);
        printf("], row 0: %.5f %.5f %.5f %.5f ... |row| %.5f\n", out[0], out[1], out[2], out[3], sqrt(norm));
        if (getenv("LAYER_SMOKE_FULL")) { /* the whole first row, to compare architectures */
            for (int64_t k = 0; k < row; k++) printf(k ? " %.7g" : "row0 %.7g", out[k]);
            printf("\n");
        }
    }
    return failed;
}
