package nvlm.kernels.cpu;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * Rotary position embedding, rotate-half form (docs/model.md §5): for i < h/2,
 * y[i] = x[i] cos - x[i + h/2] sin and y[i + h/2] = x[i + h/2] cos + x[i] sin, with angle
 * pos * theta^(-2i/h). Angles and their cos/sin are computed in double and rounded to f32 once,
 * and kept in a table reused across calls (same head size and theta). Products and sums are
 * unfused, in the order of Hugging Face's {@code q * cos + rotate_half(q) * sin}.
 */
public final class Rope {
    static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    private static final int LANES = SPECIES.length();
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    /** Tables grow in steps of this many positions, so a growing KV cache rebuilds rarely. */
    private static final int POSITION_STEP = 1024;

    /** cos/sin of pos * invFreq[i], stored [pos * half + i], for positions [0, positions). */
    private record Table(int headDim, double theta, int positions, float[] cos, float[] sin) {
        boolean covers(int dim, double th, int needed) {
            return headDim == dim && Double.compare(theta, th) == 0 && positions >= needed;
        }
    }

    private static volatile Table cached;

    private Rope() {
    }

    /**
     * Applies RoPE to x laid out [batch, seq, heads, headDim] (contiguous, headDim even); token t
     * of every batch row is at position startPos + t. inverse = true rotates by -angle, which is
     * the backward: gx = apply(gy, inverse = true). y may alias x.
     */
    public static void apply(MemorySegment x, long xOff, MemorySegment y, long yOff, int batch, int seq, int heads,
                             int headDim, int startPos, double theta, boolean inverse) {
        Arguments.requireNonNegative("batch", batch);
        Arguments.requireNonNegative("seq", seq);
        Arguments.requireNonNegative("heads", heads);
        Arguments.requireNonNegative("headDim", headDim);
        Arguments.requireNonNegative("startPos", startPos);
        if (headDim % 2 != 0) {
            throw new IllegalArgumentException("Rope: headDim must be even, got " + headDim);
        }
        if (!(theta > 0) || Double.isInfinite(theta)) {
            throw new IllegalArgumentException("Rope: theta must be positive and finite, got " + theta);
        }
        long rows = (long) batch * seq * heads;
        long n = rows * headDim;
        Arguments.requireF32("x", x, xOff, n);
        Arguments.requireF32("y", y, yOff, n);
        if (n == 0) {
            return;
        }
        long end = (long) startPos + seq;
        if (end * (headDim / 2) > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("Rope: position " + (end - 1) + " with headDim " + headDim
                    + " exceeds the table size limit");
        }
        Table table = table(headDim, theta, (int) end);
        int half = headDim / 2;
        float sign = inverse ? -1f : 1f;
        ElementBlocks.forElements(rows, Math.max(1, ElementBlocks.MIN_PER_TASK / headDim), (s, e) -> {
            for (long row = s; row < e; row++) {
                int pos = startPos + (int) ((row / heads) % seq);
                int t0 = pos * half;
                long xr = xOff + row * headDim;
                long yr = yOff + row * headDim;
                rotateRow(x, xr, y, yr, table.cos, table.sin, t0, half, sign);
            }
        });
    }

    /** y = the rotation of one head vector by the angles at table offset t0 (sin scaled by sign). */
    private static void rotateRow(MemorySegment x, long xr, MemorySegment y, long yr, float[] cosTable, float[] sinTable,
                                  int t0, int half, float sign) {
        int bound = SPECIES.loopBound(half);
        int i = 0;
        for (; i < bound; i += LANES) {
            FloatVector c = FloatVector.fromArray(SPECIES, cosTable, t0 + i);
            FloatVector sn = FloatVector.fromArray(SPECIES, sinTable, t0 + i).mul(sign);
            FloatVector x1 = F32Rows.load(x, xr + i);
            FloatVector x2 = F32Rows.load(x, xr + half + i);
            x1.mul(c).sub(x2.mul(sn)).intoMemorySegment(y, (yr + i) * 4, ORDER);
            x2.mul(c).add(x1.mul(sn)).intoMemorySegment(y, (yr + half + i) * 4, ORDER);
        }
        if (i < half) {
            VectorMask<Float> m = SPECIES.indexInRange(i, half);
            FloatVector c = FloatVector.fromArray(SPECIES, cosTable, t0 + i, m);
            FloatVector sn = FloatVector.fromArray(SPECIES, sinTable, t0 + i, m).mul(sign);
            FloatVector x1 = F32Rows.load(x, xr + i, m);
            FloatVector x2 = F32Rows.load(x, xr + half + i, m);
            x1.mul(c).sub(x2.mul(sn)).intoMemorySegment(y, (yr + i) * 4, ORDER, m);
            x2.mul(c).add(x1.mul(sn)).intoMemorySegment(y, (yr + half + i) * 4, ORDER, m);
        }
    }

    /** inv_freq[i] = theta^(-2i/headDim) in double (docs/model.md §5). */
    static double inverseFrequency(int i, int headDim, double theta) {
        return Math.pow(theta, -2.0 * i / headDim);
    }

    private static Table table(int headDim, double theta, int positions) {
        Table t = cached;
        if (t != null && t.covers(headDim, theta, positions)) {
            return t;
        }
        int size = (int) Math.min((long) Integer.MAX_VALUE / Math.max(1, headDim / 2),
                ((long) positions + POSITION_STEP - 1) / POSITION_STEP * POSITION_STEP);
        int half = headDim / 2;
        float[] cos = new float[size * half];
        float[] sin = new float[size * half];
        double[] invFreq = new double[half];
        for (int i = 0; i < half; i++) {
            invFreq[i] = inverseFrequency(i, headDim, theta);
        }
        for (int p = 0; p < size; p++) {
            for (int i = 0; i < half; i++) {
                double angle = p * invFreq[i];
                cos[p * half + i] = (float) Math.cos(angle);
                sin[p * half + i] = (float) Math.sin(angle);
            }
        }
        t = new Table(headDim, theta, size, cos, sin);
        cached = t;
        return t;
    }
}
