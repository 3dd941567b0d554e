// Runs translated CUDA C on the host for tests: the CUDA builtins a translation uses, made of
// plain C++. Blocks run one after another on one OS thread. A kernel without barriers runs its
// threads one after another; one with barriers runs each thread as a fiber (ucontext), and
// __syncthreads() returns to a scheduler that resumes every live thread of the block in turn, so
// a round of the scheduler is one barrier phase. __shared__ arrays (static here) are thus shared
// by exactly one block at a time.
#include <math.h>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <atomic>
#include <functional>
#include <vector>
#include <ucontext.h>

#define __global__
#define __device__
#define __forceinline__ inline
#define __shared__ static

struct nvlm_dim3 { unsigned x, y, z; };
static nvlm_dim3 threadIdx, blockIdx, blockDim, gridDim;

static ucontext_t nvlm_scheduler;
static std::vector<ucontext_t> nvlm_fibers;
static std::vector<char*> nvlm_stacks;
static unsigned nvlm_current;
static const std::function<void()>* nvlm_kernel;
static const size_t NVLM_STACK_BYTES = 256 * 1024;

static bool nvlm_yielded;

// Back to the scheduler; a fiber that returns instead comes back through uc_link with nvlm_yielded false.
static inline void __syncthreads() { nvlm_yielded = true; swapcontext(&nvlm_fibers[nvlm_current], &nvlm_scheduler); }
static inline float __int_as_float(int i) { float f; std::memcpy(&f, &i, 4); return f; }
static inline int __float_as_int(float f) { int i; std::memcpy(&i, &f, 4); return i; }
static inline double __longlong_as_double(long long i) { double d; std::memcpy(&d, &i, 8); return d; }
static inline long long __double_as_longlong(double d) { long long i; std::memcpy(&i, &d, 8); return i; }
static inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz((unsigned)x); }
static inline int __clzll(long long x) { return x == 0 ? 64 : __builtin_clzll((unsigned long long)x); }
static inline int __popc(int x) { return __builtin_popcount((unsigned)x); }
static inline int __ffs(int x) { return __builtin_ffs(x); }
static inline float atomicAdd(float* p, float v) { float old = *p; *p = old + v; return old; }

static void nvlm_fiber_main() { (*nvlm_kernel)(); }

static void nvlm_run_block_with_barriers(unsigned threads) {
    while (nvlm_stacks.size() < threads) nvlm_stacks.push_back((char*)std::malloc(NVLM_STACK_BYTES));
    nvlm_fibers.assign(threads, ucontext_t{});
    std::vector<char> done(threads, 0);
    for (unsigned t = 0; t < threads; t++) {
        getcontext(&nvlm_fibers[t]);
        nvlm_fibers[t].uc_stack.ss_sp = nvlm_stacks[t];
        nvlm_fibers[t].uc_stack.ss_size = NVLM_STACK_BYTES;
        nvlm_fibers[t].uc_link = &nvlm_scheduler;
        makecontext(&nvlm_fibers[t], nvlm_fiber_main, 0);
    }
    unsigned live = threads;
    while (live > 0) {
        for (unsigned t = 0; t < threads; t++) {
            if (done[t]) continue;
            nvlm_current = t;
            threadIdx = {t % blockDim.x, (t / blockDim.x) % blockDim.y, t / (blockDim.x * blockDim.y)};
            nvlm_yielded = false;
            swapcontext(&nvlm_scheduler, &nvlm_fibers[t]);
            if (!nvlm_yielded) {
                done[t] = 1;
                live--;
            }
        }
    }
}

static void nvlm_launch(unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz, bool barriers,
                        const std::function<void()>& kernel) {
    gridDim = {gx, gy, gz};
    blockDim = {bx, by, bz};
    nvlm_kernel = &kernel;
    unsigned threads = bx * by * bz;
    for (unsigned z = 0; z < gz; z++) for (unsigned y = 0; y < gy; y++) for (unsigned x = 0; x < gx; x++) {
        blockIdx = {x, y, z};
        if (barriers) {
            nvlm_run_block_with_barriers(threads);
        } else {
            for (unsigned t = 0; t < threads; t++) {
                threadIdx = {t % bx, (t / bx) % by, t / (bx * by)};
                kernel();
            }
        }
    }
}

template <typename T>
static T* nvlm_load(const char* dir, int arg, size_t count) {
    char path[4096];
    std::snprintf(path, sizeof path, "%s/arg%d.bin", dir, arg);
    FILE* f = std::fopen(path, "rb");
    if (!f) { std::fprintf(stderr, "cannot open %s\n", path); std::exit(2); }
    T* data = (T*)std::calloc(count ? count : 1, sizeof(T));
    if (std::fread(data, sizeof(T), count, f) != count) { std::fprintf(stderr, "short read %s\n", path); std::exit(2); }
    std::fclose(f);
    return data;
}

template <typename T>
static void nvlm_store(const char* dir, int arg, const T* data, size_t count) {
    char path[4096];
    std::snprintf(path, sizeof path, "%s/arg%d.out", dir, arg);
    FILE* f = std::fopen(path, "wb");
    if (!f || std::fwrite(data, sizeof(T), count, f) != count) { std::fprintf(stderr, "cannot write %s\n", path); std::exit(2); }
    std::fclose(f);
}
