package nvlm.kernels.cpu;

import static nvlm.kernels.cpu.KernelFixtures.assertBitsEqual;
import static nvlm.kernels.cpu.KernelFixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.quicktheories.QuickTheory.qt;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import nvlm.kernels.cpu.Elementwise.Binary;
import nvlm.kernels.cpu.Elementwise.Compare;
import nvlm.kernels.cpu.Elementwise.Unary;
import nvlm.kernels.cpu.KernelFixtures.Buf;
import nvlm.kernels.cpu.KernelFixtures.View;
import org.junit.jupiter.api.Test;
import org.quicktheories.generators.Generate;

class ElementwiseTest {

    /** Inputs in the domain where the op is interesting (and mostly defined). */
    private static float[] unaryInputs(Unary op, Random r, int n) {
        float[] x = KernelFixtures.gaussian(r, n, new double[] {0.3, 1, 4}[r.nextInt(3)]);
        for (int i = 0; i < n; i++) {
            switch (op) {
                case LOG, SQRT, RSQRT -> {
                    // Positive over many decades, with an occasional zero or negative (NaN / inf results).
                    x[i] = r.nextInt(40) == 0 ? x[i] : (float) Math.exp(r.nextGaussian() * 8);
                }
                case EXP -> x[i] = (float) (r.nextDouble() * 190 - 95); // includes overflow and underflow
                case SIN, COS -> x[i] = (float) (r.nextDouble() * 200 - 100);
                case RECIPROCAL -> x[i] = x[i] == 0 && r.nextBoolean() ? -0f : x[i];
                case SIGMOID, SILU, GELU_ERF, GELU_TANH, TANH -> x[i] = r.nextInt(20) == 0 ? x[i] * 30 : x[i];
                default -> { }
            }
        }
        return x;
    }

    /** Ops whose f32 result is a single correctly rounded operation: must equal the double reference exactly. */
    private static boolean exact(Unary op) {
        return switch (op) {
            case NEG, ABS, SQUARE, RELU, SQRT, RECIPROCAL -> true;
            default -> false;
        };
    }

    @Test
    void unaryOpsMatchTheDoubleReference() {
        qt().withExamples(250).forAll(Generate.enumValues(Unary.class), KernelFixtures.sizes(100_000), KernelFixtures.seeds())
                .checkAssert((op, n, seed) -> {
                    Random r = new Random(seed);
                    float[] xs = unaryInputs(op, r, n);
                    Buf x = KernelFixtures.buffer(r, xs);
                    boolean inPlace = r.nextInt(4) == 0;
                    Buf y = inPlace ? x : KernelFixtures.zeros(r, n);
                    Elementwise.unary(op, x.seg(), x.off(), y.seg(), y.off(), n);
                    float[] got = y.toArray();
                    for (int i = 0; i < n; i++) {
                        double expected = (float) ReferenceKernels.unary(op, xs[i]);
                        String problem;
                        if (exact(op)) {
                            problem = KernelFixtures.mismatch(expected, got[i], 0, 0);
                        } else {
                            // VectorMath transcendentals and erf are within a few ulp (rtol = 10 ulp); composites
                            // such as x * (1 + erf(x / sqrt 2)) cancel for large negative x, hence their |x|-scaled
                            // atol; 1e-38 is slack for subnormal results.
                            double atol = switch (op) {
                                case GELU_ERF, GELU_TANH, SILU -> 3e-7 * Math.abs(xs[i]);
                                case SIN, COS -> 1e-7;
                                default -> 1e-38;
                            };
                            problem = KernelFixtures.mismatch(expected, got[i], atol, 1.2e-6);
                        }
                        if (problem != null) {
                            fail(op + " x=" + xs[i] + ": " + problem);
                        }
                    }
                });
    }

    @Test
    void unaryBackwardMatchesTheCalculusDerivative() {
        qt().withExamples(200).forAll(Generate.enumValues(Unary.class), KernelFixtures.sizes(100_000), KernelFixtures.seeds())
                .checkAssert((op, n, seed) -> {
                    Random r = new Random(seed);
                    float[] xs = unaryInputs(op, r, n);
                    if (op == Unary.EXP) {
                        for (int i = 0; i < n; i++) {
                            xs[i] *= 0.9f; // keep exp(x) finite: gy * inf is NaN in f32 but finite in the double reference
                        }
                    }
                    if (op == Unary.RELU) {
                        for (int i = 0; i < n; i++) {
                            xs[i] = xs[i] == 0 ? 1e-3f : xs[i]; // f' is undefined at 0
                        }
                    }
                    float[] gys = KernelFixtures.gaussian(r, n, 1);
                    Buf x = KernelFixtures.buffer(r, xs);
                    Buf gy = KernelFixtures.buffer(r, gys);
                    boolean passResult = r.nextBoolean();
                    Buf y = null;
                    if (passResult) {
                        y = KernelFixtures.zeros(r, n);
                        Elementwise.unary(op, x.seg(), x.off(), y.seg(), y.off(), n);
                    }
                    boolean inPlace = r.nextInt(4) == 0;
                    Buf gx = inPlace ? gy.copy() : KernelFixtures.zeros(r, n);
                    Buf gySource = inPlace ? gx : gy;
                    Elementwise.unaryBackward(op, x.seg(), x.off(), y == null ? null : y.seg(), y == null ? 0 : y.off(),
                            gySource.seg(), gySource.off(), gx.seg(), gx.off(), n);
                    float[] got = gx.toArray();
                    for (int i = 0; i < n; i++) {
                        double d = ReferenceKernels.unaryDerivative(op, xs[i]);
                        double expected = (float) (gys[i] * d);
                        // f' written from y = f(x) in f32 (1 - y^2, y (1 - y)) loses ~1 ulp of 1 where f saturates,
                        // so the absolute part scales with |gy| and, for the x-weighted GELU/SiLU terms, with |x|;
                        // 1e-38 is slack for results in the subnormal range.
                        double atol = switch (op) {
                            case TANH, SIGMOID -> 2e-7 * Math.abs(gys[i]);
                            case GELU_ERF, GELU_TANH, SILU -> 4e-7 * Math.abs(gys[i]) * (1 + Math.abs(xs[i]));
                            case SIN, COS -> 1e-7 * Math.abs(gys[i]);
                            default -> 1e-38;
                        };
                        String problem = KernelFixtures.mismatch(expected, got[i], atol, 2e-6);
                        if (problem != null) {
                            fail(op + "' x=" + xs[i] + " gy=" + gys[i] + ": " + problem);
                        }
                    }
                });
    }

    @Test
    void referenceDerivativesMatchCentralFiniteDifferences() {
        qt().withExamples(2000).forAll(Generate.enumValues(Unary.class), KernelFixtures.seeds()).checkAssert((op, seed) -> {
            Random r = new Random(seed);
            double x = switch (op) {
                case LOG, SQRT, RSQRT -> Math.exp(r.nextGaussian() * 2);
                default -> r.nextGaussian() * 3;
            };
            if ((op == Unary.RELU || op == Unary.ABS) && Math.abs(x) < 1e-3) {
                x = 0.5; // kink at 0
            }
            // A step relative to |x| (floored at 1e-3) keeps the truncation error small near log's and rsqrt's pole.
            double h = 1e-6 * Math.max(1e-3, Math.abs(x));
            double fd = (ReferenceKernels.unary(op, x + h) - ReferenceKernels.unary(op, x - h)) / (2 * h);
            double d = ReferenceKernels.unaryDerivative(op, x);
            assertClose(op + "'(" + x + ")", fd, d, 1e-6 * (1 + Math.abs(ReferenceKernels.unary(op, x))), 1e-6);
        });
    }

    // ------------------------------------------------------------ broadcasting

    private static void fillFloats(Random r, MemorySegment seg, double scale) {
        for (long i = 0; i < seg.byteSize() / 4; i++) {
            float v = (float) (r.nextGaussian() * scale);
            if (r.nextInt(10) == 0) {
                v = Math.round(v); // equal values, so EQ/LE/GE are exercised
            }
            seg.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, i, v);
        }
    }

    private static long[] randomShape(Random r) {
        if (r.nextInt(25) == 0) {
            // Large enough for the threaded path.
            return r.nextBoolean() ? new long[] {70_000 + r.nextInt(50_000)} : new long[] {1 + r.nextInt(300), 257 + r.nextInt(600)};
        }
        int rank = r.nextInt(10) == 0 ? 5 + r.nextInt(4) : r.nextInt(5);
        long[] shape = new long[rank];
        int[] dims = {1, 1, 2, 3, 5, 7, 16, 17, 33};
        for (int d = 0; d < rank; d++) {
            shape[d] = rank > 4 ? 1 + r.nextInt(3) : dims[r.nextInt(dims.length)];
        }
        return shape;
    }

    /** Broadcast pattern: none, scalar, row vector (all but the last dim), or random dims. */
    private static boolean[] broadcastPattern(Random r, int rank) {
        boolean[] b = new boolean[rank];
        switch (r.nextInt(4)) {
            case 0 -> { }
            case 1 -> java.util.Arrays.fill(b, true);
            case 2 -> {
                java.util.Arrays.fill(b, true);
                if (rank > 0) {
                    b[rank - 1] = false;
                }
            }
            default -> {
                for (int d = 0; d < rank; d++) {
                    b[d] = r.nextInt(3) == 0;
                }
            }
        }
        return b;
    }

    @Test
    void broadcastingBinaryOpsMatchTheReference() {
        qt().withExamples(300).forAll(Generate.enumValues(Binary.class), KernelFixtures.seeds()).checkAssert((op, seed) -> {
            Random r = new Random(seed);
            long[] shape = randomShape(r);
            View a = KernelFixtures.view(r, shape, broadcastPattern(r, shape.length), 4, r.nextBoolean());
            View b = KernelFixtures.view(r, shape, broadcastPattern(r, shape.length), 4, r.nextBoolean());
            fillFloats(r, a.seg(), 3);
            fillFloats(r, b.seg(), op == Binary.POW ? 1 : 3);
            long n = ReferenceKernels.numel(shape);
            MemorySegment out = Arena.ofAuto().allocate(n * 4 + 4, 4);
            MemorySegment expected = Arena.ofAuto().allocate(n * 4 + 4, 4);
            Elementwise.binary(op, shape, a.seg(), a.off(), a.strides(), b.seg(), b.off(), b.strides(), out, 1);
            ReferenceKernels.binary(op, shape, a.seg(), a.off(), a.strides(), b.seg(), b.off(), b.strides(), expected, 1);
            for (long k = 0; k < n; k++) {
                float e = expected.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, 1 + k);
                float g = out.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, 1 + k);
                // Every op but POW is one correctly rounded f32 operation; POW is StrictMath.pow rounded to f32.
                String problem = KernelFixtures.mismatch(e, g, op == Binary.POW ? 1e-38 : 0, op == Binary.POW ? 1e-6 : 0);
                if (problem != null) {
                    fail(op + " " + java.util.Arrays.toString(shape) + " at " + k + ": " + problem);
                }
            }
        });
    }

    @Test
    void binaryOutputMayAliasAContiguousInput() {
        qt().withExamples(60).forAll(Generate.enumValues(Binary.class), KernelFixtures.sizes(100_000), KernelFixtures.seeds())
                .checkAssert((op, n, seed) -> {
                    Random r = new Random(seed);
                    Buf a = KernelFixtures.buffer(r, KernelFixtures.gaussian(r, n, 2));
                    Buf b = KernelFixtures.buffer(r, KernelFixtures.gaussian(r, n, 2));
                    MemorySegment expected = MemorySegment.ofArray(new float[n]);
                    long[] shape = {n};
                    long[] unit = {1};
                    ReferenceKernels.binary(op, shape, a.seg(), a.off(), unit, b.seg(), b.off(), unit, expected, 0);
                    boolean intoA = r.nextBoolean();
                    Buf target = intoA ? a : b;
                    Elementwise.binary(op, shape, a.seg(), a.off(), unit, b.seg(), b.off(), unit, target.seg(), target.off());
                    double[] want = new double[n];
                    for (int i = 0; i < n; i++) {
                        want[i] = expected.getAtIndex(ValueLayout.JAVA_FLOAT, i);
                    }
                    assertClose(op + " in place", want, target.toArray(), 0, op == Binary.POW ? 1e-6 : 0);
                });
    }

    @Test
    void whereAndCompareBroadcastLikeTheReference() {
        qt().withExamples(200).forAll(Generate.enumValues(Compare.class), KernelFixtures.seeds()).checkAssert((op, seed) -> {
            Random r = new Random(seed);
            long[] shape = randomShape(r);
            long n = ReferenceKernels.numel(shape);
            View a = KernelFixtures.view(r, shape, broadcastPattern(r, shape.length), 4, r.nextBoolean());
            View b = KernelFixtures.view(r, shape, broadcastPattern(r, shape.length), 4, r.nextBoolean());
            fillFloats(r, a.seg(), 2);
            fillFloats(r, b.seg(), 2);
            if (r.nextInt(5) == 0) {
                a.seg().setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, a.off(), Float.NaN);
            }
            MemorySegment mask = Arena.ofAuto().allocate(n + 1);
            MemorySegment expectedMask = Arena.ofAuto().allocate(n + 1);
            Elementwise.compare(op, shape, a.seg(), a.off(), a.strides(), b.seg(), b.off(), b.strides(), mask, 1);
            ReferenceKernels.compare(op, shape, a.seg(), a.off(), a.strides(), b.seg(), b.off(), b.strides(), expectedMask, 1);
            assertEquals(-1L, expectedMask.asSlice(1, n).mismatch(mask.asSlice(1, n)), op + " mask differs");

            View c = KernelFixtures.view(r, shape, broadcastPattern(r, shape.length), 1, r.nextBoolean());
            for (long i = 0; i < c.seg().byteSize(); i++) {
                c.seg().set(ValueLayout.JAVA_BYTE, i, (byte) (r.nextInt(3) == 0 ? 0 : r.nextInt(255) + 1));
            }
            MemorySegment out = Arena.ofAuto().allocate(n * 4);
            MemorySegment expected = Arena.ofAuto().allocate(n * 4);
            Elementwise.where(shape, c.seg(), c.off(), c.strides(), a.seg(), a.off(), a.strides(), b.seg(), b.off(),
                    b.strides(), out, 0);
            ReferenceKernels.where(shape, c.seg(), c.off(), c.strides(), a.seg(), a.off(), a.strides(), b.seg(), b.off(),
                    b.strides(), expected, 0);
            assertEquals(-1L, expected.mismatch(out), "where differs");
        });
    }

    @Test
    void affineAxpyAndFillMatchTheReference() {
        qt().withExamples(100).forAll(KernelFixtures.sizes(100_000), KernelFixtures.seeds()).checkAssert((n, seed) -> {
            Random r = new Random(seed);
            float alpha = (float) r.nextGaussian();
            float beta = (float) r.nextGaussian();
            float[] xs = KernelFixtures.gaussian(r, n, 2);
            Buf x = KernelFixtures.buffer(r, xs);
            Buf y = KernelFixtures.buffer(r, KernelFixtures.gaussian(r, n, 2));
            Buf yRef = y.copy();
            Elementwise.affine(x.seg(), x.off(), y.seg(), y.off(), n, alpha, beta);
            ReferenceKernels.affine(x.seg(), x.off(), yRef.seg(), yRef.off(), n, alpha, beta);
            // One fused multiply-add against the double value rounded once: equal except for a
            // rare double-rounding tie, hence half an ulp of slack.
            assertClose("affine", KernelFixtures.widen(yRef.toArray()), y.toArray(), 0, 6e-8);

            Buf z = KernelFixtures.buffer(r, KernelFixtures.gaussian(r, n, 2));
            Buf zRef = z.copy();
            Elementwise.axpy(alpha, x.seg(), x.off(), z.seg(), z.off(), n);
            ReferenceKernels.axpy(alpha, x.seg(), x.off(), zRef.seg(), zRef.off(), n);
            assertClose("axpy", KernelFixtures.widen(zRef.toArray()), z.toArray(), 0, 6e-8);

            float value = r.nextBoolean() ? 0f : (float) r.nextGaussian();
            Elementwise.fill(z.seg(), z.off(), n, value);
            for (int i = 0; i < n; i++) {
                if (z.get(i) != value) {
                    fail("fill at " + i + ": " + z.get(i) + " != " + value);
                }
            }
            assertTrue(z.off() == 0 || Float.isNaN(z.seg().getAtIndex(KernelFixtures.F32, z.off() - 1)),
                    "fill wrote before its range");
        });
    }

    @Test
    void unaryResultsDoNotDependOnOffsetOrLength() {
        // The masked tail runs the same vector code as the body, so a value gives the same bits anywhere.
        Random r = new Random(7);
        float[] xs = KernelFixtures.gaussian(r, 100, 3);
        for (Unary op : Unary.values()) {
            float[] whole = new float[100];
            Elementwise.unary(op, MemorySegment.ofArray(xs), 0, MemorySegment.ofArray(whole), 0, 100);
            for (int start : new int[] {1, 5, 17, 99}) {
                float[] part = new float[100 - start];
                Elementwise.unary(op, MemorySegment.ofArray(xs), start, MemorySegment.ofArray(part), 0, 100 - start);
                assertBitsEqual(op + " from " + start, java.util.Arrays.copyOfRange(whole, start, 100), part);
            }
        }
    }

    @Test
    void argumentsOutsideTheSegmentAreRejectedByName() {
        MemorySegment small = MemorySegment.ofArray(new float[10]);
        MemorySegment big = MemorySegment.ofArray(new float[100]);
        var e = assertThrows(IllegalArgumentException.class, () -> Elementwise.unary(Unary.EXP, big, 0, small, 5, 6));
        assertTrue(e.getMessage().startsWith("y:"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Elementwise.binary(Binary.ADD, new long[] {4, 5}, small, 0, new long[] {5, 1}, big, 0, new long[] {0, 1}, big, 0));
        assertTrue(e.getMessage().startsWith("a:"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Elementwise.binary(Binary.ADD, new long[] {4, 5}, big, 0, new long[] {5}, big, 0, new long[] {0, 1}, big, 0));
        assertTrue(e.getMessage().contains("rank"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Elementwise.fill(big, -1, 3, 0f));
        assertTrue(e.getMessage().contains("offset"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Elementwise.affine(big, 0, big, 0, -1, 1f, 0f));
        assertTrue(e.getMessage().contains(">= 0"), e.getMessage());
    }

    @Test
    void largeInputsGiveTheSameBitsEveryRun() {
        Random r = new Random(3);
        int n = 300_001;
        MemorySegment x = MemorySegment.ofArray(KernelFixtures.gaussian(r, n, 2));
        MemorySegment b = MemorySegment.ofArray(KernelFixtures.gaussian(r, 1001, 2));
        for (Unary op : new Unary[] {Unary.GELU_ERF, Unary.SILU, Unary.EXP}) {
            float[] first = new float[n];
            float[] second = new float[n];
            Elementwise.unary(op, x, 0, MemorySegment.ofArray(first), 0, n);
            Elementwise.unary(op, x, 0, MemorySegment.ofArray(second), 0, n);
            assertBitsEqual(op.toString(), first, second);
        }
        long[] shape = {299, 1001};
        float[] first = new float[299 * 1001];
        float[] second = new float[299 * 1001];
        Elementwise.binary(Binary.POW, shape, x, 0, new long[] {1001, 1}, b, 0, new long[] {0, 1}, MemorySegment.ofArray(first), 0);
        Elementwise.binary(Binary.POW, shape, x, 0, new long[] {1001, 1}, b, 0, new long[] {0, 1}, MemorySegment.ofArray(second), 0);
        assertBitsEqual("pow", first, second);
        if (first.length == 0) {
            fail("empty");
        }
    }
}
