package nvlm.kernels.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Element-wise f32 kernels: unary activations with their backward, broadcasting binary ops,
 * affine/axpy/fill, where and comparisons.
 *
 * <p>Every contiguous loop runs the vector body over full vectors and a masked vector for the
 * tail, so an element's result never depends on its position (the same input bits give the same
 * output bits whatever the offset, length or thread count). Transcendentals come from
 * {@link VectorMath} and {@link Erf} (not the Vector API's EXP/TANH/..., whose results change when
 * the JIT compiles a method). Formulas follow PyTorch's CPU kernels (aten/src/ATen/native/cpu/
 * Activation.cpp, UnaryOpsKernel.cpp, and the autograd derivatives), except that exact GELU uses
 * Phi(x) = erfc(-x/sqrt 2)/2 and tanh GELU x sigmoid(2u): the same functions, without cancellation.
 */
public final class Elementwise {
    public enum Unary { NEG, EXP, LOG, SQRT, RSQRT, ABS, SQUARE, RECIPROCAL, TANH, SIGMOID, RELU, GELU_ERF, GELU_TANH, SILU, SIN, COS }

    public enum Binary { ADD, SUB, MUL, DIV, MAX, MIN, POW }

    public enum Compare { EQ, NE, LT, LE, GT, GE }

    static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int LANES = SPECIES.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final int MAX_RANK = 8;

    // GELU constants as PyTorch spells them: M_SQRT1_2, kAlpha = M_2_SQRTPI * M_SQRT1_2 * 0.5
    // (= 1/sqrt(2 pi)), kBeta = M_SQRT2 * M_2_SQRTPI * 0.5 (= sqrt(2/pi)), kKappa = 0.044715.
    private static final float SQRT1_2 = (float) Math.sqrt(0.5);
    private static final float GELU_ALPHA = (float) (2 / Math.sqrt(Math.PI) * Math.sqrt(0.5) * 0.5);
    private static final float GELU_BETA = (float) (Math.sqrt(2) * 2 / Math.sqrt(Math.PI) * 0.5);
    private static final float GELU_KAPPA = 0.044715f;

    private Elementwise() {
    }

    // ---------------------------------------------------------------- unary

    /** y[i] = f(x[i]) for i < n (contiguous). y may alias x. */
    public static void unary(Unary op, MemorySegment x, long xOff, MemorySegment y, long yOff, long n) {
        Arguments.requireNonNull("op", op);
        Arguments.requireF32("x", x, xOff, n);
        Arguments.requireF32("y", y, yOff, n);
        ElementBlocks.forElements(n, (s, e) -> unaryRange(op, x, xOff + s, y, yOff + s, e - s));
    }

    private static void unaryRange(Unary op, MemorySegment x, long xOff, MemorySegment y, long yOff, long n) {
        long bound = SPECIES.loopBound(n);
        // The models' activations get loops of their own: inside forward's switch over every op,
        // C2 compiled erfc and sigmoid as separate methods and boxed each vector passed to them
        // (JFR, NVLM-X training steps: 5 GB of float[] per 10 s from geluErf alone).
        if (op == Unary.GELU_ERF) {
            geluErfLoop(x, xOff, y, yOff, bound);
        } else if (op == Unary.SILU) {
            siluLoop(x, xOff, y, yOff, bound);
        } else {
            unaryLoop(op, x, xOff, y, yOff, bound);
        }
        if (bound < n) {
            unaryTail(op, x, xOff + bound, y, yOff + bound, n - bound);
        }
    }

    private static void geluErfLoop(MemorySegment x, long xOff, MemorySegment y, long yOff, long bound) {
        for (long i = 0; i < bound; i += LANES) {
            FloatVector v = FloatVector.fromMemorySegment(SPECIES, x, (xOff + i) * 4, ORDER);
            geluErf(v).intoMemorySegment(y, (yOff + i) * 4, ORDER);
        }
    }

    private static void siluLoop(MemorySegment x, long xOff, MemorySegment y, long yOff, long bound) {
        for (long i = 0; i < bound; i += LANES) {
            FloatVector v = FloatVector.fromMemorySegment(SPECIES, x, (xOff + i) * 4, ORDER);
            v.mul(VectorMath.sigmoid(v)).intoMemorySegment(y, (yOff + i) * 4, ORDER);
        }
    }

    private static void unaryLoop(Unary op, MemorySegment x, long xOff, MemorySegment y, long yOff, long bound) {
        for (long i = 0; i < bound; i += LANES) {
            FloatVector v = FloatVector.fromMemorySegment(SPECIES, x, (xOff + i) * 4, ORDER);
            forward(op, v).intoMemorySegment(y, (yOff + i) * 4, ORDER);
        }
    }

    /**
     * The last partial vector, masked. Tails live in their own methods throughout this package:
     * C2 stops inlining vector code once a compilation reaches ~18000 IR nodes, and a second copy of
     * a transcendental in the loop method is enough to get there (the vectors would then be boxed).
     */
    private static void unaryTail(Unary op, MemorySegment x, long xOff, MemorySegment y, long yOff, long n) {
        VectorMask<Float> m = SPECIES.indexInRange(0, n);
        FloatVector v = FloatVector.fromMemorySegment(SPECIES, x, xOff * 4, ORDER, m);
        forward(op, v).intoMemorySegment(y, yOff * 4, ORDER, m);
    }

    /** f(x) for one vector. */
    static FloatVector forward(Unary op, FloatVector x) {
        return switch (op) {
            case NEG -> x.neg();
            case EXP -> VectorMath.exp(x);
            case LOG -> VectorMath.log(x);
            case SQRT -> x.sqrt();
            case RSQRT -> ones().div(x.sqrt());
            case ABS -> x.abs();
            case SQUARE -> x.mul(x);
            case RECIPROCAL -> ones().div(x);
            case TANH -> VectorMath.tanh(x);
            case SIGMOID -> VectorMath.sigmoid(x);
            case RELU -> x.max(0f);
            case GELU_ERF -> geluErf(x);
            case GELU_TANH -> geluTanh(x);
            case SILU -> x.mul(VectorMath.sigmoid(x));
            case SIN -> VectorMath.sin(x);
            case COS -> VectorMath.cos(x);
        };
    }

    private static FloatVector ones() {
        return FloatVector.broadcast(SPECIES, 1f);
    }

    private static FloatVector geluErf(FloatVector x) {
        // x Phi(x), Phi(x) = (1 + erf(x / sqrt 2)) / 2 = erfc(-x / sqrt 2) / 2: the erfc form has one
        // branch and keeps relative accuracy for negative x, where 1 + erf cancels.
        return x.mul(0.5f).mul(Erf.erfc(x.mul(-SQRT1_2)));
    }

    private static FloatVector geluTanh(FloatVector x) {
        // 0.5 x (1 + tanh(u)), u = kBeta (x + kKappa x^3), written as x sigmoid(2u) (the same function:
        // (1 + tanh u) / 2 = sigmoid(2u)), which needs one exp and does not cancel for negative x.
        return x.mul(VectorMath.sigmoid(geluTanhInner(x).mul(2f)));
    }

    /** u = kBeta (x + kKappa x^3). */
    private static FloatVector geluTanhInner(FloatVector x) {
        return x.mul(x).mul(x).mul(GELU_KAPPA).add(x).mul(GELU_BETA);
    }

    /** Whether the backward of {@code op} is written in terms of the forward result y. */
    private static boolean backwardUsesResult(Unary op) {
        return switch (op) {
            case EXP, SQRT, RSQRT, RECIPROCAL, TANH, SIGMOID -> true;
            default -> false;
        };
    }

    /**
     * gx[i] = gy[i] * f'(x[i]) (overwrite). y = f(x) may be passed (else null) for the ops whose
     * derivative is written in terms of the result (EXP, SQRT, RSQRT, RECIPROCAL, TANH, SIGMOID);
     * when null it is recomputed. gx may alias gy.
     */
    public static void unaryBackward(Unary op, MemorySegment x, long xOff, MemorySegment y, long yOff,
                                     MemorySegment gy, long gyOff, MemorySegment gx, long gxOff, long n) {
        Arguments.requireNonNull("op", op);
        Arguments.requireF32("x", x, xOff, n);
        if (y != null) {
            Arguments.requireF32("y", y, yOff, n);
        }
        Arguments.requireF32("gy", gy, gyOff, n);
        Arguments.requireF32("gx", gx, gxOff, n);
        if (op == Unary.GELU_ERF) {
            ElementBlocks.forElements(n, (s, e) -> geluErfBackwardRange(x, xOff + s, gy, gyOff + s, gx, gxOff + s, e - s));
            return;
        }
        boolean loadResult = y != null && backwardUsesResult(op);
        ElementBlocks.forElements(n, (s, e) ->
                unaryBackwardRange(op, x, xOff + s, loadResult ? y : null, yOff + s, gy, gyOff + s, gx, gxOff + s, e - s));
    }

    /** y is null when the caller passed none or the op does not need it; then it is recomputed where needed. */
    private static void unaryBackwardRange(Unary op, MemorySegment x, long xOff, MemorySegment y, long yOff,
                                           MemorySegment gy, long gyOff, MemorySegment gx, long gxOff, long n) {
        boolean recompute = y == null && backwardUsesResult(op);
        long bound = SPECIES.loopBound(n);
        for (long i = 0; i < bound; i += LANES) {
            FloatVector xv = FloatVector.fromMemorySegment(SPECIES, x, (xOff + i) * 4, ORDER);
            FloatVector gv = FloatVector.fromMemorySegment(SPECIES, gy, (gyOff + i) * 4, ORDER);
            FloatVector yv = y != null ? FloatVector.fromMemorySegment(SPECIES, y, (yOff + i) * 4, ORDER)
                    : recompute ? forward(op, xv) : xv;
            backward(op, xv, yv, gv).intoMemorySegment(gx, (gxOff + i) * 4, ORDER);
        }
        if (bound < n) {
            unaryBackwardTail(op, x, xOff + bound, y, yOff + bound, gy, gyOff + bound, gx, gxOff + bound, n - bound);
        }
    }

    private static void unaryBackwardTail(Unary op, MemorySegment x, long xOff, MemorySegment y, long yOff,
                                          MemorySegment gy, long gyOff, MemorySegment gx, long gxOff, long n) {
        VectorMask<Float> m = SPECIES.indexInRange(0, n);
        FloatVector xv = FloatVector.fromMemorySegment(SPECIES, x, xOff * 4, ORDER, m);
        FloatVector gv = FloatVector.fromMemorySegment(SPECIES, gy, gyOff * 4, ORDER, m);
        FloatVector yv = y != null ? FloatVector.fromMemorySegment(SPECIES, y, yOff * 4, ORDER, m)
                : backwardUsesResult(op) ? forward(op, xv) : xv;
        backward(op, xv, yv, gv).intoMemorySegment(gx, gxOff * 4, ORDER, m);
    }

    /**
     * gy * f'(x) for one vector; y = f(x) (required for the ops of {@link #backwardUsesResult},
     * ignored otherwise). Formulas as in PyTorch's derivatives.yaml.
     * Every multi-step case is its own small method so this switch stays inlinable.
     */
    static FloatVector backward(Unary op, FloatVector x, FloatVector y, FloatVector gy) {
        return switch (op) {
            case NEG -> gy.neg();
            case EXP -> gy.mul(y);
            case LOG -> gy.div(x);
            case SQRT -> gy.div(y.mul(2f));
            case RSQRT -> rsqrtBackward(y, gy);
            case ABS -> gy.mul(sign(x));
            case SQUARE -> gy.mul(2f).mul(x);
            case RECIPROCAL -> reciprocalBackward(y, gy);
            case TANH -> tanhBackward(y, gy);
            case SIGMOID -> sigmoidBackward(y, gy);
            case RELU -> gy.blend(FloatVector.zero(SPECIES), x.compare(VectorOperators.LE, 0f));
            case GELU_ERF -> geluErfBackward(x, gy);
            case GELU_TANH -> geluTanhBackward(x, gy);
            case SILU -> siluBackward(x, gy);
            case SIN -> gy.mul(VectorMath.cos(x));
            case COS -> gy.mul(VectorMath.sin(x).neg());
        };
    }

    /** -0.5 gy r^3, r = rsqrt(x). */
    private static FloatVector rsqrtBackward(FloatVector r, FloatVector gy) {
        return gy.mul(-0.5f).mul(r.mul(r).mul(r));
    }

    /** -gy r^2, r = 1/x. */
    private static FloatVector reciprocalBackward(FloatVector r, FloatVector gy) {
        return gy.neg().mul(r.mul(r));
    }

    /** gy (1 - t^2), t = tanh(x). */
    private static FloatVector tanhBackward(FloatVector t, FloatVector gy) {
        return gy.mul(t.mul(t).neg().add(1f));
    }

    /** gy (1 - s) s, s = sigmoid(x). */
    private static FloatVector sigmoidBackward(FloatVector s, FloatVector gy) {
        return gy.mul(s.neg().add(1f)).mul(s);
    }

    /** gy s (1 + x (1 - s)), s = sigmoid(x). */
    private static FloatVector siluBackward(FloatVector x, FloatVector gy) {
        FloatVector s = VectorMath.sigmoid(x);
        return gy.mul(s).mul(x.mul(s.neg().add(1f)).add(1f));
    }

    /** sgn(x): 1, -1, or 0 at zero (PyTorch's abs backward); NaN maps to 0. */
    private static FloatVector sign(FloatVector x) {
        FloatVector zero = FloatVector.zero(SPECIES);
        return zero.blend(ones(), x.compare(VectorOperators.GT, 0f))
                .blend(ones().neg(), x.compare(VectorOperators.LT, 0f));
    }

    private static FloatVector geluErfBackward(FloatVector x, FloatVector gy) {
        return gy.mul(x.mul(geluPdf(x)).add(geluCdf(x)));
    }

    /** Phi(x) = erfc(-x / sqrt 2) / 2. */
    private static FloatVector geluCdf(FloatVector x) {
        return Erf.erfc(x.mul(-SQRT1_2)).mul(0.5f);
    }

    /** phi(x) = kAlpha exp(-x^2 / 2). */
    private static FloatVector geluPdf(FloatVector x) {
        return VectorMath.exp(x.mul(x).mul(-0.5f)).mul(GELU_ALPHA);
    }

    /** Elements per chunk of the GELU backward (a multiple of every vector length). */
    private static final int GELU_CHUNK = 512;

    /**
     * gx = gy (Phi(x) + x phi(x)) in chunks copied to zero-padded heap arrays, one transcendental per
     * loop method: erfc and exp together (plus a masked tail) exceed C2's IR-node budget for inlining
     * vector code. The padded lanes are computed and dropped; each element's result is the same as
     * {@link #backward} would give it. gx may alias gy or x.
     */
    private static void geluErfBackwardRange(MemorySegment x, long xOff, MemorySegment gy, long gyOff,
                                             MemorySegment gx, long gxOff, long n) {
        float[] xs = new float[GELU_CHUNK];
        float[] gs = new float[GELU_CHUNK];
        float[] cdf = new float[GELU_CHUNK];
        for (long c = 0; c < n; c += GELU_CHUNK) {
            int len = (int) Math.min(GELU_CHUNK, n - c);
            int padded = (len + LANES - 1) / LANES * LANES;
            MemorySegment.copy(x, F32, (xOff + c) * 4, xs, 0, len);
            MemorySegment.copy(gy, F32, (gyOff + c) * 4, gs, 0, len);
            java.util.Arrays.fill(xs, len, padded, 0f);
            java.util.Arrays.fill(gs, len, padded, 0f);
            geluCdfChunk(xs, cdf, padded);
            geluGradChunk(xs, gs, cdf, padded);
            MemorySegment.copy(gs, 0, gx, F32, (gxOff + c) * 4, len);
        }
    }

    private static void geluCdfChunk(float[] xs, float[] cdf, int n) {
        for (int i = 0; i < n; i += LANES) {
            geluCdf(FloatVector.fromArray(SPECIES, xs, i)).intoArray(cdf, i);
        }
    }

    /** gs = gs * (cdf + x pdf(x)), the same operation order as {@link #geluErfBackward}. */
    private static void geluGradChunk(float[] xs, float[] gs, float[] cdf, int n) {
        for (int i = 0; i < n; i += LANES) {
            FloatVector xv = FloatVector.fromArray(SPECIES, xs, i);
            FloatVector.fromArray(SPECIES, gs, i).mul(xv.mul(geluPdf(xv)).add(FloatVector.fromArray(SPECIES, cdf, i)))
                    .intoArray(gs, i);
        }
    }

    private static FloatVector geluTanhBackward(FloatVector x, FloatVector gy) {
        // d/dx [x s], s = sigmoid(2u): s + 2 x s (1 - s) u', u' = kBeta (1 + 3 kKappa x^2); equal to
        // PyTorch's 0.5 (1 + t) + 0.5 x (1 - t^2) u' with t = tanh(u) = 2s - 1.
        FloatVector s = VectorMath.sigmoid(geluTanhInner(x).mul(2f));
        FloatVector du = x.mul(x).mul(3f * GELU_KAPPA).add(1f).mul(GELU_BETA);
        FloatVector ds = s.neg().add(1f).mul(s).mul(2f);
        return gy.mul(x.mul(ds).fma(du, s));
    }

    // ---------------------------------------------------------------- binary

    /**
     * out = a op b with broadcasting. {@code shape} is the output shape (rank 0..8); aStrides and
     * bStrides are element strides of a and b over that shape (0 where broadcast); out is written
     * contiguous row-major at outOff. out may alias a or b when that input is contiguous with the
     * output's shape.
     */
    public static void binary(Binary op, long[] shape, MemorySegment a, long aOff, long[] aStrides,
                              MemorySegment b, long bOff, long[] bStrides, MemorySegment out, long outOff) {
        Arguments.requireNonNull("op", op);
        long n = Arguments.numel("shape", shape, MAX_RANK);
        Arguments.requireStrided("a", a, aOff, shape, aStrides, Float.BYTES);
        Arguments.requireStrided("b", b, bOff, shape, bStrides, Float.BYTES);
        Arguments.requireF32("out", out, outOff, n);
        BroadcastLoop loop = BroadcastLoop.of(shape, aStrides, bStrides);
        long as = loop.innerStride(0);
        long bs = loop.innerStride(1);
        loop.forEachRow((o, ia, ib, unused, len) ->
                binaryRow(op, a, aOff + ia, as, b, bOff + ib, bs, out, outOff + o, len));
    }

    /** One row of the broadcast loop; each stride pattern is its own method so each gets its own JIT profile. */
    private static void binaryRow(Binary op, MemorySegment a, long aOff, long as, MemorySegment b, long bOff, long bs,
                                  MemorySegment out, long outOff, long n) {
        if (op == Binary.POW) {
            // Lane by lane in double (StrictMath, then one rounding to f32) whatever the strides: the
            // Vector API's POW is SVML in C2 but Math.pow in the interpreter, which would make results
            // depend on JIT state; kept out of the vector apply, which stays small for C2 to inline
            // (a vector passed across a call that is not inlined is boxed).
            for (long i = 0; i < n; i++) {
                out.setAtIndex(F32, outOff + i, apply(op, a.getAtIndex(F32, aOff + i * as), b.getAtIndex(F32, bOff + i * bs)));
            }
        } else if (as == 1 && bs == 1) {
            binaryContiguous(op, a, aOff, b, bOff, out, outOff, n);
        } else if (as == 1 && bs == 0) {
            binaryScalarB(op, a, aOff, b.getAtIndex(F32, bOff), out, outOff, n);
        } else if (as == 0 && bs == 1) {
            binaryScalarA(op, a.getAtIndex(F32, aOff), b, bOff, out, outOff, n);
        } else {
            for (long i = 0; i < n; i++) {
                float av = a.getAtIndex(F32, aOff + i * as);
                float bv = b.getAtIndex(F32, bOff + i * bs);
                out.setAtIndex(F32, outOff + i, apply(op, av, bv));
            }
        }
    }

    private static void binaryContiguous(Binary op, MemorySegment a, long aOff, MemorySegment b, long bOff,
                                         MemorySegment out, long outOff, long n) {
        long bound = SPECIES.loopBound(n);
        long i = 0;
        for (; i < bound; i += LANES) {
            FloatVector av = FloatVector.fromMemorySegment(SPECIES, a, (aOff + i) * 4, ORDER);
            FloatVector bv = FloatVector.fromMemorySegment(SPECIES, b, (bOff + i) * 4, ORDER);
            apply(op, av, bv).intoMemorySegment(out, (outOff + i) * 4, ORDER);
        }
        if (i < n) {
            VectorMask<Float> m = SPECIES.indexInRange(i, n);
            FloatVector av = FloatVector.fromMemorySegment(SPECIES, a, (aOff + i) * 4, ORDER, m);
            FloatVector bv = FloatVector.fromMemorySegment(SPECIES, b, (bOff + i) * 4, ORDER, m);
            apply(op, av, bv).intoMemorySegment(out, (outOff + i) * 4, ORDER, m);
        }
    }

    private static void binaryScalarB(Binary op, MemorySegment a, long aOff, float b, MemorySegment out, long outOff, long n) {
        FloatVector bv = FloatVector.broadcast(SPECIES, b);
        long bound = SPECIES.loopBound(n);
        long i = 0;
        for (; i < bound; i += LANES) {
            FloatVector av = FloatVector.fromMemorySegment(SPECIES, a, (aOff + i) * 4, ORDER);
            apply(op, av, bv).intoMemorySegment(out, (outOff + i) * 4, ORDER);
        }
        if (i < n) {
            VectorMask<Float> m = SPECIES.indexInRange(i, n);
            FloatVector av = FloatVector.fromMemorySegment(SPECIES, a, (aOff + i) * 4, ORDER, m);
            apply(op, av, bv).intoMemorySegment(out, (outOff + i) * 4, ORDER, m);
        }
    }

    private static void binaryScalarA(Binary op, float a, MemorySegment b, long bOff, MemorySegment out, long outOff, long n) {
        FloatVector av = FloatVector.broadcast(SPECIES, a);
        long bound = SPECIES.loopBound(n);
        long i = 0;
        for (; i < bound; i += LANES) {
            FloatVector bv = FloatVector.fromMemorySegment(SPECIES, b, (bOff + i) * 4, ORDER);
            apply(op, av, bv).intoMemorySegment(out, (outOff + i) * 4, ORDER);
        }
        if (i < n) {
            VectorMask<Float> m = SPECIES.indexInRange(i, n);
            FloatVector bv = FloatVector.fromMemorySegment(SPECIES, b, (bOff + i) * 4, ORDER, m);
            apply(op, av, bv).intoMemorySegment(out, (outOff + i) * 4, ORDER, m);
        }
    }

    static FloatVector apply(Binary op, FloatVector a, FloatVector b) {
        return switch (op) {
            case ADD -> a.add(b);
            case SUB -> a.sub(b);
            case MUL -> a.mul(b);
            case DIV -> a.div(b);
            case MAX -> a.max(b);
            case MIN -> a.min(b);
            case POW -> throw new AssertionError("POW runs lane by lane in binaryRow");
        };
    }

    /** The scalar form, bit-identical to the vector form. */
    static float apply(Binary op, float a, float b) {
        return switch (op) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> a / b;
            case MAX -> Math.max(a, b);
            case MIN -> Math.min(a, b);
            case POW -> (float) StrictMath.pow(a, b);
        };
    }

    // ---------------------------------------------------------------- affine, axpy, fill

    /** y[i] = alpha * x[i] + beta (one fused multiply-add; contiguous; y may alias x). */
    public static void affine(MemorySegment x, long xOff, MemorySegment y, long yOff, long n, float alpha, float beta) {
        Arguments.requireF32("x", x, xOff, n);
        Arguments.requireF32("y", y, yOff, n);
        ElementBlocks.forElements(n, (s, e) -> affineRange(x, xOff + s, y, yOff + s, e - s, alpha, beta));
    }

    private static void affineRange(MemorySegment x, long xOff, MemorySegment y, long yOff, long n, float alpha, float beta) {
        FloatVector a = FloatVector.broadcast(SPECIES, alpha);
        FloatVector b = FloatVector.broadcast(SPECIES, beta);
        long bound = SPECIES.loopBound(n);
        long i = 0;
        for (; i < bound; i += LANES) {
            FloatVector.fromMemorySegment(SPECIES, x, (xOff + i) * 4, ORDER).fma(a, b)
                    .intoMemorySegment(y, (yOff + i) * 4, ORDER);
        }
        if (i < n) {
            VectorMask<Float> m = SPECIES.indexInRange(i, n);
            FloatVector.fromMemorySegment(SPECIES, x, (xOff + i) * 4, ORDER, m).fma(a, b)
                    .intoMemorySegment(y, (yOff + i) * 4, ORDER, m);
        }
    }

    /** y[i] += alpha * x[i] (one fused multiply-add). */
    public static void axpy(float alpha, MemorySegment x, long xOff, MemorySegment y, long yOff, long n) {
        Arguments.requireF32("x", x, xOff, n);
        Arguments.requireF32("y", y, yOff, n);
        ElementBlocks.forElements(n, (s, e) -> axpyRange(alpha, x, xOff + s, y, yOff + s, e - s));
    }

    private static void axpyRange(float alpha, MemorySegment x, long xOff, MemorySegment y, long yOff, long n) {
        FloatVector a = FloatVector.broadcast(SPECIES, alpha);
        long bound = SPECIES.loopBound(n);
        long i = 0;
        for (; i < bound; i += LANES) {
            FloatVector xv = FloatVector.fromMemorySegment(SPECIES, x, (xOff + i) * 4, ORDER);
            FloatVector yv = FloatVector.fromMemorySegment(SPECIES, y, (yOff + i) * 4, ORDER);
            xv.fma(a, yv).intoMemorySegment(y, (yOff + i) * 4, ORDER);
        }
        if (i < n) {
            VectorMask<Float> m = SPECIES.indexInRange(i, n);
            FloatVector xv = FloatVector.fromMemorySegment(SPECIES, x, (xOff + i) * 4, ORDER, m);
            FloatVector yv = FloatVector.fromMemorySegment(SPECIES, y, (yOff + i) * 4, ORDER, m);
            xv.fma(a, yv).intoMemorySegment(y, (yOff + i) * 4, ORDER, m);
        }
    }

    public static void fill(MemorySegment y, long yOff, long n, float value) {
        Arguments.requireF32("y", y, yOff, n);
        if (Float.floatToRawIntBits(value) == 0) {
            y.asSlice(yOff * 4, n * 4).fill((byte) 0);
            return;
        }
        ElementBlocks.forElements(n, (s, e) -> fillRange(y, yOff + s, e - s, value));
    }

    private static void fillRange(MemorySegment y, long yOff, long n, float value) {
        FloatVector v = FloatVector.broadcast(SPECIES, value);
        long bound = SPECIES.loopBound(n);
        long i = 0;
        for (; i < bound; i += LANES) {
            v.intoMemorySegment(y, (yOff + i) * 4, ORDER);
        }
        if (i < n) {
            v.intoMemorySegment(y, (yOff + i) * 4, ORDER, SPECIES.indexInRange(i, n));
        }
    }

    // ---------------------------------------------------------------- where, compare

    /**
     * out = cond ? a : b with broadcasting; cond is a byte segment (nonzero = true) with strides in
     * bytes (= elements), a and b are f32, out is written contiguous row-major.
     */
    public static void where(long[] shape, MemorySegment cond, long cOff, long[] cStrides,
                             MemorySegment a, long aOff, long[] aStrides, MemorySegment b, long bOff, long[] bStrides,
                             MemorySegment out, long outOff) {
        long n = Arguments.numel("shape", shape, MAX_RANK);
        Arguments.requireStrided("cond", cond, cOff, shape, cStrides, Byte.BYTES);
        Arguments.requireStrided("a", a, aOff, shape, aStrides, Float.BYTES);
        Arguments.requireStrided("b", b, bOff, shape, bStrides, Float.BYTES);
        Arguments.requireF32("out", out, outOff, n);
        BroadcastLoop loop = BroadcastLoop.of(shape, cStrides, aStrides, bStrides);
        long cs = loop.innerStride(0);
        long as = loop.innerStride(1);
        long bs = loop.innerStride(2);
        loop.forEachRow((o, ic, ia, ib, len) -> {
            long c0 = cOff + ic;
            long a0 = aOff + ia;
            long b0 = bOff + ib;
            long o0 = outOff + o;
            for (long i = 0; i < len; i++) {
                boolean c = cond.get(ValueLayout.JAVA_BYTE, c0 + i * cs) != 0;
                float v = c ? a.getAtIndex(F32, a0 + i * as) : b.getAtIndex(F32, b0 + i * bs);
                out.setAtIndex(F32, o0 + i, v);
            }
        });
    }

    /**
     * out = (a op b) ? 1 : 0 as bytes, with broadcasting; out is written contiguous row-major.
     * IEEE semantics: every comparison with NaN is false except NE.
     */
    public static void compare(Compare op, long[] shape, MemorySegment a, long aOff, long[] aStrides,
                               MemorySegment b, long bOff, long[] bStrides, MemorySegment out, long outOff) {
        Arguments.requireNonNull("op", op);
        long n = Arguments.numel("shape", shape, MAX_RANK);
        Arguments.requireStrided("a", a, aOff, shape, aStrides, Float.BYTES);
        Arguments.requireStrided("b", b, bOff, shape, bStrides, Float.BYTES);
        Arguments.requireRange("out", out, outOff, n, Byte.BYTES);
        BroadcastLoop loop = BroadcastLoop.of(shape, aStrides, bStrides);
        long as = loop.innerStride(0);
        long bs = loop.innerStride(1);
        loop.forEachRow((o, ia, ib, unused, len) -> {
            long a0 = aOff + ia;
            long b0 = bOff + ib;
            long o0 = outOff + o;
            for (long i = 0; i < len; i++) {
                float av = a.getAtIndex(F32, a0 + i * as);
                float bv = b.getAtIndex(F32, b0 + i * bs);
                out.set(ValueLayout.JAVA_BYTE, o0 + i, compare(op, av, bv) ? (byte) 1 : (byte) 0);
            }
        });
    }

    static boolean compare(Compare op, float a, float b) {
        return switch (op) {
            case EQ -> a == b;
            case NE -> a != b;
            case LT -> a < b;
            case LE -> a <= b;
            case GT -> a > b;
            case GE -> a >= b;
        };
    }
}
