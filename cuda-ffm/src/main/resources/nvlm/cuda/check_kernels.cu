// Kernels used by nvlm.cuda.DeviceCheck (and the GPU tests) to check the runtime layer: argument
// marshalling of pointers, 64-bit and 32-bit integers and floats, dynamic shared memory above
// 48 KiB, and a deterministic random fill that Java reproduces bit for bit (DeviceCheck.uniform).
// Compiled by NVRTC at run time; NvccCompileTest compile-checks it with nvcc -arch=sm_90 -ptx.

// c = a + b over n elements.
extern "C" __global__ void vector_add(const float* a, const float* b, float* c, long long n) {
    long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        c[i] = a[i] + b[i];
    }
}

// y = alpha * x + beta * y, written without fma contraction so Java computes the same rounding.
extern "C" __global__ void axpby(float alpha, const float* x, float beta, float* y, int n) {
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        y[i] = __fadd_rn(__fmul_rn(alpha, x[i]), __fmul_rn(beta, y[i]));
    }
}

// A 32-bit integer hash (lowbias32) of the element index and seed, mapped to [-1, 1).
__device__ float uniform(long long i, unsigned int seed) {
    unsigned int h = (unsigned int) i * 2654435761u ^ (unsigned int) (i >> 32) * 2246822519u ^ seed;
    h ^= h >> 16;
    h *= 0x7feb352du;
    h ^= h >> 15;
    h *= 0x846ca68bu;
    h ^= h >> 16;
    return (float) (h >> 8) * (2.0f / 16777216.0f) - 1.0f;
}

extern "C" __global__ void fill_uniform_f32(float* out, long long n, unsigned int seed, float scale) {
    long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        out[i] = uniform(i, seed) * scale;
    }
}

// Rounds to bfloat16 to nearest even, as nvlm.kernels.DType.floatToBf16 (the values are finite).
extern "C" __global__ void fill_uniform_bf16(unsigned short* out, long long n, unsigned int seed, float scale) {
    long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) {
        unsigned int bits = __float_as_uint(uniform(i, seed) * scale);
        out[i] = (unsigned short) ((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
    }
}

// Each block stages its chunk of `chunk` floats in dynamic shared memory and writes it reversed.
extern "C" __global__ void reverse_chunks(const float* in, float* out, int chunk) {
    extern __shared__ float staged[];
    const float* src = in + (long long) blockIdx.x * chunk;
    float* dst = out + (long long) blockIdx.x * chunk;
    for (int i = threadIdx.x; i < chunk; i += blockDim.x) {
        staged[i] = src[i];
    }
    __syncthreads();
    for (int i = threadIdx.x; i < chunk; i += blockDim.x) {
        dst[i] = staged[chunk - 1 - i];
    }
}
