package nvlm.kernels.gpu;

import static nvlm.kernels.gpu.Launches.requireLength;

import nvlm.kernels.translator.Buffer;
import nvlm.kernels.translator.F32Buffer;
import nvlm.kernels.translator.GpuKernel;
import nvlm.kernels.translator.I8Buffer;
import nvlm.kernels.translator.Kernel;
import nvlm.kernels.translator.KernelContext;
import nvlm.kernels.translator.KernelLaunch;

/**
 * Elementwise float32 kernels: unary functions and their derivatives, binary operations
 * (contiguous, or broadcast through strides: a stride of 0 broadcasts), comparisons, selects,
 * affine maps and axpy. All use grid-stride loops over a {@code long} element count; outputs are
 * contiguous.
 */
public final class Elementwise {
    private Elementwise() {
    }

    // Looked up once: GpuKernel.of reflects over the class on every call.
    private static final GpuKernel UNARY = GpuKernel.of(Elementwise.class, "unaryKernel");
    private static final GpuKernel UNARY_BACKWARD = GpuKernel.of(Elementwise.class, "unaryBackwardKernel");
    private static final GpuKernel BINARY = GpuKernel.of(Elementwise.class, "binaryKernel");
    private static final GpuKernel BROADCAST = GpuKernel.of(Elementwise.class, "broadcastKernel");
    private static final GpuKernel BROADCAST6 = GpuKernel.of(Elementwise.class, "broadcast6Kernel");
    private static final GpuKernel COMPARE = GpuKernel.of(Elementwise.class, "compareKernel");
    private static final GpuKernel WHERE = GpuKernel.of(Elementwise.class, "whereKernel");
    private static final GpuKernel AFFINE = GpuKernel.of(Elementwise.class, "affineKernel");
    private static final GpuKernel AXPY = GpuKernel.of(Elementwise.class, "axpyKernel");

    // Unary functions, the {@code op} of unaryKernel/unaryBackwardKernel.
    public static final int NEG = 0;
    public static final int EXP = 1;
    public static final int LOG = 2;
    public static final int TANH = 3;
    public static final int SIGMOID = 4;
    public static final int RELU = 5;
    /** GELU, exact form: x * Phi(x) (InternViT and the NVLM projector use it, docs/model.md §2 and §4). */
    public static final int GELU_ERF = 6;
    /** GELU, tanh approximation (PyTorch approximate='tanh'). */
    public static final int GELU_TANH = 7;
    /** SiLU (swish), x * sigmoid(x): the Qwen2 MLP's activation (docs/model.md §5). */
    public static final int SILU = 8;
    public static final int SQRT = 9;
    public static final int RSQRT = 10;
    public static final int SQUARE = 11;
    public static final int ABS = 12;
    public static final int RECIPROCAL = 13;
    public static final int SIN = 14;
    public static final int COS = 15;
    public static final int UNARY_OPS = 16;

    // Binary operations, in nvlm.tensor.BinaryOp order.
    public static final int ADD = 0;
    public static final int SUB = 1;
    public static final int MUL = 2;
    public static final int DIV = 3;
    public static final int MAX = 4;
    public static final int MIN = 5;
    public static final int POW = 6;
    public static final int BINARY_OPS = 7;

    // Comparisons, in nvlm.tensor.CompareOp order.
    public static final int EQ = 0;
    public static final int NE = 1;
    public static final int LT = 2;
    public static final int LE = 3;
    public static final int GT = 4;
    public static final int GE = 5;
    public static final int COMPARE_OPS = 6;

    private static final float SQRT_HALF = 0.70710677f;
    private static final float INV_SQRT_TWO_PI = 0.3989423f;
    private static final float SQRT_TWO_OVER_PI = 0.7978846f;
    private static final float GELU_TANH_COEFF = 0.044715f;

    /** f(x) for unary function {@code op}. */
    static float unaryOp(int op, float x) {
        switch (op) {
            case NEG:
                return -x;
            case EXP:
                return (float) Math.exp(x);
            case LOG:
                return (float) Math.log(x);
            case TANH:
                return (float) Math.tanh(x);
            case SIGMOID:
                return GpuMath.sigmoid(x);
            case RELU:
                return x > 0f ? x : 0f;
            case GELU_ERF:
                return 0.5f * x * (1f + GpuMath.erf(x * SQRT_HALF));
            case GELU_TANH:
                return 0.5f * x * (1f + (float) Math.tanh(SQRT_TWO_OVER_PI * (x + GELU_TANH_COEFF * x * x * x)));
            case SILU:
                return x * GpuMath.sigmoid(x);
            case SQRT:
                return (float) Math.sqrt(x);
            case RSQRT:
                return 1f / (float) Math.sqrt(x);
            case SQUARE:
                return x * x;
            case ABS:
                return Math.abs(x);
            case RECIPROCAL:
                return 1f / x;
            case SIN:
                return (float) Math.sin(x);
            default:
                return (float) Math.cos(x);
        }
    }

    /** f'(x) for unary function {@code op} (PyTorch's conventions at kinks: relu'(0) = 0, abs'(0) = 0). */
    static float unaryDerivative(int op, float x) {
        switch (op) {
            case NEG:
                return -1f;
            case EXP:
                return (float) Math.exp(x);
            case LOG:
                return 1f / x;
            case TANH: {
                float t = (float) Math.tanh(x);
                return 1f - t * t;
            }
            case SIGMOID: {
                float s = GpuMath.sigmoid(x);
                return s * (1f - s);
            }
            case RELU:
                return x > 0f ? 1f : 0f;
            case GELU_ERF: {
                float cdf = 0.5f * (1f + GpuMath.erf(x * SQRT_HALF));
                float pdf = INV_SQRT_TWO_PI * (float) Math.exp(-0.5f * x * x);
                return cdf + x * pdf;
            }
            case GELU_TANH: {
                float inner = SQRT_TWO_OVER_PI * (x + GELU_TANH_COEFF * x * x * x);
                float t = (float) Math.tanh(inner);
                float dInner = SQRT_TWO_OVER_PI * (1f + 3f * GELU_TANH_COEFF * x * x);
                return 0.5f * (1f + t) + 0.5f * x * (1f - t * t) * dInner;
            }
            case SILU: {
                float s = GpuMath.sigmoid(x);
                return s * (1f + x * (1f - s));
            }
            case SQRT:
                return 0.5f / (float) Math.sqrt(x);
            case RSQRT: {
                float r = 1f / (float) Math.sqrt(x);
                return -0.5f * r * r * r;
            }
            case SQUARE:
                return 2f * x;
            case ABS:
                return x > 0f ? 1f : x < 0f ? -1f : 0f;
            case RECIPROCAL:
                return -1f / (x * x);
            case SIN:
                return (float) Math.cos(x);
            default:
                return -(float) Math.sin(x);
        }
    }

    static float binaryOp(int op, float a, float b) {
        switch (op) {
            case ADD:
                return a + b;
            case SUB:
                return a - b;
            case MUL:
                return a * b;
            case DIV:
                return a / b;
            case MAX:
                return Math.max(a, b);
            case MIN:
                return Math.min(a, b);
            default:
                // In double with one rounding, as the CPU backend's StrictMath.pow.
                return (float) Math.pow(a, b);
        }
    }

    static boolean compareOp(int op, float a, float b) {
        switch (op) {
            case EQ:
                return a == b;
            case NE:
                return a != b;
            case LT:
                return a < b;
            case LE:
                return a <= b;
            case GT:
                return a > b;
            default:
                return a >= b;
        }
    }

    /** y[i] = f(x[i]). y may be x. */
    @Kernel
    static void unaryKernel(KernelContext kc, int op, F32Buffer x, F32Buffer y, long n) {
        for (long i = kc.gix(); i < n; i += kc.gsx()) {
            y.set(i, unaryOp(op, x.get(i)));
        }
    }

    /** dx[i] = dy[i] * f'(x[i]). dx may be dy. */
    @Kernel
    static void unaryBackwardKernel(KernelContext kc, int op, F32Buffer x, F32Buffer dy, F32Buffer dx, long n) {
        for (long i = kc.gix(); i < n; i += kc.gsx()) {
            dx.set(i, dy.get(i) * unaryDerivative(op, x.get(i)));
        }
    }

    /** out[i] = a[i] op b[i]. */
    @Kernel
    static void binaryKernel(KernelContext kc, int op, F32Buffer a, F32Buffer b, F32Buffer out, long n) {
        for (long i = kc.gix(); i < n; i += kc.gsx()) {
            out.set(i, binaryOp(op, a.get(i), b.get(i)));
        }
    }

    /**
     * out[i0,i1,i2,i3] = a[i0*as0 + i1*as1 + i2*as2 + i3*as3] op b[...bs...] for the contiguous
     * output of shape [d0,d1,d2,d3]: a stride of 0 broadcasts (a bias row over rows: strides
     * 0,0,0,1), a transposed stride reads a permuted view.
     */
    @Kernel
    static void broadcastKernel(KernelContext kc, int op,
                                F32Buffer a, long as0, long as1, long as2, long as3,
                                F32Buffer b, long bs0, long bs1, long bs2, long bs3,
                                F32Buffer out, long d0, long d1, long d2, long d3) {
        long n = d0 * d1 * d2 * d3;
        for (long i = kc.gix(); i < n; i += kc.gsx()) {
            long i3 = i % d3;
            long rest = i / d3;
            long i2 = rest % d2;
            rest /= d2;
            long i1 = rest % d1;
            long i0 = rest / d1;
            float x = a.get(i0 * as0 + i1 * as1 + i2 * as2 + i3 * as3);
            float y = b.get(i0 * bs0 + i1 * bs1 + i2 * bs2 + i3 * bs3);
            out.set(i, binaryOp(op, x, y));
        }
    }

    /** y[i] += alpha * x[i]. */
    @Kernel
    static void axpyKernel(KernelContext kc, float alpha, F32Buffer x, F32Buffer y, long n) {
        for (long i = kc.gix(); i < n; i += kc.gsx()) {
            y.set(i, y.get(i) + alpha * x.get(i));
        }
    }

    /** y[i] = alpha * x[i] + beta (y may be x). */
    @Kernel
    static void affineKernel(KernelContext kc, F32Buffer x, F32Buffer y, long n, float alpha, float beta) {
        for (long i = kc.gix(); i < n; i += kc.gsx()) {
            y.set(i, alpha * x.get(i) + beta);
        }
    }

    /** The element offset of flat output index e in a view with strides s0..s5 over extents d0..d5. */
    static long offset(long e, long d1, long d2, long d3, long d4, long d5,
                       long s0, long s1, long s2, long s3, long s4, long s5) {
        long rest = e;
        long at = (rest % d5) * s5;
        rest /= d5;
        at += (rest % d4) * s4;
        rest /= d4;
        at += (rest % d3) * s3;
        rest /= d3;
        at += (rest % d2) * s2;
        rest /= d2;
        at += (rest % d1) * s1;
        return at + (rest / d1) * s0;
    }

    /** As {@link #broadcastKernel} over up to six dimensions (each operand's offset computed on its own). */
    @Kernel
    static void broadcast6Kernel(KernelContext kc, int op, F32Buffer a, long a0, long a1, long a2, long a3, long a4,
                                 long a5, F32Buffer b, long b0, long b1, long b2, long b3, long b4, long b5,
                                 F32Buffer out, long d0, long d1, long d2, long d3, long d4, long d5) {
        long n = d0 * d1 * d2 * d3 * d4 * d5;
        for (long e = kc.gix(); e < n; e += kc.gsx()) {
            float x = a.get(offset(e, d1, d2, d3, d4, d5, a0, a1, a2, a3, a4, a5));
            float y = b.get(offset(e, d1, d2, d3, d4, d5, b0, b1, b2, b3, b4, b5));
            out.set(e, binaryOp(op, x, y));
        }
    }

    /** out[e] = a cmp b (1 or 0) over up to six broadcast dimensions; out is contiguous BOOL. */
    @Kernel
    static void compareKernel(KernelContext kc, int op, F32Buffer a, long a0, long a1, long a2, long a3, long a4, long a5,
                              F32Buffer b, long b0, long b1, long b2, long b3, long b4, long b5, I8Buffer out,
                              long d0, long d1, long d2, long d3, long d4, long d5) {
        long n = d0 * d1 * d2 * d3 * d4 * d5;
        for (long e = kc.gix(); e < n; e += kc.gsx()) {
            float x = a.get(offset(e, d1, d2, d3, d4, d5, a0, a1, a2, a3, a4, a5));
            float y = b.get(offset(e, d1, d2, d3, d4, d5, b0, b1, b2, b3, b4, b5));
            out.set(e, (byte) (compareOp(op, x, y) ? 1 : 0));
        }
    }

    /** out = cond != 0 ? a : b over up to six broadcast dimensions. */
    @Kernel
    static void whereKernel(KernelContext kc, I8Buffer cond, long c0, long c1, long c2, long c3, long c4, long c5,
                            F32Buffer a, long a0, long a1, long a2, long a3, long a4, long a5,
                            F32Buffer b, long b0, long b1, long b2, long b3, long b4, long b5, F32Buffer out,
                            long d0, long d1, long d2, long d3, long d4, long d5) {
        long n = d0 * d1 * d2 * d3 * d4 * d5;
        for (long e = kc.gix(); e < n; e += kc.gsx()) {
            boolean pick = cond.get(offset(e, d1, d2, d3, d4, d5, c0, c1, c2, c3, c4, c5)) != 0;
            out.set(e, pick ? a.get(offset(e, d1, d2, d3, d4, d5, a0, a1, a2, a3, a4, a5))
                    : b.get(offset(e, d1, d2, d3, d4, d5, b0, b1, b2, b3, b4, b5)));
        }
    }

    // ---- launchers -----------------------------------------------------------------------------

    public static KernelLaunch unary(int op, F32Buffer x, F32Buffer y, long n) {
        checkOp("Elementwise.unary", op, UNARY_OPS);
        requireLength("Elementwise.unary", "x", x, n);
        requireLength("Elementwise.unary", "y", y, n);
        return UNARY.launch(Launches.elementwise(n), op, x, y, n);
    }

    public static KernelLaunch unaryBackward(int op, F32Buffer x, F32Buffer dy, F32Buffer dx, long n) {
        checkOp("Elementwise.unaryBackward", op, UNARY_OPS);
        requireLength("Elementwise.unaryBackward", "x", x, n);
        requireLength("Elementwise.unaryBackward", "dy", dy, n);
        requireLength("Elementwise.unaryBackward", "dx", dx, n);
        return UNARY_BACKWARD.launch(Launches.elementwise(n), op, x, dy, dx, n);
    }

    public static KernelLaunch binary(int op, F32Buffer a, F32Buffer b, F32Buffer out, long n) {
        checkOp("Elementwise.binary", op, BINARY_OPS);
        requireLength("Elementwise.binary", "a", a, n);
        requireLength("Elementwise.binary", "b", b, n);
        requireLength("Elementwise.binary", "out", out, n);
        return BINARY.launch(Launches.elementwise(n), op, a, b, out, n);
    }

    /**
     * out = a op b over the contiguous output {@code shape} (at most {@link Launches#MAX_RANK}
     * dimensions), reading a and b through their strides (0 to broadcast). Up to four dimensions
     * take the kernel that splits the output index once for both operands (fewer 64-bit
     * divisions: bias adds, masks), five and six the general one.
     */
    public static KernelLaunch broadcast(int op, F32Buffer a, long[] aStrides, F32Buffer b, long[] bStrides,
                                         F32Buffer out, long[] shape) {
        checkOp("Elementwise.broadcast", op, BINARY_OPS);
        Launches.requireRank("Elementwise.broadcast", Launches.MAX_RANK, shape, aStrides, bStrides);
        Launches.requireSpan("Elementwise.broadcast", "a", a, shape, aStrides);
        Launches.requireSpan("Elementwise.broadcast", "b", b, shape, bStrides);
        long n = Launches.numel(shape);
        requireLength("Elementwise.broadcast", "out", out, n);
        if (shape.length <= 4) {
            long[] d = padded4(shape, 1);
            long[] as = padded4(aStrides, 0);
            long[] bs = padded4(bStrides, 0);
            return BROADCAST.launch(Launches.elementwise(n), op, a, as[0], as[1], as[2], as[3], b, bs[0], bs[1], bs[2],
                    bs[3], out, d[0], d[1], d[2], d[3]);
        }
        return BROADCAST6.launch(Launches.elementwise(n), strided(op, a, aStrides, b, bStrides, out, shape));
    }

    /** out (BOOL, contiguous) = a cmp b, a and b read through their strides. */
    public static KernelLaunch compare(int op, F32Buffer a, long[] aStrides, F32Buffer b, long[] bStrides, I8Buffer out,
                                       long[] shape) {
        checkOp("Elementwise.compare", op, COMPARE_OPS);
        Launches.requireRank("Elementwise.compare", Launches.MAX_RANK, shape, aStrides, bStrides);
        Launches.requireSpan("Elementwise.compare", "a", a, shape, aStrides);
        Launches.requireSpan("Elementwise.compare", "b", b, shape, bStrides);
        long n = Launches.numel(shape);
        requireLength("Elementwise.compare", "out", out, n);
        return COMPARE.launch(Launches.elementwise(n), strided(op, a, aStrides, b, bStrides, out, shape));
    }

    private static Object[] strided(int op, F32Buffer a, long[] aStrides, F32Buffer b, long[] bStrides, Buffer out,
                                    long[] shape) {
        Object[] args = new Object[4 + 3 * Launches.MAX_RANK];
        args[0] = op;
        args[1] = a;
        int at = Launches.padded(args, 2, aStrides, 0L);
        args[at++] = b;
        at = Launches.padded(args, at, bStrides, 0L);
        args[at++] = out;
        Launches.padded(args, at, shape, 1L);
        return args;
    }

    /** out = cond ? a : b over {@code shape}; cond, a and b read through their strides. */
    public static KernelLaunch where(I8Buffer cond, long[] condStrides, F32Buffer a, long[] aStrides, F32Buffer b,
                                     long[] bStrides, F32Buffer out, long[] shape) {
        Launches.requireRank("Elementwise.where", Launches.MAX_RANK, shape, condStrides, aStrides, bStrides);
        Launches.requireSpan("Elementwise.where", "cond", cond, shape, condStrides);
        Launches.requireSpan("Elementwise.where", "a", a, shape, aStrides);
        Launches.requireSpan("Elementwise.where", "b", b, shape, bStrides);
        long n = Launches.numel(shape);
        requireLength("Elementwise.where", "out", out, n);
        Object[] args = new Object[4 + 4 * Launches.MAX_RANK];
        args[0] = cond;
        int at = Launches.padded(args, 1, condStrides, 0L);
        args[at++] = a;
        at = Launches.padded(args, at, aStrides, 0L);
        args[at++] = b;
        at = Launches.padded(args, at, bStrides, 0L);
        args[at++] = out;
        Launches.padded(args, at, shape, 1L);
        return WHERE.launch(Launches.elementwise(n), args);
    }

    public static KernelLaunch affine(F32Buffer x, F32Buffer y, long n, float alpha, float beta) {
        requireLength("Elementwise.affine", "x", x, n);
        requireLength("Elementwise.affine", "y", y, n);
        return AFFINE.launch(Launches.elementwise(n), x, y, n, alpha, beta);
    }

    public static KernelLaunch axpy(float alpha, F32Buffer x, F32Buffer y, long n) {
        requireLength("Elementwise.axpy", "x", x, n);
        requireLength("Elementwise.axpy", "y", y, n);
        return AXPY.launch(Launches.elementwise(n), alpha, x, y, n);
    }

    private static void checkOp(String kernel, int op, int count) {
        Launches.require(op >= 0 && op < count, kernel + ": unknown op " + op + " (0.." + (count - 1) + ")");
    }

    private static long[] padded4(long[] values, long fill) {
        long[] result = {fill, fill, fill, fill};
        System.arraycopy(values, 0, result, 4 - values.length, values.length);
        return result;
    }
}
