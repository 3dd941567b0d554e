package nvlm.kernels.gpu;

import static nvlm.kernels.gpu.Fixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import java.util.SplittableRandom;
import java.util.function.DoubleUnaryOperator;
import nvlm.kernels.translator.F32Buffer;
import nvlm.kernels.translator.I8Buffer;
import org.junit.jupiter.api.Test;

class ElementwiseTest {
    // float32 math (float exp/tanh, the float erf of GpuMath) against double references.
    private static final double ATOL = 1e-5;
    private static final double RTOL = 1e-5;

    static double reference(int op, double x) {
        return switch (op) {
            case Elementwise.NEG -> -x;
            case Elementwise.EXP -> Math.exp(x);
            case Elementwise.LOG -> Math.log(x);
            case Elementwise.TANH -> Math.tanh(x);
            case Elementwise.SIGMOID -> 1 / (1 + Math.exp(-x));
            case Elementwise.RELU -> Math.max(x, 0);
            case Elementwise.GELU_ERF -> 0.5 * x * (1 + Fixtures.erf(x / Math.sqrt(2)));
            case Elementwise.GELU_TANH -> 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
            case Elementwise.SILU -> x / (1 + Math.exp(-x));
            case Elementwise.SQRT -> Math.sqrt(x);
            case Elementwise.RSQRT -> 1 / Math.sqrt(x);
            case Elementwise.SQUARE -> x * x;
            case Elementwise.ABS -> Math.abs(x);
            case Elementwise.RECIPROCAL -> 1 / x;
            case Elementwise.SIN -> Math.sin(x);
            case Elementwise.COS -> Math.cos(x);
            default -> throw new IllegalArgumentException("op " + op);
        };
    }

    static double referenceDerivative(int op, double x) {
        return switch (op) {
            case Elementwise.NEG -> -1;
            case Elementwise.EXP -> Math.exp(x);
            case Elementwise.LOG -> 1 / x;
            case Elementwise.TANH -> 1 - Math.tanh(x) * Math.tanh(x);
            case Elementwise.SIGMOID -> reference(Elementwise.SIGMOID, x) * (1 - reference(Elementwise.SIGMOID, x));
            case Elementwise.RELU -> x > 0 ? 1 : 0;
            case Elementwise.GELU_ERF -> 0.5 * (1 + Fixtures.erf(x / Math.sqrt(2))) + x * Math.exp(-x * x / 2) / Math.sqrt(2 * Math.PI);
            case Elementwise.GELU_TANH -> {
                double k = Math.sqrt(2 / Math.PI);
                double t = Math.tanh(k * (x + 0.044715 * x * x * x));
                yield 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * 0.044715 * x * x);
            }
            case Elementwise.SILU -> {
                double s = reference(Elementwise.SIGMOID, x);
                yield s + x * s * (1 - s);
            }
            case Elementwise.SQRT -> 0.5 / Math.sqrt(x);
            case Elementwise.RSQRT -> -0.5 * Math.pow(x, -1.5);
            case Elementwise.SQUARE -> 2 * x;
            case Elementwise.ABS -> Math.signum(x);
            case Elementwise.RECIPROCAL -> -1 / (x * x);
            case Elementwise.SIN -> Math.cos(x);
            case Elementwise.COS -> -Math.sin(x);
            default -> throw new IllegalArgumentException("op " + op);
        };
    }

    private static boolean positiveDomain(int op) {
        return op == Elementwise.LOG || op == Elementwise.SQRT || op == Elementwise.RSQRT || op == Elementwise.RECIPROCAL;
    }

    private static float[] inputs(SplittableRandom random, int op, int n) {
        return positiveDomain(op) ? Fixtures.uniform(random, n, 0.05, 20) : Fixtures.gaussian(random, n, 3);
    }

    @Test
    void referenceDerivativesAgreeWithCentralDifferences() {
        SplittableRandom random = new SplittableRandom(7);
        for (int op = 0; op < Elementwise.UNARY_OPS; op++) {
            for (int k = 0; k < 200; k++) {
                double x = positiveDomain(op) ? random.nextDouble(0.05, 20) : random.nextGaussian() * 3;
                if (Math.abs(x) < 1e-3) {
                    continue;  // relu and abs have a kink at 0
                }
                double h = 1e-6 * Math.max(1, Math.abs(x));
                int fop = op;
                DoubleUnaryOperator f = v -> reference(fop, v);
                double numeric = (f.applyAsDouble(x + h) - f.applyAsDouble(x - h)) / (2 * h);
                double analytic = referenceDerivative(op, x);
                assertEquals(analytic, numeric, 1e-5 * Math.max(1, Math.abs(analytic)), "op " + op + " at " + x);
            }
        }
    }

    @Test
    void unaryForwardAndBackwardMatchDoubleReferences() {
        qt().withExamples(25).forAll(integers().between(1, 4000), longs().all()).checkAssert((n, seed) -> {
            SplittableRandom random = new SplittableRandom(seed);
            for (int op = 0; op < Elementwise.UNARY_OPS; op++) {
                float[] x = inputs(random, op, n);
                float[] dy = Fixtures.gaussian(random, n, 1);
                F32Buffer y = Fixtures.zeros(n);
                F32Buffer dx = Fixtures.zeros(n);
                Elementwise.unary(op, Fixtures.buffer(x), y, n).runOnCpu();
                Elementwise.unaryBackward(op, Fixtures.buffer(x), Fixtures.buffer(dy), dx, n).runOnCpu();
                double[] expectedY = new double[n];
                double[] expectedDx = new double[n];
                for (int i = 0; i < n; i++) {
                    expectedY[i] = reference(op, x[i]);
                    expectedDx[i] = dy[i] * referenceDerivative(op, x[i]);
                }
                assertClose("unary op " + op + " n=" + n, expectedY, y, ATOL, RTOL);
                assertClose("unary backward op " + op + " n=" + n, expectedDx, dx, ATOL, RTOL);
            }
        });
    }

    @Test
    void unaryKernelsWorkInPlace() {
        float[] x = {-2f, -0.5f, 0f, 0.5f, 3f};
        F32Buffer inPlace = Fixtures.buffer(x);
        Elementwise.unary(Elementwise.SILU, inPlace, inPlace, x.length).runOnCpu();
        double[] expected = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            expected[i] = reference(Elementwise.SILU, x[i]);
        }
        assertClose("in-place silu", expected, inPlace, ATOL, RTOL);
    }

    @Test
    void binaryAffineAndAxpyMatchPlainArithmetic() {
        qt().withExamples(25).forAll(integers().between(1, 5000), longs().all()).checkAssert((n, seed) -> {
            SplittableRandom random = new SplittableRandom(seed);
            float[] a = Fixtures.gaussian(random, n, 2);
            float[] b = Fixtures.gaussian(random, n, 2);
            for (int op = 0; op < Elementwise.BINARY_OPS; op++) {
                F32Buffer out = Fixtures.zeros(n);
                Elementwise.binary(op, Fixtures.buffer(a), Fixtures.buffer(b), out, n).runOnCpu();
                for (int i = 0; i < n; i++) {
                    assertEquals(binary(op, a[i], b[i]), out.get(i), "op " + op + " element " + i);
                }
            }
            float alpha = (float) random.nextGaussian();
            float beta = (float) random.nextGaussian();
            F32Buffer affine = Fixtures.buffer(a);
            Elementwise.affine(affine, affine, n, alpha, beta).runOnCpu();
            F32Buffer y = Fixtures.buffer(b);
            Elementwise.axpy(alpha, Fixtures.buffer(a), y, n).runOnCpu();
            for (int i = 0; i < n; i++) {
                assertEquals(alpha * a[i] + beta, affine.get(i), "affine (in place) element " + i);
                assertEquals(b[i] + alpha * a[i], y.get(i), "axpy element " + i);
            }
        });
    }

    private static float binary(int op, float a, float b) {
        return switch (op) {
            case Elementwise.ADD -> a + b;
            case Elementwise.SUB -> a - b;
            case Elementwise.MUL -> a * b;
            case Elementwise.DIV -> a / b;
            case Elementwise.MAX -> Math.max(a, b);
            case Elementwise.MIN -> Math.min(a, b);
            default -> (float) Math.pow(a, b);
        };
    }

    private static boolean compare(int op, float a, float b) {
        return switch (op) {
            case Elementwise.EQ -> a == b;
            case Elementwise.NE -> a != b;
            case Elementwise.LT -> a < b;
            case Elementwise.LE -> a <= b;
            case Elementwise.GT -> a > b;
            default -> a >= b;
        };
    }

    @Test
    void broadcastComparisonsAndSelectsReadOperandsThroughStridesIncludingZeroAndPermuted() {
        // Ranks up to 4 take the kernel that splits the index once, 5 and 6 the general one.
        qt().withExamples(60).forAll(integers().between(1, Launches.MAX_RANK), longs().all()).checkAssert((rank, seed) -> {
            SplittableRandom random = new SplittableRandom(seed);
            long[] shape = new long[rank];
            for (int i = 0; i < rank; i++) {
                shape[i] = random.nextInt(1, rank > 4 ? 4 : 8);
            }
            View a = View.random(random, shape);
            View b = View.random(random, shape);
            View c = View.random(random, shape);
            byte[] cond = new byte[c.storage.length];
            for (int i = 0; i < cond.length; i++) {
                cond[i] = (byte) (c.storage[i] > 0 ? 1 + random.nextInt(100) : 0);
            }
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            int op = random.nextInt(Elementwise.BINARY_OPS);
            int cmp = random.nextInt(Elementwise.COMPARE_OPS);
            F32Buffer out = Fixtures.zeros(n);
            Elementwise.broadcast(op, F32Buffer.wrap(a.storage), a.strides, F32Buffer.wrap(b.storage), b.strides, out, shape)
                    .runOnCpu();
            I8Buffer compared = I8Buffer.wrap(new byte[(int) n]);
            Elementwise.compare(cmp, F32Buffer.wrap(a.storage), a.strides, F32Buffer.wrap(b.storage), b.strides, compared,
                    shape).runOnCpu();
            F32Buffer selected = Fixtures.zeros(n);
            Elementwise.where(I8Buffer.wrap(cond), c.strides, F32Buffer.wrap(a.storage), a.strides,
                    F32Buffer.wrap(b.storage), b.strides, selected, shape).runOnCpu();
            long[] index = new long[rank];
            for (long flat = 0; flat < n; flat++) {
                long rest = flat;
                for (int d = rank - 1; d >= 0; d--) {
                    index[d] = rest % shape[d];
                    rest /= shape[d];
                }
                assertEquals(binary(op, a.at(index), b.at(index)), out.get(flat), "op " + op + " element " + flat);
                assertEquals(compare(cmp, a.at(index), b.at(index)) ? 1 : 0, compared.get(flat), "compare " + cmp);
                boolean pick = cond[(int) c.offset(index)] != 0;
                assertEquals(pick ? a.at(index) : b.at(index), selected.get(flat), "where, element " + flat);
            }
        });
    }

    /** A random view of a shape: each dimension broadcast (stride 0) or stored, in a random order. */
    record View(float[] storage, long[] strides) {
        static View random(SplittableRandom random, long[] shape) {
            int rank = shape.length;
            long[] strides = new long[rank];
            int[] order = new int[rank];
            for (int i = 0; i < rank; i++) {
                order[i] = i;
            }
            for (int i = rank - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
            long size = 1;
            for (int k = rank - 1; k >= 0; k--) {
                int d = order[k];
                if (random.nextInt(3) == 0) {
                    strides[d] = 0;
                } else {
                    strides[d] = size;
                    size *= shape[d];
                }
            }
            return new View(Fixtures.gaussian(random, (int) size, 1), strides);
        }

        long offset(long[] index) {
            long offset = 0;
            for (int i = 0; i < index.length; i++) {
                offset += index[i] * strides[i];
            }
            return offset;
        }

        float at(long[] index) {
            return storage[(int) offset(index)];
        }
    }
}
