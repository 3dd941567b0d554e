package nvlm.kernels.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import nvlm.kernels.Parallel;

/**
 * Reductions along one axis of a contiguous array viewed as [outer, axis, inner].
 *
 * <p>Sums accumulate in double (each f32 lane widened exactly, double vector accumulators), so a
 * 1e6-element sum is accurate to about one f32 rounding. A contiguous axis is cut into fixed
 * blocks of {@link #SUM_BLOCK} elements whose sums are added in order, which lets one long row be
 * summed in parallel with the same bits whatever the thread count. MAX and MIN propagate NaN
 * (like torch.max).
 */
public final class Reduce {
    public enum Op { SUM, MEAN, MAX, MIN }

    static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Double> DOUBLES = DoubleVector.SPECIES_PREFERRED;
    private static final int LANES = SPECIES.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED;

    /** Elements per f32 partial sum along a contiguous axis. */
    static final int SUM_BLOCK = 2048;
    /** Output columns handled together when inner > 1 (one task's share). */
    private static final int COL_BLOCK = 1024;
    /** Columns whose running sums stay in registers while walking down a row block: 2 vectors. */
    private static final int STRIP = 2 * LANES;
    /** Rows summed per visit of a column strip when inner > 1 (a block of them stays in cache and TLB). */
    private static final int ROW_BLOCK = 64;

    private Reduce() {
    }

    /**
     * out[o, i] = op over a of x[o, a, i]; x is contiguous [outer, axis, inner], out contiguous
     * [outer, inner]. SUM over an empty axis is 0 and MEAN is NaN (as in PyTorch); MAX and MIN
     * need axis >= 1.
     */
    public static void reduce(Op op, MemorySegment x, long xOff, int outer, int axis, int inner,
                              MemorySegment out, long outOff) {
        Arguments.requireNonNull("op", op);
        checkShape(outer, axis, inner);
        if ((op == Op.MAX || op == Op.MIN) && axis == 0 && (long) outer * inner > 0) {
            throw new IllegalArgumentException("Reduce " + op + ": the reduced axis is empty (axis = 0)");
        }
        Arguments.requireF32("x", x, xOff, (long) outer * axis * inner);
        Arguments.requireF32("out", out, outOff, (long) outer * inner);
        if (inner == 1) {
            if (outer == 1 && (op == Op.SUM || op == Op.MEAN)) {
                double sum = sumContiguousParallel(x, xOff, axis);
                out.setAtIndex(F32, outOff, finish(op, sum, axis));
                return;
            }
            int grain = Math.max(1, (int) (ElementBlocks.MIN_PER_TASK / Math.max(1, axis)));
            Parallel.forRange(outer, grain, (s, e) -> {
                for (int o = s; o < e; o++) {
                    long base = xOff + (long) o * axis;
                    float v = switch (op) {
                        case SUM, MEAN -> finish(op, sumContiguous(x, base, axis), axis);
                        case MAX, MIN -> extremeContiguous(op, x, base, axis);
                    };
                    out.setAtIndex(F32, outOff + o, v);
                }
            });
            return;
        }
        int colBlocks = (inner + COL_BLOCK - 1) / COL_BLOCK;
        long tasks = (long) outer * colBlocks;
        long workPerTask = (long) axis * Math.min(inner, COL_BLOCK);
        ElementBlocks.forElements(tasks, Math.max(1, ElementBlocks.MIN_PER_TASK / Math.max(1, workPerTask)), (s, e) -> {
            for (long t = s; t < e; t++) {
                int o = (int) (t / colBlocks);
                int c0 = (int) (t % colBlocks) * COL_BLOCK;
                int c1 = Math.min(inner, c0 + COL_BLOCK);
                reduceStrided(op, x, xOff + (long) o * axis * inner, axis, inner, c0, c1,
                        out, outOff + (long) o * inner);
            }
        });
    }

    private static void checkShape(int outer, int axis, int inner) {
        Arguments.requireNonNegative("outer", outer);
        Arguments.requireNonNegative("axis", axis);
        Arguments.requireNonNegative("inner", inner);
    }

    private static float finish(Op op, double sum, int axis) {
        return op == Op.MEAN ? (float) (sum / axis) : (float) sum;
    }

    /** Sum of n contiguous floats in double: per SUM_BLOCK block, block sums added in order. */
    static double sumContiguous(MemorySegment x, long off, long n) {
        double total = 0;
        for (long b = 0; b < n; b += SUM_BLOCK) {
            total += sumBlock(x, off + b, Math.min(SUM_BLOCK, n - b));
        }
        return total;
    }

    /** Same value as {@link #sumContiguous}, with the blocks spread over the pool. */
    private static double sumContiguousParallel(MemorySegment x, long off, long n) {
        long blocks = (n + SUM_BLOCK - 1) / SUM_BLOCK;
        if (blocks <= 1 || n <= ElementBlocks.MIN_PER_TASK) {
            return sumContiguous(x, off, n);
        }
        double[] partial = new double[(int) blocks];
        int grain = (int) Math.max(1, ElementBlocks.MIN_PER_TASK / SUM_BLOCK);
        Parallel.forRange((int) blocks, grain, (s, e) -> {
            for (int b = s; b < e; b++) {
                long start = (long) b * SUM_BLOCK;
                partial[b] = sumBlock(x, off + start, Math.min(SUM_BLOCK, n - start));
            }
        });
        double total = 0;
        for (double p : partial) {
            total += p;
        }
        return total;
    }

    private static double sumBlock(MemorySegment x, long off, long n) {
        DoubleVector acc0 = DoubleVector.zero(DOUBLES);
        DoubleVector acc1 = DoubleVector.zero(DOUBLES);
        long bound = SPECIES.loopBound(n);
        long i = 0;
        for (; i < bound; i += LANES) {
            FloatVector v = FloatVector.fromMemorySegment(SPECIES, x, (off + i) * 4, ORDER);
            acc0 = acc0.add(VectorMath.low(v));
            acc1 = acc1.add(VectorMath.high(v));
        }
        if (i < n) {
            FloatVector v = FloatVector.fromMemorySegment(SPECIES, x, (off + i) * 4, ORDER, SPECIES.indexInRange(i, n));
            acc0 = acc0.add(VectorMath.low(v));
            acc1 = acc1.add(VectorMath.high(v));
        }
        return VectorMath.sumLanes(acc0.add(acc1));
    }

    private static float extremeContiguous(Op op, MemorySegment x, long off, long n) {
        VectorOperators.Associative vop = op == Op.MAX ? VectorOperators.MAX : VectorOperators.MIN;
        FloatVector acc = FloatVector.broadcast(SPECIES, x.getAtIndex(F32, off));
        long bound = SPECIES.loopBound(n);
        long i = 0;
        for (; i < bound; i += LANES) {
            acc = acc.lanewise(vop, FloatVector.fromMemorySegment(SPECIES, x, (off + i) * 4, ORDER));
        }
        if (i < n) {
            VectorMask<Float> m = SPECIES.indexInRange(i, n);
            // Masked-off lanes load 0, so blend the running value back into them.
            FloatVector v = FloatVector.fromMemorySegment(SPECIES, x, (off + i) * 4, ORDER, m);
            acc = acc.lanewise(vop, v.blend(acc, m.not()));
        }
        return acc.reduceLanes(vop);
    }

    /** Columns [c0, c1) of one outer slice: base points at x[o, 0, 0]. */
    private static void reduceStrided(Op op, MemorySegment x, long base, int axis, int inner, int c0, int c1,
                                      MemorySegment out, long outBase) {
        int width = c1 - c0;
        if (op == Op.MAX || op == Op.MIN) {
            float[] acc = new float[width];
            MemorySegment.copy(x, F32, (base + c0) * 4, acc, 0, width);
            VectorOperators.Binary vop = op == Op.MAX ? VectorOperators.MAX : VectorOperators.MIN;
            for (int a = 1; a < axis; a++) {
                long row = base + (long) a * inner + c0;
                for (int j = 0; j < width; j += LANES) {
                    VectorMask<Float> m = SPECIES.indexInRange(j, width);
                    FloatVector v = FloatVector.fromMemorySegment(SPECIES, x, (row + j) * 4L, ORDER, m);
                    FloatVector.fromArray(SPECIES, acc, j, m).lanewise(vop, v).intoArray(acc, j, m);
                }
            }
            MemorySegment.copy(acc, 0, out, F32, (outBase + c0) * 4, width);
            return;
        }
        // Double running sums per column. Rows are walked in blocks of ROW_BLOCK; within a block, STRIP
        // columns at a time keep their sums in registers, so x streams through once, page by page.
        double[] total = new double[width];
        for (int a0 = 0; a0 < axis; a0 += ROW_BLOCK) {
            int a1 = Math.min(axis, a0 + ROW_BLOCK);
            int j = 0;
            for (; j + STRIP <= width; j += STRIP) {
                sumStrip(x, base + c0 + j, a0, a1, inner, total, j);
            }
            for (; j < width; j += LANES) {
                sumColumns(x, base + c0 + j, a0, a1, inner, total, j, width);
            }
        }
        for (int j = 0; j < width; j++) {
            out.setAtIndex(F32, outBase + c0 + j, finish(op, total[j], axis));
        }
    }

    /**
     * total[t .. t + STRIP) += rows [a0, a1) of the STRIP columns starting at x index col. (Two
     * vectors wide: with more, C2's IR-node budget runs out and the vector helpers stop inlining.)
     */
    private static void sumStrip(MemorySegment x, long col, int a0, int a1, int inner, double[] total, int t) {
        int dl = DOUBLES.length();
        DoubleVector s0 = DoubleVector.fromArray(DOUBLES, total, t);
        DoubleVector s1 = DoubleVector.fromArray(DOUBLES, total, t + dl);
        DoubleVector s2 = DoubleVector.fromArray(DOUBLES, total, t + 2 * dl);
        DoubleVector s3 = DoubleVector.fromArray(DOUBLES, total, t + 3 * dl);
        for (int a = a0; a < a1; a++) {
            long at = (col + (long) a * inner) * 4L;
            FloatVector v0 = FloatVector.fromMemorySegment(SPECIES, x, at, ORDER);
            FloatVector v1 = FloatVector.fromMemorySegment(SPECIES, x, at + 4L * LANES, ORDER);
            s0 = s0.add(VectorMath.low(v0));
            s1 = s1.add(VectorMath.high(v0));
            s2 = s2.add(VectorMath.low(v1));
            s3 = s3.add(VectorMath.high(v1));
        }
        s0.intoArray(total, t);
        s1.intoArray(total, t + dl);
        s2.intoArray(total, t + 2 * dl);
        s3.intoArray(total, t + 3 * dl);
    }

    /** total[t .. min(t + LANES, width)) += rows [a0, a1) of those columns (masked at the edge). */
    private static void sumColumns(MemorySegment x, long col, int a0, int a1, int inner, double[] total, int t, int width) {
        int dl = DOUBLES.length();
        VectorMask<Float> m = SPECIES.indexInRange(t, width);
        VectorMask<Double> m0 = DOUBLES.indexInRange(t, width);
        VectorMask<Double> m1 = DOUBLES.indexInRange(t + dl, width);
        DoubleVector s0 = DoubleVector.fromArray(DOUBLES, total, t, m0);
        DoubleVector s1 = DoubleVector.fromArray(DOUBLES, total, t + dl, m1);
        for (int a = a0; a < a1; a++) {
            FloatVector v = FloatVector.fromMemorySegment(SPECIES, x, (col + (long) a * inner) * 4L, ORDER, m);
            s0 = s0.add(VectorMath.low(v));
            s1 = s1.add(VectorMath.high(v));
        }
        s0.intoArray(total, t, m0);
        s1.intoArray(total, t + dl, m1);
    }

    /**
     * Index of the largest value along the axis, the first one on ties; NaN counts as larger than
     * everything (the first NaN wins, like torch.argmax). out is I64 [outer, inner]; axis >= 1.
     */
    public static void argmax(MemorySegment x, long xOff, int outer, int axis, int inner, MemorySegment out, long outOff) {
        checkShape(outer, axis, inner);
        if (axis == 0 && (long) outer * inner > 0) {
            throw new IllegalArgumentException("Reduce argmax: the reduced axis is empty (axis = 0)");
        }
        Arguments.requireF32("x", x, xOff, (long) outer * axis * inner);
        Arguments.requireI64("out", out, outOff, (long) outer * inner);
        long columns = (long) outer * inner;
        if (inner == 1) {
            int grain = Math.max(1, (int) (ElementBlocks.MIN_PER_TASK / Math.max(1, axis)));
            Parallel.forRange(outer, grain, (s, e) -> {
                for (int o = s; o < e; o++) {
                    out.setAtIndex(I64, outOff + o, argmaxContiguous(x, xOff + (long) o * axis, axis));
                }
            });
            return;
        }
        ElementBlocks.forElements(columns, Math.max(1, ElementBlocks.MIN_PER_TASK / axis), (s, e) -> {
            for (long c = s; c < e; c++) {
                long o = c / inner;
                long i = c % inner;
                long base = xOff + o * axis * inner + i;
                long best = 0;
                float bestValue = x.getAtIndex(F32, base);
                for (int a = 1; a < axis && !Float.isNaN(bestValue); a++) {
                    float v = x.getAtIndex(F32, base + (long) a * inner);
                    if (v > bestValue || Float.isNaN(v)) {
                        bestValue = v;
                        best = a;
                    }
                }
                out.setAtIndex(I64, outOff + c, best);
            }
        });
    }

    private static long argmaxContiguous(MemorySegment x, long off, int n) {
        float max = extremeContiguous(Op.MAX, x, off, n);
        boolean nan = Float.isNaN(max);
        for (int i = 0; i < n; i++) {
            float v = x.getAtIndex(F32, off + i);
            if (nan ? Float.isNaN(v) : v == max) {
                return i;
            }
        }
        throw new AssertionError("argmax: maximum " + max + " not found");
    }
}
