package nvlm.kernels.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The block-level pieces {@link Attention} is made of: a small register-tiled matmul on float[]
 * tiles, a vectorized exp, and packing of strided head views into padded float[] panels.
 *
 * <p>Every product of flash attention (S = Q K^T, O += P V, and the five products of the backward
 * pass) is one {@link #matmul} on panels packed so that the "B" operand is row-major with its
 * columns padded to a whole number of vectors: no tails in the hot loops.
 */
final class AttentionTiles {
    static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    static final int LANES = SPECIES.length();
    /**
     * Queries and keys per block. 64x64 float score tiles (16 KiB) and 64-row q/k/v panels stay in
     * L1/L2; a multiple of every lane count (4..64 floats) so block columns are whole vectors.
     */
    static final int BLOCK = Math.max(64, LANES);
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private AttentionTiles() {
    }

    static int roundUp(int n, int multiple) {
        return (n + multiple - 1) / multiple * multiple;
    }

    /**
     * c[m x n] = (accumulate ? c : 0) + a[m x k] . b[k x n], all row-major float[] with the given
     * leading dimensions. n must be a multiple of {@link #LANES}; m and k are free.
     */
    static void matmul(int m, int n, int k, float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                       float[] c, int cOff, int ldc, boolean accumulate) {
        int j = 0;
        for (; j + 2 * LANES <= n; j += 2 * LANES) {
            int i = 0;
            for (; i + 4 <= m; i += 4) {
                kernel4x2(k, a, aOff + i * lda, lda, b, bOff + j, ldb, c, cOff + i * ldc + j, ldc, accumulate);
            }
            for (; i < m; i++) {
                kernel1x2(k, a, aOff + i * lda, b, bOff + j, ldb, c, cOff + i * ldc + j, accumulate);
            }
        }
        if (j < n) {
            for (int i = 0; i < m; i++) {
                kernel1x1(k, a, aOff + i * lda, b, bOff + j, ldb, c, cOff + i * ldc + j, accumulate);
            }
        }
    }

    /** Four rows of c times two vectors of columns: 8 accumulators, each loaded b vector feeds 4 FMAs. */
    private static void kernel4x2(int k, float[] a, int a0, int lda, float[] b, int bp, int ldb,
                                  float[] c, int c0, int ldc, boolean accumulate) {
        FloatVector c00, c01, c10, c11, c20, c21, c30, c31;
        if (accumulate) {
            c00 = FloatVector.fromArray(SPECIES, c, c0);
            c01 = FloatVector.fromArray(SPECIES, c, c0 + LANES);
            c10 = FloatVector.fromArray(SPECIES, c, c0 + ldc);
            c11 = FloatVector.fromArray(SPECIES, c, c0 + ldc + LANES);
            c20 = FloatVector.fromArray(SPECIES, c, c0 + 2 * ldc);
            c21 = FloatVector.fromArray(SPECIES, c, c0 + 2 * ldc + LANES);
            c30 = FloatVector.fromArray(SPECIES, c, c0 + 3 * ldc);
            c31 = FloatVector.fromArray(SPECIES, c, c0 + 3 * ldc + LANES);
        } else {
            c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = FloatVector.zero(SPECIES);
        }
        int a1 = a0 + lda;
        int a2 = a1 + lda;
        int a3 = a2 + lda;
        for (int p = 0; p < k; p++, bp += ldb) {
            FloatVector b0 = FloatVector.fromArray(SPECIES, b, bp);
            FloatVector b1 = FloatVector.fromArray(SPECIES, b, bp + LANES);
            FloatVector x = FloatVector.broadcast(SPECIES, a[a0 + p]);
            c00 = b0.fma(x, c00);
            c01 = b1.fma(x, c01);
            x = FloatVector.broadcast(SPECIES, a[a1 + p]);
            c10 = b0.fma(x, c10);
            c11 = b1.fma(x, c11);
            x = FloatVector.broadcast(SPECIES, a[a2 + p]);
            c20 = b0.fma(x, c20);
            c21 = b1.fma(x, c21);
            x = FloatVector.broadcast(SPECIES, a[a3 + p]);
            c30 = b0.fma(x, c30);
            c31 = b1.fma(x, c31);
        }
        c00.intoArray(c, c0);
        c01.intoArray(c, c0 + LANES);
        c10.intoArray(c, c0 + ldc);
        c11.intoArray(c, c0 + ldc + LANES);
        c20.intoArray(c, c0 + 2 * ldc);
        c21.intoArray(c, c0 + 2 * ldc + LANES);
        c30.intoArray(c, c0 + 3 * ldc);
        c31.intoArray(c, c0 + 3 * ldc + LANES);
    }

    private static void kernel1x2(int k, float[] a, int a0, float[] b, int bp, int ldb,
                                  float[] c, int c0, boolean accumulate) {
        FloatVector c00 = accumulate ? FloatVector.fromArray(SPECIES, c, c0) : FloatVector.zero(SPECIES);
        FloatVector c01 = accumulate ? FloatVector.fromArray(SPECIES, c, c0 + LANES) : FloatVector.zero(SPECIES);
        for (int p = 0; p < k; p++, bp += ldb) {
            FloatVector x = FloatVector.broadcast(SPECIES, a[a0 + p]);
            c00 = FloatVector.fromArray(SPECIES, b, bp).fma(x, c00);
            c01 = FloatVector.fromArray(SPECIES, b, bp + LANES).fma(x, c01);
        }
        c00.intoArray(c, c0);
        c01.intoArray(c, c0 + LANES);
    }

    private static void kernel1x1(int k, float[] a, int a0, float[] b, int bp, int ldb,
                                  float[] c, int c0, boolean accumulate) {
        FloatVector c00 = accumulate ? FloatVector.fromArray(SPECIES, c, c0) : FloatVector.zero(SPECIES);
        for (int p = 0; p < k; p++, bp += ldb) {
            c00 = FloatVector.fromArray(SPECIES, b, bp).fma(FloatVector.broadcast(SPECIES, a[a0 + p]), c00);
        }
        c00.intoArray(c, c0);
    }

    /**
     * e^x per lane, within 1 ulp on [-87.3, 88.7] (Cephes expf: Cody-Waite reduction by ln 2 and a
     * degree-6 polynomial); exactly 0 below, so masked scores of -infinity give probability 0.
     * Written out rather than VectorOperators.EXP so the bits do not depend on the platform's SVML.
     */
    static FloatVector exp(FloatVector x) {
        FloatVector clamped = x.max(-87.33654f).min(88.72284f);
        // Round x / ln 2 to the nearest integer n with the 1.5 * 2^23 trick; n also sits in the low mantissa bits.
        FloatVector shifted = clamped.fma(FloatVector.broadcast(SPECIES, 1.44269504088896341f),
                FloatVector.broadcast(SPECIES, 12582912f));
        FloatVector n = shifted.sub(12582912f);
        FloatVector r = n.fma(FloatVector.broadcast(SPECIES, -0.693359375f), clamped);
        r = n.fma(FloatVector.broadcast(SPECIES, 2.12194440e-4f), r);
        FloatVector p = FloatVector.broadcast(SPECIES, 1.9875691500e-4f);
        p = p.fma(r, FloatVector.broadcast(SPECIES, 1.3981999507e-3f));
        p = p.fma(r, FloatVector.broadcast(SPECIES, 8.3334519073e-3f));
        p = p.fma(r, FloatVector.broadcast(SPECIES, 4.1665795894e-2f));
        p = p.fma(r, FloatVector.broadcast(SPECIES, 1.6666665459e-1f));
        p = p.fma(r, FloatVector.broadcast(SPECIES, 5.0000001201e-1f));
        FloatVector e = p.fma(r.mul(r), r).add(1f);
        FloatVector twoToN = ((IntVector) shifted.reinterpretAsInts())
                .lanewise(VectorOperators.LSHL, 23).add(127 << 23).reinterpretAsFloats();
        return e.mul(twoToN).blend(0f, x.compare(VectorOperators.LT, -87.33654f));
    }

    /**
     * Copies rows [firstRow, firstRow + len) of head (batch, head) into dst as a row-major [len][ld]
     * panel times {@code scale}; the padding columns [headDim, ld) keep whatever dst holds.
     */
    static void packRows(HeadView view, int batch, int head, int firstRow, int len, int headDim, float scale,
                         float[] dst, int dstOff, int ld) {
        MemorySegment data = view.data();
        for (int t = 0; t < len; t++) {
            int at = dstOff + t * ld;
            MemorySegment.copy(data, F32, view.rowIndex(batch, head, firstRow + t) * Float.BYTES, dst, at, headDim);
            if (scale != 1f) {
                for (int c = 0; c < headDim; c++) {
                    dst[at + c] *= scale;
                }
            }
        }
    }

    /**
     * Copies rows [0, len) of head (batch, head) times {@code scale}, transposed into blocked panels:
     * element (t, c) goes to dst[dstOff + ((t / BLOCK) * headDim + c) * BLOCK + t % BLOCK], so one
     * block's [headDim][BLOCK] panel is contiguous (no power-of-two strides between its rows).
     */
    static void packTransposed(HeadView view, int batch, int head, int len, int headDim, float scale,
                               float[] dst, int dstOff) {
        MemorySegment data = view.data();
        float[] row = new float[headDim];
        for (int t = 0; t < len; t++) {
            MemorySegment.copy(data, F32, view.rowIndex(batch, head, t) * Float.BYTES, row, 0, headDim);
            int at = dstOff + (t / BLOCK) * headDim * BLOCK + t % BLOCK;
            for (int c = 0; c < headDim; c++) {
                dst[at + c * BLOCK] = row[c] * scale;
            }
        }
    }

    /** Writes rows [0, len) of a row-major [len][ld] panel into head (batch, head) of view. */
    static void unpackRows(float[] src, int srcOff, int ld, HeadView view, int batch, int head, int firstRow,
                           int len, int headDim) {
        MemorySegment data = view.data();
        for (int t = 0; t < len; t++) {
            MemorySegment.copy(src, srcOff + t * ld, data, F32, view.rowIndex(batch, head, firstRow + t) * Float.BYTES,
                    headDim);
        }
    }
}
