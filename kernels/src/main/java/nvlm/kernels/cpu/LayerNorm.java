package nvlm.kernels.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * LayerNorm over the last axis of a contiguous [rows, cols] array (InternViT-300M norms, the
 * projector's LayerNorm; docs/model.md §2 and §4): y = (x - mean) * rstd * w + b with the biased
 * variance and rstd = 1 / sqrt(var + eps).
 *
 * <p>Statistics: stable two-pass (mean, then the mean of squared deviations from it), each sum
 * accumulated in double. Backward: the usual
 * gx = rstd * (g - mean(g) - xhat * mean(g * xhat)) with g = gy * w; gw and gb are accumulated
 * deterministically ({@link ColumnGradients}).
 */
public final class LayerNorm {
    static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Double> DOUBLES = DoubleVector.SPECIES_PREFERRED;
    private static final int LANES = SPECIES.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private LayerNorm() {
    }

    /** b may be null (no bias). mean and rstd [rows] are written for the backward. */
    public static void forward(MemorySegment x, long xOff, MemorySegment w, long wOff, MemorySegment b, long bOff,
                               MemorySegment y, long yOff, MemorySegment mean, long meanOff,
                               MemorySegment rstd, long rstdOff, int rows, int cols, float eps) {
        Arguments.requireNonNegative("rows", rows);
        Arguments.requireNonNegative("cols", cols);
        long n = (long) rows * cols;
        Arguments.requireF32("x", x, xOff, n);
        Arguments.requireF32("w", w, wOff, cols);
        if (b != null) {
            Arguments.requireF32("b", b, bOff, cols);
        }
        Arguments.requireF32("y", y, yOff, n);
        Arguments.requireF32("mean", mean, meanOff, rows);
        Arguments.requireF32("rstd", rstd, rstdOff, rows);
        F32Rows.forRows(rows, cols, r -> {
            long xr = xOff + (long) r * cols;
            long yr = yOff + (long) r * cols;
            // The mean as an unevaluated f32 sum hi + lo: x - hi is exact for x near the mean, so
            // xhat keeps full precision even when the mean is many standard deviations from 0.
            double meanD = Reduce.sumContiguous(x, xr, cols) / cols;
            float muHi = (float) meanD;
            float muLo = (float) (meanD - muHi);
            double var = sumSquaredDeviations(x, xr, cols, muHi, muLo) / cols;
            float rs = (float) (1 / Math.sqrt(var + eps));
            mean.setAtIndex(F32, meanOff + r, muHi);
            rstd.setAtIndex(F32, rstdOff + r, rs);
            normalizeRow(x, xr, w, wOff, b, bOff, y, yr, cols, muHi, muLo, rs);
        });
    }

    /** y = (x - hi - lo) * rs * w (+ b) for one row. */
    private static void normalizeRow(MemorySegment x, long xr, MemorySegment w, long wOff, MemorySegment b, long bOff,
                                     MemorySegment y, long yr, int cols, float muHi, float muLo, float rs) {
        FloatVector hi = FloatVector.broadcast(SPECIES, muHi);
        FloatVector lo = FloatVector.broadcast(SPECIES, muLo);
        FloatVector scale = FloatVector.broadcast(SPECIES, rs);
        int bound = SPECIES.loopBound(cols);
        int i = 0;
        for (; i < bound; i += LANES) {
            FloatVector xhat = F32Rows.load(x, xr + i).sub(hi).sub(lo).mul(scale);
            FloatVector wv = F32Rows.load(w, wOff + i);
            FloatVector out = b == null ? xhat.mul(wv) : xhat.fma(wv, F32Rows.load(b, bOff + i));
            out.intoMemorySegment(y, (yr + i) * 4, ORDER);
        }
        if (i < cols) {
            VectorMask<Float> m = SPECIES.indexInRange(i, cols);
            FloatVector xhat = F32Rows.load(x, xr + i, m).sub(hi).sub(lo).mul(scale);
            FloatVector wv = F32Rows.load(w, wOff + i, m);
            FloatVector out = b == null ? xhat.mul(wv) : xhat.fma(wv, F32Rows.load(b, bOff + i, m));
            out.intoMemorySegment(y, (yr + i) * 4, ORDER, m);
        }
    }

    /** sum((x - muHi - muLo)^2) over n floats: f32 squares accumulated in double. */
    static double sumSquaredDeviations(MemorySegment x, long off, int n, float muHi, float muLo) {
        FloatVector hi = FloatVector.broadcast(SPECIES, muHi);
        FloatVector lo = FloatVector.broadcast(SPECIES, muLo);
        DoubleVector acc0 = DoubleVector.zero(DOUBLES);
        DoubleVector acc1 = DoubleVector.zero(DOUBLES);
        int bound = SPECIES.loopBound(n);
        int i = 0;
        for (; i < bound; i += LANES) {
            FloatVector d = F32Rows.load(x, off + i).sub(hi).sub(lo);
            FloatVector sq = d.mul(d);
            acc0 = acc0.add(VectorMath.low(sq));
            acc1 = acc1.add(VectorMath.high(sq));
        }
        if (i < n) {
            VectorMask<Float> m = SPECIES.indexInRange(i, n);
            FloatVector d = FloatVector.zero(SPECIES).blend(F32Rows.load(x, off + i, m).sub(hi).sub(lo), m);
            FloatVector sq = d.mul(d);
            acc0 = acc0.add(VectorMath.low(sq));
            acc1 = acc1.add(VectorMath.high(sq));
        }
        return VectorMath.sumLanes(acc0.add(acc1));
    }

    /**
     * gx overwritten; gw and gb ACCUMULATED into (the caller zeroes them; gb may be null).
     * Deterministic: per-chunk partial sums reduced in a fixed order. gx may alias gy.
     */
    public static void backward(MemorySegment x, long xOff, MemorySegment w, long wOff, MemorySegment mean, long meanOff,
                                MemorySegment rstd, long rstdOff, MemorySegment gy, long gyOff, MemorySegment gx, long gxOff,
                                MemorySegment gw, long gwOff, MemorySegment gb, long gbOff, int rows, int cols) {
        Arguments.requireNonNegative("rows", rows);
        Arguments.requireNonNegative("cols", cols);
        long n = (long) rows * cols;
        Arguments.requireF32("x", x, xOff, n);
        Arguments.requireF32("w", w, wOff, cols);
        Arguments.requireF32("mean", mean, meanOff, rows);
        Arguments.requireF32("rstd", rstd, rstdOff, rows);
        Arguments.requireF32("gy", gy, gyOff, n);
        Arguments.requireF32("gx", gx, gxOff, n);
        Arguments.requireF32("gw", gw, gwOff, cols);
        if (gb != null) {
            Arguments.requireF32("gb", gb, gbOff, cols);
        }
        int chunks = ColumnGradients.chunks(rows);
        if (chunks == 0 || cols == 0) {
            return;
        }
        float[][] gwPart = new float[chunks][cols];
        float[][] gbPart = gb == null ? null : new float[chunks][cols];
        ColumnGradients.forChunks(rows, cols, (c, start, end) -> {
            float[] gwc = gwPart[c];
            float[] gbc = gbPart == null ? null : gbPart[c];
            for (int r = start; r < end; r++) {
                backwardRow(x, xOff + (long) r * cols, w, wOff, mean.getAtIndex(F32, meanOff + r),
                        rstd.getAtIndex(F32, rstdOff + r), gy, gyOff + (long) r * cols, gx, gxOff + (long) r * cols,
                        gwc, gbc, cols);
            }
        });
        ColumnGradients.addInto(gwPart, gw, gwOff, cols);
        if (gb != null) {
            ColumnGradients.addInto(gbPart, gb, gbOff, cols);
        }
    }

    /**
     * One row of the backward: writes gx, adds this row's gy * xhat and gy into the chunk's partials.
     * The two passes are separate methods: C2 stops inlining vector operations once a compilation
     * holds ~18000 IR nodes, and a method with two vector loops (each with its masked tail) crosses that.
     */
    private static void backwardRow(MemorySegment x, long xr, MemorySegment w, long wOff, float mu, float rs,
                                    MemorySegment gy, long gr, MemorySegment gx, long gxr, float[] gwc, float[] gbc, int cols) {
        double[] sums = gradientSums(x, xr, w, wOff, mu, rs, gy, gr, cols);
        gradientRow(x, xr, w, wOff, mu, rs, gy, gr, gx, gxr, gwc, gbc, cols,
                (float) (sums[0] / cols), (float) (sums[1] / cols));
    }

    /** {sum(g), sum(g * xhat)} over the row, g = gy * w, in double (masked-off lanes load 0: g = 0). */
    private static double[] gradientSums(MemorySegment x, long xr, MemorySegment w, long wOff, float mu, float rs,
                                         MemorySegment gy, long gr, int cols) {
        FloatVector muV = FloatVector.broadcast(SPECIES, mu);
        FloatVector rsV = FloatVector.broadcast(SPECIES, rs);
        DoubleVector accG0 = DoubleVector.zero(DOUBLES);
        DoubleVector accG1 = DoubleVector.zero(DOUBLES);
        DoubleVector accGX0 = DoubleVector.zero(DOUBLES);
        DoubleVector accGX1 = DoubleVector.zero(DOUBLES);
        int bound = SPECIES.loopBound(cols);
        int i = 0;
        for (; i < bound; i += LANES) {
            FloatVector xhat = F32Rows.load(x, xr + i).sub(muV).mul(rsV);
            FloatVector g = F32Rows.load(gy, gr + i).mul(F32Rows.load(w, wOff + i));
            FloatVector gxh = g.mul(xhat);
            accG0 = accG0.add(VectorMath.low(g));
            accG1 = accG1.add(VectorMath.high(g));
            accGX0 = accGX0.add(VectorMath.low(gxh));
            accGX1 = accGX1.add(VectorMath.high(gxh));
        }
        if (i < cols) {
            VectorMask<Float> m = SPECIES.indexInRange(i, cols);
            FloatVector xhat = F32Rows.load(x, xr + i, m).sub(muV).mul(rsV);
            FloatVector g = F32Rows.load(gy, gr + i, m).mul(F32Rows.load(w, wOff + i, m));
            FloatVector gxh = g.mul(xhat);
            accG0 = accG0.add(VectorMath.low(g));
            accG1 = accG1.add(VectorMath.high(g));
            accGX0 = accGX0.add(VectorMath.low(gxh));
            accGX1 = accGX1.add(VectorMath.high(gxh));
        }
        return new double[] {VectorMath.sumLanes(accG0.add(accG1)), VectorMath.sumLanes(accGX0.add(accGX1))};
    }

    /** gx = rs * (g - mean(g) - xhat * mean(g * xhat)), and the row's gy * xhat and gy into the partials. */
    private static void gradientRow(MemorySegment x, long xr, MemorySegment w, long wOff, float mu, float rs,
                                    MemorySegment gy, long gr, MemorySegment gx, long gxr, float[] gwc, float[] gbc, int cols,
                                    float meanGValue, float meanGXValue) {
        FloatVector muV = FloatVector.broadcast(SPECIES, mu);
        FloatVector rsV = FloatVector.broadcast(SPECIES, rs);
        FloatVector meanG = FloatVector.broadcast(SPECIES, meanGValue);
        FloatVector meanGX = FloatVector.broadcast(SPECIES, meanGXValue);
        int bound = SPECIES.loopBound(cols);
        int i = 0;
        for (; i < bound; i += LANES) {
            FloatVector xhat = F32Rows.load(x, xr + i).sub(muV).mul(rsV);
            FloatVector gyv = F32Rows.load(gy, gr + i);
            FloatVector g = gyv.mul(F32Rows.load(w, wOff + i));
            g.sub(meanG).sub(xhat.mul(meanGX)).mul(rsV).intoMemorySegment(gx, (gxr + i) * 4, ORDER);
            gyv.fma(xhat, FloatVector.fromArray(SPECIES, gwc, i)).intoArray(gwc, i);
            if (gbc != null) {
                gyv.add(FloatVector.fromArray(SPECIES, gbc, i)).intoArray(gbc, i);
            }
        }
        if (i < cols) {
            VectorMask<Float> m = SPECIES.indexInRange(i, cols);
            FloatVector xhat = F32Rows.load(x, xr + i, m).sub(muV).mul(rsV);
            FloatVector gyv = F32Rows.load(gy, gr + i, m);
            FloatVector g = gyv.mul(F32Rows.load(w, wOff + i, m));
            g.sub(meanG).sub(xhat.mul(meanGX)).mul(rsV).intoMemorySegment(gx, (gxr + i) * 4, ORDER, m);
            gyv.fma(xhat, FloatVector.fromArray(SPECIES, gwc, i, m)).intoArray(gwc, i, m);
            if (gbc != null) {
                gyv.add(FloatVector.fromArray(SPECIES, gbc, i, m)).intoArray(gbc, i, m);
            }
        }
    }
}
