package nvlm.kernels.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * LayerNorm over the last axis of a contiguous [rows, cols] array (InternViT-300M norms, the
 * projector's LayerNorm; spec sections 2 and 4): y = (x - mean) * rstd * w + b with the biased
 * variance and rstd = 1 / sqrt(var + eps).
 *
 * <p>Statistics: stable two-pass (mean, then the mean of squared deviations from it), each pass
 * with f32 vector partials over fixed blocks added in double. Backward: the usual
 * gx = rstd * (g - mean(g) - xhat * mean(g * xhat)) with g = gy * w; gw and gb are accumulated
 * deterministically ({@link ColumnGradients}).
 */
public final class LayerNorm {
    static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
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
        Softmax.forRows(rows, cols, r -> {
            long xr = xOff + (long) r * cols;
            long yr = yOff + (long) r * cols;
            float mu = (float) (Reduce.sumContiguous(x, xr, cols) / cols);
            double var = sumSquaredDeviations(x, xr, cols, mu) / cols;
            float rs = (float) (1 / Math.sqrt(var + eps));
            mean.setAtIndex(F32, meanOff + r, mu);
            rstd.setAtIndex(F32, rstdOff + r, rs);
            for (int i = 0; i < cols; i += LANES) {
                VectorMask<Float> m = SPECIES.indexInRange(i, cols);
                FloatVector xhat = Softmax.load(x, xr + i, m).sub(mu).mul(rs);
                FloatVector wv = Softmax.load(w, wOff + i, m);
                FloatVector out = b == null ? xhat.mul(wv) : xhat.fma(wv, Softmax.load(b, bOff + i, m));
                out.intoMemorySegment(y, (yr + i) * 4, ORDER, m);
            }
        });
    }

    /** sum((x - mu)^2) over n floats, blocked like {@link Reduce#sumContiguous}. */
    static double sumSquaredDeviations(MemorySegment x, long off, int n, float mu) {
        double total = 0;
        for (int blk = 0; blk < n; blk += Reduce.SUM_BLOCK) {
            int end = Math.min(n, blk + Reduce.SUM_BLOCK);
            FloatVector acc = FloatVector.zero(SPECIES);
            for (int i = blk; i < end; i += LANES) {
                VectorMask<Float> m = SPECIES.indexInRange(i, end);
                // Masked sub: inactive lanes stay 0 instead of contributing mu^2.
                FloatVector d = Softmax.load(x, off + i, m).sub(mu, m);
                acc = d.fma(d, acc);
            }
            total += VectorMath.sumLanes(acc);
        }
        return total;
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
                long xr = xOff + (long) r * cols;
                long gr = gyOff + (long) r * cols;
                long gxr = gxOff + (long) r * cols;
                float mu = mean.getAtIndex(F32, meanOff + r);
                float rs = rstd.getAtIndex(F32, rstdOff + r);
                // Pass 1: sum(g) and sum(g * xhat), g = gy * w.
                double sumG = 0;
                double sumGX = 0;
                for (int blk = 0; blk < cols; blk += Reduce.SUM_BLOCK) {
                    int bEnd = Math.min(cols, blk + Reduce.SUM_BLOCK);
                    FloatVector accG = FloatVector.zero(SPECIES);
                    FloatVector accGX = FloatVector.zero(SPECIES);
                    for (int i = blk; i < bEnd; i += LANES) {
                        VectorMask<Float> m = SPECIES.indexInRange(i, bEnd);
                        FloatVector xhat = Softmax.load(x, xr + i, m).sub(mu).mul(rs);
                        FloatVector g = Softmax.load(gy, gr + i, m).mul(Softmax.load(w, wOff + i, m));
                        accG = accG.add(g);
                        accGX = g.fma(xhat, accGX);
                    }
                    sumG += VectorMath.sumLanes(accG);
                    sumGX += VectorMath.sumLanes(accGX);
                }
                float meanG = (float) (sumG / cols);
                float meanGX = (float) (sumGX / cols);
                // Pass 2: gx, and this chunk's gw / gb partials.
                for (int i = 0; i < cols; i += LANES) {
                    VectorMask<Float> m = SPECIES.indexInRange(i, cols);
                    FloatVector xhat = Softmax.load(x, xr + i, m).sub(mu).mul(rs);
                    FloatVector gyv = Softmax.load(gy, gr + i, m);
                    FloatVector g = gyv.mul(Softmax.load(w, wOff + i, m));
                    g.sub(meanG).sub(xhat.mul(meanGX)).mul(rs).intoMemorySegment(gx, (gxr + i) * 4, ORDER, m);
                    gyv.fma(xhat, FloatVector.fromArray(SPECIES, gwc, i, m)).intoArray(gwc, i, m);
                    if (gbc != null) {
                        gyv.add(FloatVector.fromArray(SPECIES, gbc, i, m)).intoArray(gbc, i, m);
                    }
                }
            }
        });
        ColumnGradients.addInto(gwPart, gw, gwOff, cols);
        if (gb != null) {
            ColumnGradients.addInto(gbPart, gb, gbOff, cols);
        }
    }
}
