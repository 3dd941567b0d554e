package nvlm.kernels.translator;

/**
 * Kernels that exercise the corners of Java semantics the translation must keep (overflow,
 * shifts, division, saturating casts, NaN comparisons, Math.min/max, evaluation order, switches,
 * stack merges, bfloat16/half rounding). Each writes OPS results per element.
 */
final class SemanticsKernels {
    private SemanticsKernels() {
    }

    static final int INT_OPS = 24;
    static final int LONG_OPS = 16;
    static final int FLOAT_OPS = 40;
    static final int MATH_OPS = 18;
    static final int CONTROL_OPS = 8;

    @Kernel
    static void intOps(KernelContext kc, I32Buffer a, I32Buffer b, I32Buffer out, int n) {
        int i = kc.gix();
        if (i >= n) {
            return;
        }
        int x = a.get(i);
        int y = b.get(i);
        long base = (long) i * INT_OPS;
        out.set(base, x + y);
        out.set(base + 1, x - y);
        out.set(base + 2, x * y);
        out.set(base + 3, y != 0 ? x / y : 7);
        out.set(base + 4, y != 0 ? x % y : 7);
        out.set(base + 5, x << y);
        out.set(base + 6, x >> y);
        out.set(base + 7, x >>> y);
        out.set(base + 8, -x);
        out.set(base + 9, x & y ^ x | ~y);
        out.set(base + 10, (byte) x);
        out.set(base + 11, (char) x);
        out.set(base + 12, (short) x);
        out.set(base + 13, Math.abs(x));
        out.set(base + 14, Math.max(x, y) - Math.min(x, y));
        out.set(base + 15, Integer.numberOfLeadingZeros(x) + 100 * Integer.numberOfTrailingZeros(y));
        out.set(base + 16, Integer.bitCount(x));
        out.set(base + 17, (x < y ? 1 : 0) + (x <= y ? 2 : 0) + (x > y ? 4 : 0) + (x >= y ? 8 : 0)
                + (x == y ? 16 : 0) + (x != y ? 32 : 0));
        out.set(base + 18, x == Integer.MIN_VALUE ? 1 : 0);
        out.set(base + 19, (int) ((long) x * y >>> 7));
        int k = x;
        k += y;
        k *= 3;
        k -= 1_000_000_007;
        out.set(base + 20, k);
        out.set(base + 21, (int) (float) x);
        out.set(base + 22, (int) (double) x / 3);
        out.set(base + 23, Integer.MAX_VALUE + x);
    }

    @Kernel
    static void longOps(KernelContext kc, I64Buffer a, I64Buffer b, I64Buffer out, int n) {
        int i = kc.gix();
        if (i >= n) {
            return;
        }
        long x = a.get(i);
        long y = b.get(i);
        long base = (long) i * LONG_OPS;
        out.set(base, x + y);
        out.set(base + 1, x - y);
        out.set(base + 2, x * y);
        out.set(base + 3, y != 0 ? x / y : 7);
        out.set(base + 4, y != 0 ? x % y : 7);
        out.set(base + 5, x << y);
        out.set(base + 6, x >> (int) y);
        out.set(base + 7, x >>> (int) y);
        out.set(base + 8, -x);
        out.set(base + 9, x & y ^ x | ~y);
        out.set(base + 10, (int) x);
        out.set(base + 11, Math.abs(x) + Math.max(x, y) - Math.min(x, y));
        out.set(base + 12, (x < y ? 1 : 0) + (x <= y ? 2 : 0) + (x > y ? 4 : 0) + (x >= y ? 8 : 0)
                + (x == y ? 16 : 0) + (x != y ? 32 : 0));
        out.set(base + 13, Long.numberOfLeadingZeros(x));
        long j = x;
        out.set(base + 14, j++ + j++);
        out.set(base + 15, (long) (double) x + j);
    }

    @Kernel
    static void floatOps(KernelContext kc, F32Buffer a, F32Buffer b, F32Buffer out, I32Buffer bits, int n) {
        int i = kc.gix();
        if (i >= n) {
            return;
        }
        float x = a.get(i);
        float y = b.get(i);
        long base = (long) i * FLOAT_OPS;
        out.set(base, x + y);
        out.set(base + 1, x - y);
        out.set(base + 2, x * y);
        out.set(base + 3, x / y);
        out.set(base + 4, x % y);
        out.set(base + 5, -x);
        out.set(base + 6, Math.min(x, y));
        out.set(base + 7, Math.max(x, y));
        out.set(base + 8, Math.abs(x));
        out.set(base + 9, Math.signum(x));
        out.set(base + 10, Math.copySign(x, y));
        out.set(base + 11, (float) Math.floor(x));
        out.set(base + 12, (float) Math.ceil(x));
        out.set(base + 13, (float) Math.rint(x));
        out.set(base + 14, (float) Math.sqrt(x));
        out.set(base + 15, Math.fma(x, y, 1.5f));
        out.set(base + 16, (float) ((double) x * y));
        out.set(base + 17, (float) (x * 0.5 + y));
        out.set(base + 18, x * 0.1f);
        out.set(base + 19, Float.MIN_VALUE + x);
        out.set(base + 20, Float.NEGATIVE_INFINITY);
        out.set(base + 21, Float.NaN);
        out.set(base + 22, (float) (double) x);
        out.set(base + 23, (float) Math.max((double) x, y));
        long ib = (long) i * 16;
        bits.set(ib, (int) x);
        bits.set(ib + 1, (int) (long) x);
        bits.set(ib + 2, Math.round(x));
        bits.set(ib + 3, (x < y ? 1 : 0) + (x <= y ? 2 : 0) + (x > y ? 4 : 0) + (x >= y ? 8 : 0)
                + (x == y ? 16 : 0) + (x != y ? 32 : 0));
        bits.set(ib + 4, (!(x < y) ? 1 : 0) + (!(x >= y) ? 2 : 0));
        bits.set(ib + 5, Float.isNaN(x) ? 1 : Float.isInfinite(x) ? 2 : Float.isFinite(x) ? 3 : 4);
        bits.set(ib + 6, Float.floatToRawIntBits(x) >>> 9);
        bits.set(ib + 7, (int) (x * 1e10f));
        bits.set(ib + 8, (int) ((long) (x * 1e20f) >> 32));
        bits.set(ib + 9, (int) (double) x);
        bits.set(ib + 10, (int) (long) (double) x);
        bits.set(ib + 11, Float.compare(x, y) < 0 ? 1 : 0);
        bits.set(ib + 12, x > 0 && y > 0 || x < -1 ? 1 : 0);
        bits.set(ib + 13, (int) Math.round((double) x));
        double dx = x;
        double dy = y;
        bits.set(ib + 14, (dx < dy ? 1 : 0) + (dx <= dy ? 2 : 0) + (dx > dy ? 4 : 0) + (dx >= dy ? 8 : 0)
                + (dx == dy ? 16 : 0) + (dx != dy ? 32 : 0));
        bits.set(ib + 15, Double.isNaN(dx / dy) ? 1 : 0);
        out.set(base + 24, (float) (dx / dy));
        out.set(base + 25, (float) (dx % dy));
        out.set(base + 26, (float) Math.min(dx, dy));
        out.set(base + 27, Float.intBitsToFloat(Float.floatToRawIntBits(x) ^ 0x80000000));
        out.set(base + 28, x == 0 ? 1f / x : x);
        for (int k = 29; k < FLOAT_OPS; k++) {
            out.set(base + k, x * k - y);
        }
    }

    /** Transcendental functions: the GPU's are a few ulp from Java's, so these compare with a tolerance. */
    @Kernel
    static void mathOps(KernelContext kc, F32Buffer a, F32Buffer b, F32Buffer out, int n) {
        int i = kc.gix();
        if (i >= n) {
            return;
        }
        float x = a.get(i);
        float y = b.get(i);
        long base = (long) i * MATH_OPS;
        out.set(base, (float) Math.exp(x));
        out.set(base + 1, (float) Math.log(Math.abs(x)));
        out.set(base + 2, (float) Math.tanh(x));
        out.set(base + 3, (float) Math.pow(Math.abs(x), y));
        out.set(base + 4, (float) Math.sin(x));
        out.set(base + 5, (float) Math.cos(x));
        out.set(base + 6, (float) Math.atan2(x, y));
        out.set(base + 7, (float) Math.log1p(Math.abs(x)));
        out.set(base + 8, (float) Math.expm1(x));
        out.set(base + 9, (float) Math.exp((double) x));
        out.set(base + 10, (float) StrictMath.exp(x * 0.5));
        out.set(base + 11, (float) Math.hypot(x, y));
        out.set(base + 12, (float) Math.cbrt(x));
        out.set(base + 13, (float) Math.atan(x));
        out.set(base + 14, (float) Math.log10(Math.abs(x)));
        out.set(base + 15, (float) Math.sinh(x * 0.25f));
        out.set(base + 16, (float) Math.cosh(x * 0.25f));
        out.set(base + 17, (float) Math.exp(Math.log(Math.abs(x) + 1.0)));
    }

    @Kernel
    static void conversions(KernelContext kc, F32Buffer x, BF16Buffer bf16, F16Buffer f16, F32Buffer back, int n) {
        int i = kc.gix();
        if (i < n) {
            bf16.set(i, x.get(i));
            f16.set(i, x.get(i) * 3f);
            back.set(2L * i, bf16.get(i));
            back.set(2L * i + 1, f16.get(i));
        }
    }

    static int bump(I32Buffer counter, int i) {
        counter.set(i, counter.get(i) + 1);
        return 1000;
    }

    static int classify(int v) {
        switch (v & 7) {
            case 0:
                return 10;
            case 1:
            case 2:
                return 20;
            case 5:
                return 50;
            default:
                break;
        }
        return switch (v) {
            case -1000 -> 1;
            case 7 -> 2;
            case 1 << 20 -> 3;
            default -> 4;
        };
    }

    @Kernel
    static void controlFlow(KernelContext kc, I32Buffer a, I32Buffer counter, I32Buffer out, I8Buffer flags, int n) {
        int i = kc.gix();
        if (i >= n) {
            return;
        }
        int v = a.get(i);
        long base = (long) i * CONTROL_OPS;
        // Java evaluates left to right: the read of counter[i] happens before bump() writes it.
        out.set(base, counter.get(i) + bump(counter, i));
        out.set(base + 1, classify(v) + classify(v >> 3));
        int sum = 0;
        outer:
        for (int p = 0; p < 6; p++) {
            for (int q = 0; q < 6; q++) {
                if (q == p) {
                    continue outer;
                }
                if (((v >> (p + q)) & 1) != 0) {
                    sum += p * 10 + q;
                }
                if (sum > 200) {
                    break outer;
                }
            }
        }
        out.set(base + 2, sum);
        int m = v;
        int steps = 0;
        do {
            m = (m & 1) == 0 ? m / 2 : 3 * m + 1;
            steps++;
        } while (m != 1 && steps < 50);
        out.set(base + 3, steps);
        int x;
        int y = x = v ^ 0x5a5a;
        out.set(base + 4, x + y);
        out.set(base + 5, v > 0 ? (v > 100 ? v % 100 : v) : (v < -100 ? -1 : bump(counter, i)));
        boolean odd = (v & 1) == 1;
        flags.set(i, (byte) (odd ? 1 : -1));
        out.set(base + 6, flags.get(i) * 3);
        long w = v;
        out.set(base + 7, (int) (w < 0 ? w * w % 1000 : w / 3));
    }

    /** Every thread of a block adds its id to slot 0 of its block; float sums of small integers are exact in any order. */
    @Kernel
    static void atomics(KernelContext kc, F32Buffer perBlock) {
        perBlock.atomicAdd(kc.bix(), kc.lix());
        perBlock.atomicAdd(kc.bsx() + kc.lix() % 3, 1f);
    }
}
