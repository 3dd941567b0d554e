package nvlm.cuda.backend.kernels;

import java.util.List;
import nvlm.kernels.hat.F32Buffer;
import nvlm.kernels.hat.GpuKernel;
import nvlm.kernels.hat.I8Buffer;
import nvlm.kernels.hat.Kernel;
import nvlm.kernels.hat.KernelContext;
import nvlm.kernels.hat.KernelLaunch;

/**
 * The elementwise operations of the tensor Backend that {@code nvlm.kernels.gpu.Elementwise}
 * does not have: the unary functions reciprocal, sin and cos (and their derivatives), the affine
 * map, and binary operations, comparisons and selects over broadcast views of up to
 * {@link TypedCopy#MAX_RANK} dimensions (a stride of 0 broadcasts), pow included. The output is
 * contiguous in every kernel.
 */
public final class Pointwise {
    private Pointwise() {
    }

    // Looked up once: GpuKernel.of reflects over the class on every call.
    private static final GpuKernel AFFINE_KERNEL = GpuKernel.of(Pointwise.class, "affineKernel");
    private static final GpuKernel UNARY_BACKWARD_KERNEL = GpuKernel.of(Pointwise.class, "unaryBackwardKernel");
    private static final GpuKernel UNARY_KERNEL = GpuKernel.of(Pointwise.class, "unaryKernel");
    private static final GpuKernel WHERE_KERNEL = GpuKernel.of(Pointwise.class, "whereKernel");
    private static final GpuKernel BINARY_KERNEL = GpuKernel.of(Pointwise.class, "binaryKernel");
    private static final GpuKernel COMPARE_KERNEL = GpuKernel.of(Pointwise.class, "compareKernel");

    public static final int RECIPROCAL = 0;
    public static final int SIN = 1;
    public static final int COS = 2;

    // Binary operations in nvlm.tensor.BinaryOp order; the first six match nvlm.kernels.gpu.Elementwise.
    public static final int ADD = 0;
    public static final int SUB = 1;
    public static final int MUL = 2;
    public static final int DIV = 3;
    public static final int MAX = 4;
    public static final int MIN = 5;
    public static final int POW = 6;

    // Comparisons in nvlm.tensor.CompareOp order.
    public static final int EQ = 0;
    public static final int NE = 1;
    public static final int LT = 2;
    public static final int LE = 3;
    public static final int GT = 4;
    public static final int GE = 5;

    static float unaryOp(int op, float x) {
        switch (op) {
            case RECIPROCAL:
                return 1f / x;
            case SIN:
                return (float) Math.sin(x);
            default:
                return (float) Math.cos(x);
        }
    }

    static float unaryDerivative(int op, float x) {
        switch (op) {
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

    @Kernel
    static void unaryKernel(KernelContext kc, int op, F32Buffer x, F32Buffer y, long n) {
        for (long i = kc.gix(); i < n; i += kc.gsx()) {
            y.set(i, unaryOp(op, x.get(i)));
        }
    }

    @Kernel
    static void unaryBackwardKernel(KernelContext kc, int op, F32Buffer x, F32Buffer dy, F32Buffer dx, long n) {
        for (long i = kc.gix(); i < n; i += kc.gsx()) {
            dx.set(i, dy.get(i) * unaryDerivative(op, x.get(i)));
        }
    }

    /** y = alpha * x + beta (y may be x). */
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

    @Kernel
    static void binaryKernel(KernelContext kc, int op, F32Buffer a, long a0, long a1, long a2, long a3, long a4, long a5,
                             F32Buffer b, long b0, long b1, long b2, long b3, long b4, long b5, F32Buffer out,
                             long d0, long d1, long d2, long d3, long d4, long d5) {
        long n = d0 * d1 * d2 * d3 * d4 * d5;
        for (long e = kc.gix(); e < n; e += kc.gsx()) {
            float x = a.get(offset(e, d1, d2, d3, d4, d5, a0, a1, a2, a3, a4, a5));
            float y = b.get(offset(e, d1, d2, d3, d4, d5, b0, b1, b2, b3, b4, b5));
            out.set(e, binaryOp(op, x, y));
        }
    }

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

    /** out = cond != 0 ? a : b. */
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
        Launches.require(op >= RECIPROCAL && op <= COS, "Pointwise.unary: unknown op " + op);
        Launches.requireLength("Pointwise.unary", "x", x, n);
        Launches.requireLength("Pointwise.unary", "y", y, n);
        return new KernelLaunch(UNARY_KERNEL, Launches.elementwise(n), List.of(op, x, y, n));
    }

    public static KernelLaunch unaryBackward(int op, F32Buffer x, F32Buffer dy, F32Buffer dx, long n) {
        Launches.require(op >= RECIPROCAL && op <= COS, "Pointwise.unaryBackward: unknown op " + op);
        Launches.requireLength("Pointwise.unaryBackward", "x", x, n);
        Launches.requireLength("Pointwise.unaryBackward", "dy", dy, n);
        Launches.requireLength("Pointwise.unaryBackward", "dx", dx, n);
        return new KernelLaunch(UNARY_BACKWARD_KERNEL, Launches.elementwise(n),
                List.of(op, x, dy, dx, n));
    }

    public static KernelLaunch affine(F32Buffer x, F32Buffer y, long n, float alpha, float beta) {
        Launches.requireLength("Pointwise.affine", "x", x, n);
        Launches.requireLength("Pointwise.affine", "y", y, n);
        return new KernelLaunch(AFFINE_KERNEL, Launches.elementwise(n),
                List.of(x, y, n, alpha, beta));
    }

    /** out (contiguous over {@code shape}) = a op b, a and b read through their strides. */
    public static KernelLaunch binary(int op, F32Buffer a, long[] aStrides, F32Buffer b, long[] bStrides, F32Buffer out,
                                      long[] shape) {
        Launches.require(op >= ADD && op <= POW, "Pointwise.binary: unknown op " + op);
        return broadcast(BINARY_KERNEL, op, a, aStrides, b, bStrides, out, shape);
    }

    /** out (BOOL, contiguous) = a cmp b. */
    public static KernelLaunch compare(int op, F32Buffer a, long[] aStrides, F32Buffer b, long[] bStrides, I8Buffer out,
                                       long[] shape) {
        Launches.require(op >= EQ && op <= GE, "Pointwise.compare: unknown op " + op);
        return broadcast(COMPARE_KERNEL, op, a, aStrides, b, bStrides, out, shape);
    }

    private static KernelLaunch broadcast(GpuKernel gpuKernel, int op, F32Buffer a, long[] aStrides, F32Buffer b,
                                          long[] bStrides, nvlm.kernels.hat.Buffer out, long[] shape) {
        String kernel = gpuKernel.method().getName();
        checkRank(kernel, shape, aStrides, bStrides);
        Launches.requireSpan("Pointwise." + kernel, "a", a, shape, aStrides);
        Launches.requireSpan("Pointwise." + kernel, "b", b, shape, bStrides);
        long n = Launches.numel(shape);
        Launches.requireLength("Pointwise." + kernel, "out", out, n);
        Object[] args = new Object[4 + 3 * TypedCopy.MAX_RANK];
        args[0] = op;
        args[1] = a;
        int at = Launches.padded(args, 2, aStrides, 0L);
        args[at++] = b;
        at = Launches.padded(args, at, bStrides, 0L);
        args[at++] = out;
        Launches.padded(args, at, shape, 1L);
        return new KernelLaunch(gpuKernel, Launches.elementwise(n), List.of(args));
    }

    /** out = cond ? a : b over {@code shape}; cond, a and b read through their strides. */
    public static KernelLaunch where(I8Buffer cond, long[] condStrides, F32Buffer a, long[] aStrides, F32Buffer b,
                                     long[] bStrides, F32Buffer out, long[] shape) {
        checkRank("whereKernel", shape, aStrides, bStrides);
        Launches.require(condStrides.length == shape.length, "Pointwise.where: cond strides and shape differ in rank");
        Launches.requireSpan("Pointwise.where", "cond", cond, shape, condStrides);
        Launches.requireSpan("Pointwise.where", "a", a, shape, aStrides);
        Launches.requireSpan("Pointwise.where", "b", b, shape, bStrides);
        long n = Launches.numel(shape);
        Launches.requireLength("Pointwise.where", "out", out, n);
        Object[] args = new Object[4 + 4 * TypedCopy.MAX_RANK];
        args[0] = cond;
        int at = Launches.padded(args, 1, condStrides, 0L);
        args[at++] = a;
        at = Launches.padded(args, at, aStrides, 0L);
        args[at++] = b;
        at = Launches.padded(args, at, bStrides, 0L);
        args[at++] = out;
        Launches.padded(args, at, shape, 1L);
        return new KernelLaunch(WHERE_KERNEL, Launches.elementwise(n), List.of(args));
    }

    private static void checkRank(String kernel, long[] shape, long[] aStrides, long[] bStrides) {
        Launches.require(shape.length >= 1 && shape.length <= TypedCopy.MAX_RANK && aStrides.length == shape.length
                        && bStrides.length == shape.length,
                "Pointwise." + kernel + ": shape and strides must have the same rank, 1.." + TypedCopy.MAX_RANK);
    }
}
