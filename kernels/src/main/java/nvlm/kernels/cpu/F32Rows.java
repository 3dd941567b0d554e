package nvlm.kernels.cpu;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import nvlm.kernels.Parallel;

/**
 * The Vector API loops the row-wise CPU kernels share, over f32 rows held contiguously in a
 * {@link MemorySegment} at an element offset: a vector load (whole or masked), a loop over rows
 * spread across {@link Parallel}, and a row's maximum, sum of exp and dot product. Sums
 * accumulate in double (f32 lanes widened exactly), so long rows (a 152k vocabulary) lose no
 * accuracy; lanes are added in a fixed order, so results are bit-identical from run to run.
 * Softmax, CrossEntropy, LayerNorm, RmsNorm, Rope, Embedding and AdamW are built on them.
 */
final class F32Rows {
    static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Double> DOUBLES = DoubleVector.SPECIES_PREFERRED;
    private static final int LANES = SPECIES.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    /** A row costs an exp or several loads per element: parallelize from 16 Ki elements per task. */
    static final long MIN_PER_TASK = ElementBlocks.MIN_PER_TASK / 4;

    private F32Rows() {
    }

    @FunctionalInterface
    interface RowBody {
        void run(int row);
    }

    /** Runs body for every row, rows split over the pool when rows * cols is large. */
    static void forRows(int rows, int cols, RowBody body) {
        if (cols == 0) {
            return;
        }
        int grain = (int) Math.max(1, MIN_PER_TASK / cols);
        Parallel.forRange(rows, grain, (s, e) -> {
            for (int r = s; r < e; r++) {
                body.run(r);
            }
        });
    }

    static FloatVector load(MemorySegment seg, long index) {
        return FloatVector.fromMemorySegment(SPECIES, seg, index * 4, ORDER);
    }

    static FloatVector load(MemorySegment seg, long index, VectorMask<Float> m) {
        return FloatVector.fromMemorySegment(SPECIES, seg, index * 4, ORDER, m);
    }

    /** Maximum of n >= 1 floats, NaN if any is NaN. */
    static float rowMax(MemorySegment x, long off, int n) {
        FloatVector acc = FloatVector.broadcast(SPECIES, Float.NEGATIVE_INFINITY);
        int bound = SPECIES.loopBound(n);
        int i = 0;
        for (; i < bound; i += LANES) {
            acc = acc.max(FloatVector.fromMemorySegment(SPECIES, x, (off + i) * 4, ORDER));
        }
        if (i < n) {
            VectorMask<Float> m = SPECIES.indexInRange(i, n);
            FloatVector v = load(x, off + i, m).blend(FloatVector.broadcast(SPECIES, Float.NEGATIVE_INFINITY), m.not());
            acc = acc.max(v);
        }
        return acc.reduceLanes(VectorOperators.MAX);
    }

    /**
     * sum(exp(x - max)) over n floats, accumulated in double. The masked tail is its own method:
     * exp is large in C2's IR, and two copies of it in one loop method exhaust the inlining budget.
     */
    static double sumExp(MemorySegment x, long off, int n, float max) {
        FloatVector mx = FloatVector.broadcast(SPECIES, max);
        DoubleVector acc0 = DoubleVector.zero(DOUBLES);
        DoubleVector acc1 = DoubleVector.zero(DOUBLES);
        int bound = SPECIES.loopBound(n);
        for (int i = 0; i < bound; i += LANES) {
            FloatVector e = VectorMath.exp(load(x, off + i).sub(mx));
            acc0 = acc0.add(VectorMath.low(e));
            acc1 = acc1.add(VectorMath.high(e));
        }
        double[] lanes = acc0.add(acc1).toArray();
        double sum = 0;
        for (double v : lanes) {
            sum += v;
        }
        return bound < n ? sum + sumExpTail(x, off, bound, n, max) : sum;
    }

    /** The masked last vector of {@link #sumExp}: exp(x - max) for indices [i, n), summed in lane order. */
    private static double sumExpTail(MemorySegment x, long off, int i, int n, float max) {
        VectorMask<Float> m = SPECIES.indexInRange(i, n);
        FloatVector e = FloatVector.zero(SPECIES).blend(VectorMath.exp(load(x, off + i, m).sub(max)), m);
        return VectorMath.sumLanes(VectorMath.low(e).add(VectorMath.high(e)));
    }

    /** sum(a * b) over n floats: f32 products, accumulated in double. */
    static double dot(MemorySegment a, long aOff, MemorySegment b, long bOff, int n) {
        DoubleVector acc0 = DoubleVector.zero(DOUBLES);
        DoubleVector acc1 = DoubleVector.zero(DOUBLES);
        int bound = SPECIES.loopBound(n);
        int i = 0;
        for (; i < bound; i += LANES) {
            FloatVector p = load(a, aOff + i).mul(load(b, bOff + i));
            acc0 = acc0.add(VectorMath.low(p));
            acc1 = acc1.add(VectorMath.high(p));
        }
        if (i < n) {
            VectorMask<Float> m = SPECIES.indexInRange(i, n);
            FloatVector p = load(a, aOff + i, m).mul(load(b, bOff + i, m)); // masked-off lanes are 0 * 0
            acc0 = acc0.add(VectorMath.low(p));
            acc1 = acc1.add(VectorMath.high(p));
        }
        return VectorMath.sumLanes(acc0.add(acc1));
    }
}
