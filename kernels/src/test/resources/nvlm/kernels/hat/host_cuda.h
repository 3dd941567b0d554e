// Runs translated CUDA C on the host for tests: the CUDA builtins a translation uses, made of
// plain C++. Blocks run one after another; the threads of a block are std::threads meeting at a
// std::barrier, so __shared__ arrays (static here) are shared by exactly one block at a time.
#include <math.h>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <barrier>
#include <atomic>
#include <thread>
#include <vector>
#include <functional>

#define __global__
#define __device__
#define __forceinline__ inline
#define __shared__ static

struct nvlm_dim3 { unsigned x, y, z; };
static thread_local nvlm_dim3 threadIdx;
static nvlm_dim3 blockIdx, blockDim, gridDim;
static std::barrier<>* nvlm_block_barrier;

static inline void __syncthreads() { nvlm_block_barrier->arrive_and_wait(); }
static inline float __int_as_float(int i) { float f; std::memcpy(&f, &i, 4); return f; }
static inline int __float_as_int(float f) { int i; std::memcpy(&i, &f, 4); return i; }
static inline double __longlong_as_double(long long i) { double d; std::memcpy(&d, &i, 8); return d; }
static inline long long __double_as_longlong(double d) { long long i; std::memcpy(&i, &d, 8); return i; }
static inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz((unsigned)x); }
static inline int __clzll(long long x) { return x == 0 ? 64 : __builtin_clzll((unsigned long long)x); }
static inline int __popc(int x) { return __builtin_popcount((unsigned)x); }
static inline int __ffs(int x) { return __builtin_ffs(x); }
static inline float atomicAdd(float* p, float v) { return std::atomic_ref<float>(*p).fetch_add(v); }

static void nvlm_launch(unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                        const std::function<void()>& kernel) {
    gridDim = {gx, gy, gz};
    blockDim = {bx, by, bz};
    unsigned threads = bx * by * bz;
    for (unsigned z = 0; z < gz; z++) for (unsigned y = 0; y < gy; y++) for (unsigned x = 0; x < gx; x++) {
        blockIdx = {x, y, z};
        std::barrier<> barrier(threads);
        nvlm_block_barrier = &barrier;
        std::vector<std::thread> workers;
        for (unsigned t = 0; t < threads; t++) {
            workers.emplace_back([&, t] {
                threadIdx = {t % bx, (t / bx) % by, t / (bx * by)};
                kernel();
                barrier.arrive_and_drop();
            });
        }
        for (auto& w : workers) w.join();
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
