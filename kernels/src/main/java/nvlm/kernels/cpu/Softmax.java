package nvlm.kernels.cpu;

import static nvlm.kernels.cpu.F32Rows.dot;
import static nvlm.kernels.cpu.F32Rows.forRows;
import static nvlm.kernels.cpu.F32Rows.load;
import static nvlm.kernels.cpu.F32Rows.rowMax;
import static nvlm.kernels.cpu.F32Rows.sumExp;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Softmax and log-softmax along the last axis of a contiguous [rows, cols] array, with their
 * backward. Stable: the row maximum is subtracted before exp. Row sums accumulate in double
 * (f32 lanes widened exactly), so long rows (a 152k vocabulary) lose no accuracy to summation.
 * Rows are independent and spread over the threads ({@link F32Rows#forRows}).
 */
public final class Softmax {
    static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Double> DOUBLES = DoubleVector.SPECIES_PREFERRED;
    private static final int LANES = SPECIES.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    private Softmax() {
    }

    /** y = softmax(x) per row; y may alias x. */
    public static void softmax(MemorySegment x, long xOff, MemorySegment y, long yOff, int rows, int cols) {
        checkRows("x", x, xOff, "y", y, yOff, rows, cols);
        forRows(rows, cols, r -> {
            long xr = xOff + (long) r * cols;
            long yr = yOff + (long) r * cols;
            float max = rowMax(x, xr, cols);
            double sum = expAndSum(x, xr, cols, max, y, yr);
            scale(y, yr, cols, (float) (1 / sum));
        });
    }

    /** gx = y * (gy - sum(gy * y)) per row; gx may alias gy. */
    public static void softmaxBackward(MemorySegment y, long yOff, MemorySegment gy, long gyOff,
                                       MemorySegment gx, long gxOff, int rows, int cols) {
        checkRows("y", y, yOff, "gy", gy, gyOff, rows, cols);
        Arguments.requireF32("gx", gx, gxOff, (long) rows * cols);
        forRows(rows, cols, r -> {
            long yr = yOff + (long) r * cols;
            long gr = gyOff + (long) r * cols;
            long xr = gxOff + (long) r * cols;
            softmaxGradientRow(y, yr, gy, gr, gx, xr, cols, (float) dot(y, yr, gy, gr, cols));
        });
    }

    /** gx = y * (gy - dot) over one row. (Vector loops live in named methods, not lambdas: they compile better.) */
    private static void softmaxGradientRow(MemorySegment y, long yr, MemorySegment gy, long gr, MemorySegment gx, long xr,
                                           int cols, float dotValue) {
        FloatVector dot = FloatVector.broadcast(SPECIES, dotValue);
        int bound = SPECIES.loopBound(cols);
        int i = 0;
        for (; i < bound; i += LANES) {
            FloatVector yv = load(y, yr + i);
            yv.mul(load(gy, gr + i).sub(dot)).intoMemorySegment(gx, (xr + i) * 4, ORDER);
        }
        if (i < cols) {
            VectorMask<Float> m = SPECIES.indexInRange(i, cols);
            FloatVector yv = load(y, yr + i, m);
            yv.mul(load(gy, gr + i, m).sub(dot)).intoMemorySegment(gx, (xr + i) * 4, ORDER, m);
        }
    }

    /** y = x - max - log(sum(exp(x - max))) per row; y may alias x. */
    public static void logSoftmax(MemorySegment x, long xOff, MemorySegment y, long yOff, int rows, int cols) {
        checkRows("x", x, xOff, "y", y, yOff, rows, cols);
        forRows(rows, cols, r -> {
            long xr = xOff + (long) r * cols;
            long yr = yOff + (long) r * cols;
            float max = rowMax(x, xr, cols);
            shift(x, xr, y, yr, cols, (float) (max + Math.log(sumExp(x, xr, cols, max))));
        });
    }

    /** gx = gy - exp(y) * sum(gy) per row (y is the log-softmax output); gx may alias gy. */
    public static void logSoftmaxBackward(MemorySegment y, long yOff, MemorySegment gy, long gyOff,
                                          MemorySegment gx, long gxOff, int rows, int cols) {
        checkRows("y", y, yOff, "gy", gy, gyOff, rows, cols);
        Arguments.requireF32("gx", gx, gxOff, (long) rows * cols);
        forRows(rows, cols, r -> {
            long yr = yOff + (long) r * cols;
            long gr = gyOff + (long) r * cols;
            long xr = gxOff + (long) r * cols;
            logSoftmaxGradientRow(y, yr, gy, gr, gx, xr, cols, (float) -Reduce.sumContiguous(gy, gr, cols));
        });
    }

    /** gx = exp(y) * negSum + gy over one row. */
    private static void logSoftmaxGradientRow(MemorySegment y, long yr, MemorySegment gy, long gr, MemorySegment gx, long xr,
                                              int cols, float negSumValue) {
        FloatVector negSum = FloatVector.broadcast(SPECIES, negSumValue);
        int bound = SPECIES.loopBound(cols);
        for (int i = 0; i < bound; i += LANES) {
            VectorMath.exp(load(y, yr + i)).fma(negSum, load(gy, gr + i)).intoMemorySegment(gx, (xr + i) * 4, ORDER);
        }
        if (bound < cols) {
            logSoftmaxGradientTail(y, yr, gy, gr, gx, xr, bound, cols, negSum);
        }
    }

    private static void logSoftmaxGradientTail(MemorySegment y, long yr, MemorySegment gy, long gr, MemorySegment gx, long xr,
                                               int i, int cols, FloatVector negSum) {
        VectorMask<Float> m = SPECIES.indexInRange(i, cols);
        VectorMath.exp(load(y, yr + i, m)).fma(negSum, load(gy, gr + i, m)).intoMemorySegment(gx, (xr + i) * 4, ORDER, m);
    }

    // ---------------------------------------------------------------- softmax's own row loops

    private static void checkRows(String aName, MemorySegment a, long aOff, String bName, MemorySegment b, long bOff,
                                  int rows, int cols) {
        Arguments.requireNonNegative("rows", rows);
        Arguments.requireNonNegative("cols", cols);
        Arguments.requireF32(aName, a, aOff, (long) rows * cols);
        Arguments.requireF32(bName, b, bOff, (long) rows * cols);
    }

    /** Stores y = exp(x - max) over n floats and returns their sum (accumulated in double). */
    private static double expAndSum(MemorySegment x, long off, int n, float max, MemorySegment y, long yOff) {
        FloatVector mx = FloatVector.broadcast(SPECIES, max);
        DoubleVector acc0 = DoubleVector.zero(DOUBLES);
        DoubleVector acc1 = DoubleVector.zero(DOUBLES);
        int bound = SPECIES.loopBound(n);
        for (int i = 0; i < bound; i += LANES) {
            FloatVector e = VectorMath.exp(load(x, off + i).sub(mx));
            e.intoMemorySegment(y, (yOff + i) * 4, ORDER);
            acc0 = acc0.add(VectorMath.low(e));
            acc1 = acc1.add(VectorMath.high(e));
        }
        double[] lanes = acc0.add(acc1).toArray();
        double sum = 0;
        for (double v : lanes) {
            sum += v;
        }
        return bound < n ? sum + expAndSumTail(x, off, bound, n, max, y, yOff) : sum;
    }

    /** The masked last vector of {@link #expAndSum}. */
    private static double expAndSumTail(MemorySegment x, long off, int i, int n, float max, MemorySegment y, long yOff) {
        VectorMask<Float> m = SPECIES.indexInRange(i, n);
        FloatVector e = VectorMath.exp(load(x, off + i, m).sub(max));
        e.intoMemorySegment(y, (yOff + i) * 4, ORDER, m);
        e = FloatVector.zero(SPECIES).blend(e, m);
        return VectorMath.sumLanes(VectorMath.low(e).add(VectorMath.high(e)));
    }

    /** y = x - s over n floats. */
    private static void shift(MemorySegment x, long xOff, MemorySegment y, long yOff, int n, float s) {
        FloatVector sv = FloatVector.broadcast(SPECIES, s);
        int bound = SPECIES.loopBound(n);
        int i = 0;
        for (; i < bound; i += LANES) {
            load(x, xOff + i).sub(sv).intoMemorySegment(y, (yOff + i) * 4, ORDER);
        }
        if (i < n) {
            VectorMask<Float> m = SPECIES.indexInRange(i, n);
            load(x, xOff + i, m).sub(sv).intoMemorySegment(y, (yOff + i) * 4, ORDER, m);
        }
    }

    private static void scale(MemorySegment y, long off, int n, float s) {
        FloatVector sv = FloatVector.broadcast(SPECIES, s);
        int bound = SPECIES.loopBound(n);
        int i = 0;
        for (; i < bound; i += LANES) {
            load(y, off + i).mul(sv).intoMemorySegment(y, (off + i) * 4, ORDER);
        }
        if (i < n) {
            VectorMask<Float> m = SPECIES.indexInRange(i, n);
            load(y, off + i, m).mul(sv).intoMemorySegment(y, (off + i) * 4, ORDER, m);
        }
    }
}
