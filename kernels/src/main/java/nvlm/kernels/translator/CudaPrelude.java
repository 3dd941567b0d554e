package nvlm.kernels.translator;

/**
 * The C functions every translated kernel starts with: Java semantics where C's operators differ,
 * and the bfloat16/half conversions. Needs no header, so the source compiles with NVRTC as is.
 * The names are the JVM instructions they implement ({@code iadd}, {@code f2i}) or
 * {@code math_<method>_<type>} for {@code java.lang.Math} methods.
 */
final class CudaPrelude {
    private CudaPrelude() {
    }

    static final String TEXT = """
            // ---- nvlm.kernels.translator prelude: Java semantics where C differs -------------------------------
            #define NVLM_INLINE static __device__ __forceinline__
            // int and long + - * wrap around in Java; signed overflow is undefined in C, so they go
            // through unsigned arithmetic. Shift counts are masked as the JVM does (& 31, & 63).
            NVLM_INLINE int iadd(int a, int b) { return (int)((unsigned)a + (unsigned)b); }
            NVLM_INLINE int isub(int a, int b) { return (int)((unsigned)a - (unsigned)b); }
            NVLM_INLINE int imul(int a, int b) { return (int)((unsigned)a * (unsigned)b); }
            NVLM_INLINE int ineg(int a) { return (int)(0u - (unsigned)a); }
            // Java throws ArithmeticException on x / 0 and x % 0; a kernel cannot, and the GPU gives an
            // unspecified value instead (no trap). MIN_VALUE / -1 is MIN_VALUE in Java, undefined in C.
            NVLM_INLINE int idiv(int a, int b) { return b == -1 ? ineg(a) : a / b; }
            NVLM_INLINE int irem(int a, int b) { return b == -1 ? 0 : a % b; }
            NVLM_INLINE int ishl(int a, int n) { return (int)((unsigned)a << (n & 31)); }
            NVLM_INLINE int ishr(int a, int n) { return a >> (n & 31); }
            NVLM_INLINE int iushr(int a, int n) { return (int)((unsigned)a >> (n & 31)); }
            NVLM_INLINE long long ladd(long long a, long long b) { return (long long)((unsigned long long)a + (unsigned long long)b); }
            NVLM_INLINE long long lsub(long long a, long long b) { return (long long)((unsigned long long)a - (unsigned long long)b); }
            NVLM_INLINE long long lmul(long long a, long long b) { return (long long)((unsigned long long)a * (unsigned long long)b); }
            NVLM_INLINE long long lneg(long long a) { return (long long)(0ull - (unsigned long long)a); }
            NVLM_INLINE long long ldiv(long long a, long long b) { return b == -1 ? lneg(a) : a / b; }
            NVLM_INLINE long long lrem(long long a, long long b) { return b == -1 ? 0 : a % b; }
            NVLM_INLINE long long lshl(long long a, int n) { return (long long)((unsigned long long)a << (n & 63)); }
            NVLM_INLINE long long lshr(long long a, int n) { return a >> (n & 63); }
            NVLM_INLINE long long lushr(long long a, int n) { return (long long)((unsigned long long)a >> (n & 63)); }
            // Comparisons used as values; fcmpl and fcmpg differ only in what NaN gives (-1 or 1).
            NVLM_INLINE int lcmp(long long a, long long b) { return a < b ? -1 : (a > b ? 1 : 0); }
            NVLM_INLINE int fcmpl(float a, float b) { return a > b ? 1 : (a == b ? 0 : -1); }
            NVLM_INLINE int fcmpg(float a, float b) { return a < b ? -1 : (a == b ? 0 : 1); }
            NVLM_INLINE int dcmpl(double a, double b) { return a > b ? 1 : (a == b ? 0 : -1); }
            NVLM_INLINE int dcmpg(double a, double b) { return a < b ? -1 : (a == b ? 0 : 1); }
            // Floating to integer conversions saturate and send NaN to 0 in Java; C leaves them undefined.
            NVLM_INLINE int f2i(float x) { return x != x ? 0 : (x >= 2147483648.0f ? 2147483647 : (x <= -2147483648.0f ? (-2147483647 - 1) : (int)x)); }
            NVLM_INLINE long long f2l(float x) { return x != x ? 0LL : (x >= 9223372036854775808.0f ? 9223372036854775807LL : (x <= -9223372036854775808.0f ? (-9223372036854775807LL - 1) : (long long)x)); }
            NVLM_INLINE int d2i(double x) { return x != x ? 0 : (x >= 2147483647.0 ? 2147483647 : (x <= -2147483648.0 ? (-2147483647 - 1) : (int)x)); }
            NVLM_INLINE long long d2l(double x) { return x != x ? 0LL : (x >= 9223372036854775808.0 ? 9223372036854775807LL : (x <= -9223372036854775808.0 ? (-9223372036854775807LL - 1) : (long long)x)); }
            // java.lang.Math.min/max: NaN if either operand is NaN and -0.0 < +0.0 (fminf/fmaxf differ on both).
            NVLM_INLINE float math_min_f(float a, float b) { return a != a ? a : (b != b ? b : (a == 0.0f && b == 0.0f ? __int_as_float(__float_as_int(a) | __float_as_int(b)) : (a < b ? a : b))); }
            NVLM_INLINE float math_max_f(float a, float b) { return a != a ? a : (b != b ? b : (a == 0.0f && b == 0.0f ? __int_as_float(__float_as_int(a) & __float_as_int(b)) : (a > b ? a : b))); }
            NVLM_INLINE double math_min_d(double a, double b) { return a != a ? a : (b != b ? b : (a == 0.0 && b == 0.0 ? __longlong_as_double(__double_as_longlong(a) | __double_as_longlong(b)) : (a < b ? a : b))); }
            NVLM_INLINE double math_max_d(double a, double b) { return a != a ? a : (b != b ? b : (a == 0.0 && b == 0.0 ? __longlong_as_double(__double_as_longlong(a) & __double_as_longlong(b)) : (a > b ? a : b))); }
            NVLM_INLINE int math_min_i(int a, int b) { return a < b ? a : b; }
            NVLM_INLINE int math_max_i(int a, int b) { return a > b ? a : b; }
            NVLM_INLINE long long math_min_l(long long a, long long b) { return a < b ? a : b; }
            NVLM_INLINE long long math_max_l(long long a, long long b) { return a > b ? a : b; }
            NVLM_INLINE int math_abs_i(int a) { return a < 0 ? ineg(a) : a; }
            NVLM_INLINE long long math_abs_l(long long a) { return a < 0 ? lneg(a) : a; }
            NVLM_INLINE float math_signum_f(float x) { return x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : x); }
            NVLM_INLINE double math_signum_d(double x) { return x > 0.0 ? 1.0 : (x < 0.0 ? -1.0 : x); }
            // Math.round: nearest, ties towards positive infinity (x - floor(x) is exact in float).
            NVLM_INLINE int math_round_f(float x) { float f = floorf(x); return f2i(x - f >= 0.5f ? f + 1.0f : f); }
            NVLM_INLINE long long math_round_d(double x) { double f = floor(x); return d2l(x - f >= 0.5 ? f + 1.0 : f); }
            // Math.pow is 1 for a zero exponent whatever the base (a signaling NaN too, where glibc's
            // pow gives NaN), NaN for a NaN exponent and for (+-1)^(+-Infinity); C's pow gives 1 for those.
            NVLM_INLINE float math_pow_f(float x, float y) { return y == 0.0f ? 1.0f : (y != y || (fabsf(x) == 1.0f && fabsf(y) == __int_as_float(0x7f800000))) ? __int_as_float(0x7fc00000) : powf(x, y); }
            NVLM_INLINE double math_pow_d(double x, double y) { return y == 0.0 ? 1.0 : (y != y || (fabs(x) == 1.0 && fabs(y) == __longlong_as_double(0x7ff0000000000000LL))) ? __longlong_as_double(0x7ff8000000000000LL) : pow(x, y); }
            // Math.hypot: an infinite argument gives +Infinity even when the other is a NaN (C may give NaN for a signaling one).
            NVLM_INLINE float math_hypot_f(float x, float y) { return (fabsf(x) == __int_as_float(0x7f800000) || fabsf(y) == __int_as_float(0x7f800000)) ? __int_as_float(0x7f800000) : hypotf(x, y); }
            NVLM_INLINE double math_hypot_d(double x, double y) { return (fabs(x) == __longlong_as_double(0x7ff0000000000000LL) || fabs(y) == __longlong_as_double(0x7ff0000000000000LL)) ? __longlong_as_double(0x7ff0000000000000LL) : hypot(x, y); }
            // Float.compare / floatToIntBits: -0.0 < 0.0, every NaN is one value, greater than +Infinity.
            NVLM_INLINE int float_to_int_bits(float x) { return x != x ? 0x7fc00000 : __float_as_int(x); }
            NVLM_INLINE int float_compare(float a, float b) { int x = float_to_int_bits(a), y = float_to_int_bits(b); return a < b ? -1 : (a > b ? 1 : (x == y ? 0 : (x < y ? -1 : 1))); }
            NVLM_INLINE long long double_to_long_bits(double x) { return x != x ? 0x7ff8000000000000LL : __double_as_longlong(x); }
            NVLM_INLINE int double_compare(double a, double b) { long long x = double_to_long_bits(a), y = double_to_long_bits(b); return a < b ? -1 : (a > b ? 1 : (x == y ? 0 : (x < y ? -1 : 1))); }
            // bfloat16: widening is exact; narrowing rounds to nearest even and keeps NaN a quiet NaN,
            // bit for bit as nvlm.kernels.DType.floatToBf16.
            NVLM_INLINE float bf16_to_f32(unsigned short b) { return __int_as_float(((int)b) << 16); }
            NVLM_INLINE unsigned short f32_to_bf16(float x) {
                unsigned u = (unsigned)__float_as_int(x);
                if ((u & 0x7fffffffu) > 0x7f800000u) return (unsigned short)((u >> 16) | 0x40u);
                return (unsigned short)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
            }
            // IEEE half: the hardware conversions (round to nearest even) on the GPU.
            #ifdef __CUDA_ARCH__
            NVLM_INLINE float f16_to_f32(unsigned short h) { float f; asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h)); return f; }
            NVLM_INLINE unsigned short f32_to_f16(float x) { unsigned short h; asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(x)); return h; }
            #else
            NVLM_INLINE float f16_to_f32(unsigned short h) {
                unsigned sign = (h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
                if (e == 0x1fu) return __int_as_float((int)(sign | 0x7f800000u | (m << 13)));
                if (e == 0u) { float f = (float)m * 5.9604644775390625e-8f; return sign ? -f : f; }
                return __int_as_float((int)(sign | ((e + 112u) << 23) | (m << 13)));
            }
            NVLM_INLINE unsigned short f32_to_f16(float x) {
                unsigned u = (unsigned)__float_as_int(x), sign = (u >> 16) & 0x8000u, a = u & 0x7fffffffu;
                if (a > 0x7f800000u) return (unsigned short)(sign | 0x7e00u | ((a >> 13) & 0x3ffu));
                if (a >= 0x477ff000u) return (unsigned short)(sign | 0x7c00u);
                if (a < 0x38800000u) return (unsigned short)(sign | (unsigned)rintf(__int_as_float((int)a) * 16777216.0f));
                unsigned r = a - 0x38000000u;
                return (unsigned short)(sign | ((r + 0xfffu + ((r >> 13) & 1u)) >> 13));
            }
            #endif
            // ---- end of prelude --------------------------------------------------------------------------
            """;
}
