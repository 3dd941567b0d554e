/*
 * A host-memory stand-in for libcuda.so.1, used only by FakeDriverPlumbingTest to exercise the
 * Java FFM plumbing (downcalls, out-parameters, strings, kernelParams packing, error paths) on a
 * machine without a GPU. It is compiled against the real cuda.h, so every function here has the
 * header's exact prototype. Device memory is malloc'd host memory; the only "kernel" is
 * vector_add, run on the host from its kernelParams. The real driver is exercised by the CUDA
 * backend's GPU tests and the device check (bench/gpu).
 */
#include <cuda.h>
#include <stdlib.h>
#include <string.h>

#define FAKE_CTX ((CUcontext) 0xC0)
#define FAKE_MODULE ((CUmodule) 0xD0)
#define VECTOR_ADD ((CUfunction) 0xF1)
#define MEMORY_LIMIT (1ull << 30)

static unsigned long long allocated = 0;

CUresult cuGetErrorName(CUresult error, const char **pStr) {
    switch (error) {
        case CUDA_SUCCESS: *pStr = "CUDA_SUCCESS"; return CUDA_SUCCESS;
        case CUDA_ERROR_OUT_OF_MEMORY: *pStr = "CUDA_ERROR_OUT_OF_MEMORY"; return CUDA_SUCCESS;
        case CUDA_ERROR_NOT_FOUND: *pStr = "CUDA_ERROR_NOT_FOUND"; return CUDA_SUCCESS;
        case CUDA_ERROR_INVALID_VALUE: *pStr = "CUDA_ERROR_INVALID_VALUE"; return CUDA_SUCCESS;
        default: *pStr = NULL; return CUDA_ERROR_INVALID_VALUE;
    }
}

CUresult cuGetErrorString(CUresult error, const char **pStr) {
    switch (error) {
        case CUDA_ERROR_OUT_OF_MEMORY: *pStr = "out of memory (fake)"; return CUDA_SUCCESS;
        case CUDA_ERROR_NOT_FOUND: *pStr = "named symbol not found (fake)"; return CUDA_SUCCESS;
        case CUDA_ERROR_INVALID_VALUE: *pStr = "invalid argument (fake)"; return CUDA_SUCCESS;
        default: *pStr = NULL; return CUDA_ERROR_INVALID_VALUE;
    }
}

CUresult cuInit(unsigned int Flags) { return Flags == 0 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE; }
CUresult cuDriverGetVersion(int *v) { *v = 13000; return CUDA_SUCCESS; }
CUresult cuDeviceGetCount(int *count) { *count = 1; return CUDA_SUCCESS; }
CUresult cuDeviceGet(CUdevice *device, int ordinal) { *device = ordinal + 100; return CUDA_SUCCESS; }

CUresult cuDeviceGetName(char *name, int len, CUdevice dev) {
    if (dev != 100) return CUDA_ERROR_INVALID_VALUE;
    strncpy(name, "Fake CUDA Device", len);
    return CUDA_SUCCESS;
}

CUresult cuDeviceGetAttribute(int *pi, CUdevice_attribute attrib, CUdevice dev) {
    if (dev != 100) return CUDA_ERROR_INVALID_VALUE;
    switch (attrib) {
        case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR: *pi = 9; return CUDA_SUCCESS;
        case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR: *pi = 0; return CUDA_SUCCESS;
        default: return CUDA_ERROR_INVALID_VALUE;
    }
}

CUresult cuDeviceTotalMem_v2(size_t *bytes, CUdevice dev) { *bytes = MEMORY_LIMIT; return CUDA_SUCCESS; }
CUresult cuDevicePrimaryCtxRetain(CUcontext *pctx, CUdevice dev) { *pctx = FAKE_CTX; return CUDA_SUCCESS; }
CUresult cuDevicePrimaryCtxRelease_v2(CUdevice dev) { return dev == 100 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE; }
CUresult cuCtxSetCurrent(CUcontext ctx) { return ctx == FAKE_CTX ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE; }
CUresult cuCtxSynchronize(void) { return CUDA_SUCCESS; }

CUresult cuMemGetInfo_v2(size_t *free_bytes, size_t *total) {
    *free_bytes = MEMORY_LIMIT - allocated;
    *total = MEMORY_LIMIT;
    return CUDA_SUCCESS;
}

/* Each block carries its size in front so cuMemFree can account for it. */
CUresult cuMemAlloc_v2(CUdeviceptr *dptr, size_t bytesize) {
    if (allocated + bytesize > MEMORY_LIMIT) return CUDA_ERROR_OUT_OF_MEMORY;
    unsigned long long *block = aligned_alloc(256, 256 + ((bytesize + 255) / 256) * 256);
    block[0] = bytesize;
    allocated += bytesize;
    *dptr = (CUdeviceptr) ((char *) block + 256);
    return CUDA_SUCCESS;
}

CUresult cuMemFree_v2(CUdeviceptr dptr) {
    unsigned long long *block = (unsigned long long *) ((char *) dptr - 256);
    allocated -= block[0];
    free(block);
    return CUDA_SUCCESS;
}

CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr d, const void *s, size_t n, CUstream h) { memcpy((void *) d, s, n); return CUDA_SUCCESS; }
CUresult cuMemcpyDtoHAsync_v2(void *d, CUdeviceptr s, size_t n, CUstream h) { memcpy(d, (void *) s, n); return CUDA_SUCCESS; }
CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr d, CUdeviceptr s, size_t n, CUstream h) { memmove((void *) d, (void *) s, n); return CUDA_SUCCESS; }
CUresult cuMemsetD8Async(CUdeviceptr d, unsigned char uc, size_t n, CUstream h) { memset((void *) d, uc, n); return CUDA_SUCCESS; }

CUresult cuMemsetD32Async(CUdeviceptr d, unsigned int ui, size_t n, CUstream h) {
    for (size_t i = 0; i < n; i++) ((unsigned int *) d)[i] = ui;
    return CUDA_SUCCESS;
}

static int streams = 0;
CUresult cuStreamCreate(CUstream *ph, unsigned int Flags) { *ph = (CUstream) (long) (0x5000 + ++streams); return CUDA_SUCCESS; }
CUresult cuStreamDestroy_v2(CUstream h) { return CUDA_SUCCESS; }
CUresult cuStreamSynchronize(CUstream h) { return CUDA_SUCCESS; }

static int events = 0;
CUresult cuEventCreate(CUevent *ph, unsigned int Flags) { *ph = (CUevent) (long) (0xE000 + ++events); return CUDA_SUCCESS; }
CUresult cuEventRecord(CUevent e, CUstream h) { return CUDA_SUCCESS; }
CUresult cuEventSynchronize(CUevent e) { return CUDA_SUCCESS; }
CUresult cuEventDestroy_v2(CUevent e) { return CUDA_SUCCESS; }
CUresult cuEventElapsedTime_v2(float *ms, CUevent start, CUevent end) { *ms = 1.5f; return CUDA_SUCCESS; }

CUresult cuModuleLoadDataEx(CUmodule *module, const void *image, unsigned int numOptions, CUjit_option *options,
                            void **optionValues) {
    if (numOptions != 2 || options[0] != CU_JIT_ERROR_LOG_BUFFER || options[1] != CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    if (strncmp((const char *) image, "bad", 3) == 0) {
        strncpy((char *) optionValues[0], "ptxas fatal: fake JIT error", (size_t) optionValues[1]);
        return CUDA_ERROR_INVALID_VALUE;
    }
    *module = FAKE_MODULE;
    return CUDA_SUCCESS;
}

CUresult cuModuleUnload(CUmodule hmod) { return hmod == FAKE_MODULE ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE; }

CUresult cuModuleGetFunction(CUfunction *hfunc, CUmodule hmod, const char *name) {
    if (strcmp(name, "vector_add") != 0) return CUDA_ERROR_NOT_FOUND;
    *hfunc = VECTOR_ADD;
    return CUDA_SUCCESS;
}

/* vector_add(const float* a, const float* b, float* c, long long n), each argument in its own slot. */
CUresult cuLaunchKernel(CUfunction f, unsigned int gx, unsigned int gy, unsigned int gz, unsigned int bx,
                        unsigned int by, unsigned int bz, unsigned int shared, CUstream h, void **kernelParams,
                        void **extra) {
    if (f != VECTOR_ADD || extra != NULL || shared != 0) return CUDA_ERROR_INVALID_VALUE;
    const float *a = *(const float **) kernelParams[0];
    const float *b = *(const float **) kernelParams[1];
    float *c = *(float **) kernelParams[2];
    long long n = *(long long *) kernelParams[3];
    long long threads = (long long) gx * gy * gz * bx * by * bz;
    for (long long i = 0; i < n && i < threads; i++) c[i] = a[i] + b[i];
    return CUDA_SUCCESS;
}
