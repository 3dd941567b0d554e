package nvlm.kernels.gpu;

import static nvlm.kernels.gpu.Grids.requireLength;

import nvlm.kernels.hat.F32Buffer;
import nvlm.kernels.hat.GpuKernel;
import nvlm.kernels.hat.Kernel;
import nvlm.kernels.hat.KernelContext;
import nvlm.kernels.hat.KernelLaunch;
import nvlm.kernels.hat.LaunchConfig;

/**
 * Elementwise float32 kernels: unary functions and their backward, binary operations (contiguous,
 * or broadcast through strides over up to four dimensions), scale, axpy and fill. All use
 * grid-stride loops over a {@code long} element count.
 */
public final class Elementwise {
    private Elementwise() {
    }

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
    public static final int UNARY_OPS = 13;

    // Binary operations, the {@code op} of binaryKernel/broadcastKernel.
    public static final int ADD = 0;
    public static final int SUB = 1;
    public static final int MUL = 2;
    public static final int DIV = 3;
    public static final int MAX = 4;
    public static final int MIN = 5;
    public static final int BINARY_OPS = 6;

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
            default:
                return Math.abs(x);
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
            default:
                return x > 0f ? 1f : x < 0f ? -1f : 0f;
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
            default:
                return Math.min(a, b);
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

    /** y[i] = alpha * x[i]. */
    @Kernel
    static void scaleKernel(KernelContext kc, float alpha, F32Buffer x, F32Buffer y, long n) {
        for (long i = kc.gix(); i < n; i += kc.gsx()) {
            y.set(i, alpha * x.get(i));
        }
    }

    /** y[i] += alpha * x[i]. */
    @Kernel
    static void axpyKernel(KernelContext kc, float alpha, F32Buffer x, F32Buffer y, long n) {
        for (long i = kc.gix(); i < n; i += kc.gsx()) {
            y.set(i, y.get(i) + alpha * x.get(i));
        }
    }

    /** y[i] = value. */
    @Kernel
    static void fillKernel(KernelContext kc, float value, F32Buffer y, long n) {
        for (long i = kc.gix(); i < n; i += kc.gsx()) {
            y.set(i, value);
        }
    }

    // ---- launchers -----------------------------------------------------------------------------

    public static KernelLaunch unary(int op, F32Buffer x, F32Buffer y, long n) {
        checkOp("Elementwise.unary", op, UNARY_OPS);
        requireLength("Elementwise.unary", "x", x, n);
        requireLength("Elementwise.unary", "y", y, n);
        return GpuKernel.of(Elementwise.class, "unaryKernel").launch(Grids.elementwise(n), op, x, y, n);
    }

    public static KernelLaunch unaryBackward(int op, F32Buffer x, F32Buffer dy, F32Buffer dx, long n) {
        checkOp("Elementwise.unaryBackward", op, UNARY_OPS);
        requireLength("Elementwise.unaryBackward", "x", x, n);
        requireLength("Elementwise.unaryBackward", "dy", dy, n);
        requireLength("Elementwise.unaryBackward", "dx", dx, n);
        return GpuKernel.of(Elementwise.class, "unaryBackwardKernel").launch(Grids.elementwise(n), op, x, dy, dx, n);
    }

    public static KernelLaunch binary(int op, F32Buffer a, F32Buffer b, F32Buffer out, long n) {
        checkOp("Elementwise.binary", op, BINARY_OPS);
        requireLength("Elementwise.binary", "a", a, n);
        requireLength("Elementwise.binary", "b", b, n);
        requireLength("Elementwise.binary", "out", out, n);
        return GpuKernel.of(Elementwise.class, "binaryKernel").launch(Grids.elementwise(n), op, a, b, out, n);
    }

    /**
     * out = a op b over the contiguous output {@code shape} (at most 4 dimensions, leading ones
     * may be omitted), reading a and b through their strides (0 to broadcast).
     */
    public static KernelLaunch broadcast(int op, F32Buffer a, long[] aStrides, F32Buffer b, long[] bStrides,
                                         F32Buffer out, long[] shape) {
        checkOp("Elementwise.broadcast", op, BINARY_OPS);
        long[] d = padded(shape, 1, "shape");
        long[] as = padded(aStrides, 0, "aStrides");
        long[] bs = padded(bStrides, 0, "bStrides");
        Grids.require(shape.length == aStrides.length && shape.length == bStrides.length,
                "Elementwise.broadcast: shape " + java.util.Arrays.toString(shape) + " and strides "
                        + java.util.Arrays.toString(aStrides) + ", " + java.util.Arrays.toString(bStrides) + " differ in rank");
        long n = d[0] * d[1] * d[2] * d[3];
        requireLength("Elementwise.broadcast", "out", out, n);
        requireLength("Elementwise.broadcast", "a", a, lastIndex(d, as) + 1);
        requireLength("Elementwise.broadcast", "b", b, lastIndex(d, bs) + 1);
        return GpuKernel.of(Elementwise.class, "broadcastKernel").launch(Grids.elementwise(n), op,
                a, as[0], as[1], as[2], as[3], b, bs[0], bs[1], bs[2], bs[3], out, d[0], d[1], d[2], d[3]);
    }

    public static KernelLaunch scale(float alpha, F32Buffer x, F32Buffer y, long n) {
        requireLength("Elementwise.scale", "x", x, n);
        requireLength("Elementwise.scale", "y", y, n);
        return GpuKernel.of(Elementwise.class, "scaleKernel").launch(Grids.elementwise(n), alpha, x, y, n);
    }

    public static KernelLaunch axpy(float alpha, F32Buffer x, F32Buffer y, long n) {
        requireLength("Elementwise.axpy", "x", x, n);
        requireLength("Elementwise.axpy", "y", y, n);
        return GpuKernel.of(Elementwise.class, "axpyKernel").launch(Grids.elementwise(n), alpha, x, y, n);
    }

    public static KernelLaunch fill(float value, F32Buffer y, long n) {
        requireLength("Elementwise.fill", "y", y, n);
        return GpuKernel.of(Elementwise.class, "fillKernel").launch(Grids.elementwise(n), value, y, n);
    }

    private static void checkOp(String kernel, int op, int count) {
        Grids.require(op >= 0 && op < count, kernel + ": unknown op " + op + " (0.." + (count - 1) + ")");
    }

    static long[] padded(long[] values, long fill, String what) {
        Grids.require(values.length >= 1 && values.length <= 4, "Elementwise: " + what + " must have 1 to 4 entries, got "
                + values.length);
        long[] result = {fill, fill, fill, fill};
        System.arraycopy(values, 0, result, 4 - values.length, values.length);
        return result;
    }

    private static long lastIndex(long[] shape, long[] strides) {
        long last = 0;
        for (int i = 0; i < 4; i++) {
            last += (shape[i] - 1) * Math.max(0, strides[i]);
        }
        return last;
    }
}
