package nvlm.kernels.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * RMSNorm over the last axis of a contiguous [rows, cols] array (docs/model.md §5, and InternViT's
 * rms_norm and q/k norms, §2): y = (x * rstd) * w, rstd = 1 / sqrt(mean(x^2) + eps), the
 * product order of Hugging Face's Qwen2RMSNorm. The mean of squares accumulates in double.
 * Backward: gx = rstd * (g - xhat * mean(g * xhat)), g = gy * w, xhat = x * rstd; gw is
 * accumulated deterministically ({@link ColumnGradients}).
 */
public final class RmsNorm {
    static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Double> DOUBLES = DoubleVector.SPECIES_PREFERRED;
    private static final int LANES = SPECIES.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private RmsNorm() {
    }

    /** rstd [rows] is written for the backward. y may alias x. */
    public static void forward(MemorySegment x, long xOff, MemorySegment w, long wOff, MemorySegment y, long yOff,
                               MemorySegment rstd, long rstdOff, int rows, int cols, float eps) {
        Arguments.requireNonNegative("rows", rows);
        Arguments.requireNonNegative("cols", cols);
        long n = (long) rows * cols;
        Arguments.requireF32("x", x, xOff, n);
        Arguments.requireF32("w", w, wOff, cols);
        Arguments.requireF32("y", y, yOff, n);
        Arguments.requireF32("rstd", rstd, rstdOff, rows);
        F32Rows.forRows(rows, cols, r -> {
            long xr = xOff + (long) r * cols;
            long yr = yOff + (long) r * cols;
            double meanSquare = F32Rows.dot(x, xr, x, xr, cols) / cols;
            float rs = (float) (1 / Math.sqrt(meanSquare + eps));
            rstd.setAtIndex(F32, rstdOff + r, rs);
            scaleRow(x, xr, w, wOff, y, yr, cols, rs);
        });
    }

    /** y = (x * rs) * w for one row. */
    private static void scaleRow(MemorySegment x, long xr, MemorySegment w, long wOff, MemorySegment y, long yr, int cols,
                                 float rs) {
        FloatVector rsV = FloatVector.broadcast(SPECIES, rs);
        int bound = SPECIES.loopBound(cols);
        int i = 0;
        for (; i < bound; i += LANES) {
            F32Rows.load(x, xr + i).mul(rsV).mul(F32Rows.load(w, wOff + i)).intoMemorySegment(y, (yr + i) * 4, ORDER);
        }
        if (i < cols) {
            VectorMask<Float> m = SPECIES.indexInRange(i, cols);
            F32Rows.load(x, xr + i, m).mul(rsV).mul(F32Rows.load(w, wOff + i, m)).intoMemorySegment(y, (yr + i) * 4, ORDER, m);
        }
    }

    /** gx overwritten; gw ACCUMULATED into (the caller zeroes it). gx may alias gy. */
    public static void backward(MemorySegment x, long xOff, MemorySegment w, long wOff, MemorySegment rstd, long rstdOff,
                                MemorySegment gy, long gyOff, MemorySegment gx, long gxOff, MemorySegment gw, long gwOff,
                                int rows, int cols) {
        Arguments.requireNonNegative("rows", rows);
        Arguments.requireNonNegative("cols", cols);
        long n = (long) rows * cols;
        Arguments.requireF32("x", x, xOff, n);
        Arguments.requireF32("w", w, wOff, cols);
        Arguments.requireF32("rstd", rstd, rstdOff, rows);
        Arguments.requireF32("gy", gy, gyOff, n);
        Arguments.requireF32("gx", gx, gxOff, n);
        Arguments.requireF32("gw", gw, gwOff, cols);
        int chunks = ColumnGradients.chunks(rows);
        if (chunks == 0 || cols == 0) {
            return;
        }
        float[][] gwPart = new float[chunks][cols];
        ColumnGradients.forChunks(rows, cols, (c, start, end) -> {
            float[] gwc = gwPart[c];
            for (int r = start; r < end; r++) {
                backwardRow(x, xOff + (long) r * cols, w, wOff, rstd.getAtIndex(F32, rstdOff + r), gy, gyOff + (long) r * cols,
                        gx, gxOff + (long) r * cols, gwc, cols);
            }
        });
        ColumnGradients.addInto(gwPart, gw, gwOff, cols);
    }

    /**
     * One row of the backward: writes gx and adds this row's gy * xhat into the chunk's partial. The
     * two passes are separate methods to stay under C2's IR-node budget for inlining (see LayerNorm).
     */
    private static void backwardRow(MemorySegment x, long xr, MemorySegment w, long wOff, float rs, MemorySegment gy, long gr,
                                    MemorySegment gx, long gxr, float[] gwc, int cols) {
        float meanGX = (float) (gradientDot(x, xr, w, wOff, rs, gy, gr, cols) / cols);
        gradientRow(x, xr, w, wOff, rs, gy, gr, gx, gxr, gwc, cols, meanGX);
    }

    /** sum(g * xhat) in double, g = gy * w; masked-off lanes load 0, so their products are 0. */
    private static double gradientDot(MemorySegment x, long xr, MemorySegment w, long wOff, float rs, MemorySegment gy,
                                      long gr, int cols) {
        FloatVector rsV = FloatVector.broadcast(SPECIES, rs);
        DoubleVector acc0 = DoubleVector.zero(DOUBLES);
        DoubleVector acc1 = DoubleVector.zero(DOUBLES);
        int bound = SPECIES.loopBound(cols);
        int i = 0;
        for (; i < bound; i += LANES) {
            FloatVector xhat = F32Rows.load(x, xr + i).mul(rsV);
            FloatVector p = F32Rows.load(gy, gr + i).mul(F32Rows.load(w, wOff + i)).mul(xhat);
            acc0 = acc0.add(VectorMath.low(p));
            acc1 = acc1.add(VectorMath.high(p));
        }
        if (i < cols) {
            VectorMask<Float> m = SPECIES.indexInRange(i, cols);
            FloatVector xhat = F32Rows.load(x, xr + i, m).mul(rsV);
            FloatVector p = F32Rows.load(gy, gr + i, m).mul(F32Rows.load(w, wOff + i, m)).mul(xhat);
            acc0 = acc0.add(VectorMath.low(p));
            acc1 = acc1.add(VectorMath.high(p));
        }
        return VectorMath.sumLanes(acc0.add(acc1));
    }

    /** gx = rs * (g - xhat * mean(g * xhat)), and the row's gy * xhat into the partial. */
    private static void gradientRow(MemorySegment x, long xr, MemorySegment w, long wOff, float rs, MemorySegment gy, long gr,
                                    MemorySegment gx, long gxr, float[] gwc, int cols, float meanGXValue) {
        FloatVector rsV = FloatVector.broadcast(SPECIES, rs);
        FloatVector meanGX = FloatVector.broadcast(SPECIES, meanGXValue);
        int bound = SPECIES.loopBound(cols);
        int i = 0;
        for (; i < bound; i += LANES) {
            FloatVector xhat = F32Rows.load(x, xr + i).mul(rsV);
            FloatVector gyv = F32Rows.load(gy, gr + i);
            FloatVector g = gyv.mul(F32Rows.load(w, wOff + i));
            g.sub(xhat.mul(meanGX)).mul(rsV).intoMemorySegment(gx, (gxr + i) * 4, ORDER);
            gyv.fma(xhat, FloatVector.fromArray(SPECIES, gwc, i)).intoArray(gwc, i);
        }
        if (i < cols) {
            VectorMask<Float> m = SPECIES.indexInRange(i, cols);
            FloatVector xhat = F32Rows.load(x, xr + i, m).mul(rsV);
            FloatVector gyv = F32Rows.load(gy, gr + i, m);
            FloatVector g = gyv.mul(F32Rows.load(w, wOff + i, m));
            g.sub(xhat.mul(meanGX)).mul(rsV).intoMemorySegment(gx, (gxr + i) * 4, ORDER, m);
            gyv.fma(xhat, FloatVector.fromArray(SPECIES, gwc, i, m)).intoArray(gwc, i, m);
        }
    }
}
