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
    /**
     * 512-bit vectors come with 32 vector registers (AVX-512, SVE-512): room for a 4 x 4-vector
     * tile of accumulators, which halves the loads per FMA compared with 4 x 2 (measured ~20%
     * faster on Zen 5). Narrower machines (AVX2: 16 registers) would spill it.
     */
    private static final boolean WIDE_TILES = SPECIES.vectorBitSize() >= 512;
    // With wide tiles, a 4 x 2-vector tile is needed only for a remainder of 2 vectors of columns,
    // which some batches never have: kernel4x2 was then first run late, after C2 had compiled
    // matmul without that path, and in some launches the C2 code it got kept its vectors boxed
    // (every FMA allocating: 26x slower, whole stage-0 steps 2.4x slower). Those columns go to
    // 1 x 2-vector tiles instead (the kernel of leftover rows); with that, the reproducer and four
    // other step counts ran at the normal speed (docs/results.md, "The stage-0 slow state").
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private AttentionTiles() {
    }

    static int roundUp(int n, int multiple) {
        return (n + multiple - 1) / multiple * multiple;
    }

    /**
     * c[m x n] = (accumulate ? c : 0) + a[m x k] . b[k x n]. b and c are row-major with leading
     * dimensions ldb, ldc; element (i, p) of a is a[aOff + i * lda + p * aStep], so a transposed
     * tile is passed as lda = 1, aStep = its row length. n must be a multiple of {@link #LANES}.
     */
    static void matmul(int m, int n, int k, float[] a, int aOff, int lda, int aStep, float[] b, int bOff, int ldb,
                       float[] c, int cOff, int ldc, boolean accumulate) {
        int j = 0;
        if (WIDE_TILES) {
            for (; j + 4 * LANES <= n; j += 4 * LANES) {
                int i = 0;
                for (; i + 4 <= m; i += 4) {
                    kernel4x4(k, a, aOff + i * lda, lda, aStep, b, bOff + j, ldb, c, cOff + i * ldc + j, ldc,
                            accumulate);
                }
                for (; i < m; i++) {
                    kernel1x2(k, a, aOff + i * lda, aStep, b, bOff + j, ldb, c, cOff + i * ldc + j, accumulate);
                    kernel1x2(k, a, aOff + i * lda, aStep, b, bOff + j + 2 * LANES, ldb, c,
                            cOff + i * ldc + j + 2 * LANES, accumulate);
                }
            }
        }
        for (; j + 2 * LANES <= n; j += 2 * LANES) {
            int i = 0;
            if (!WIDE_TILES) {
                for (; i + 4 <= m; i += 4) {
                    kernel4x2(k, a, aOff + i * lda, lda, aStep, b, bOff + j, ldb, c, cOff + i * ldc + j, ldc, accumulate);
                }
            }
            for (; i < m; i++) {
                kernel1x2(k, a, aOff + i * lda, aStep, b, bOff + j, ldb, c, cOff + i * ldc + j, accumulate);
            }
        }
        if (j < n) {
            for (int i = 0; i < m; i++) {
                kernel1x1(k, a, aOff + i * lda, aStep, b, bOff + j, ldb, c, cOff + i * ldc + j, accumulate);
            }
        }
    }

    /** a[aOff, aOff + len) . b[0, len), len a multiple of {@link #LANES}; {@code lanes}: scratch of LANES floats. */
    static float dot(float[] a, int aOff, float[] b, int len, float[] lanes) {
        FloatVector acc = FloatVector.zero(SPECIES);
        for (int c = 0; c < len; c += LANES) {
            acc = FloatVector.fromArray(SPECIES, a, aOff + c).fma(FloatVector.fromArray(SPECIES, b, c), acc);
        }
        return (float) VectorMath.sumLanes(acc, lanes);
    }

    /** Four rows of c times four vectors of columns: 16 accumulators, each loaded b vector feeds 4 FMAs. */
    private static void kernel4x4(int k, float[] a, int a0, int lda, int aStep, float[] b, int bp, int ldb,
                                  float[] c, int c0, int ldc, boolean accumulate) {
        int c1 = c0 + ldc;
        int c2 = c1 + ldc;
        int c3 = c2 + ldc;
        FloatVector c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33;
        if (accumulate) {
            c00 = FloatVector.fromArray(SPECIES, c, c0);
            c01 = FloatVector.fromArray(SPECIES, c, c0 + LANES);
            c02 = FloatVector.fromArray(SPECIES, c, c0 + 2 * LANES);
            c03 = FloatVector.fromArray(SPECIES, c, c0 + 3 * LANES);
            c10 = FloatVector.fromArray(SPECIES, c, c1);
            c11 = FloatVector.fromArray(SPECIES, c, c1 + LANES);
            c12 = FloatVector.fromArray(SPECIES, c, c1 + 2 * LANES);
            c13 = FloatVector.fromArray(SPECIES, c, c1 + 3 * LANES);
            c20 = FloatVector.fromArray(SPECIES, c, c2);
            c21 = FloatVector.fromArray(SPECIES, c, c2 + LANES);
            c22 = FloatVector.fromArray(SPECIES, c, c2 + 2 * LANES);
            c23 = FloatVector.fromArray(SPECIES, c, c2 + 3 * LANES);
            c30 = FloatVector.fromArray(SPECIES, c, c3);
            c31 = FloatVector.fromArray(SPECIES, c, c3 + LANES);
            c32 = FloatVector.fromArray(SPECIES, c, c3 + 2 * LANES);
            c33 = FloatVector.fromArray(SPECIES, c, c3 + 3 * LANES);
        } else {
            c00 = c01 = c02 = c03 = c10 = c11 = c12 = c13 = FloatVector.zero(SPECIES);
            c20 = c21 = c22 = c23 = c30 = c31 = c32 = c33 = FloatVector.zero(SPECIES);
        }
        int a1 = a0 + lda;
        int a2 = a1 + lda;
        int a3 = a2 + lda;
        for (int p = 0, ap = 0; p < k; p++, ap += aStep, bp += ldb) {
            FloatVector b0 = FloatVector.fromArray(SPECIES, b, bp);
            FloatVector b1 = FloatVector.fromArray(SPECIES, b, bp + LANES);
            FloatVector b2 = FloatVector.fromArray(SPECIES, b, bp + 2 * LANES);
            FloatVector b3 = FloatVector.fromArray(SPECIES, b, bp + 3 * LANES);
            FloatVector x = FloatVector.broadcast(SPECIES, a[a0 + ap]);
            c00 = b0.fma(x, c00);
            c01 = b1.fma(x, c01);
            c02 = b2.fma(x, c02);
            c03 = b3.fma(x, c03);
            x = FloatVector.broadcast(SPECIES, a[a1 + ap]);
            c10 = b0.fma(x, c10);
            c11 = b1.fma(x, c11);
            c12 = b2.fma(x, c12);
            c13 = b3.fma(x, c13);
            x = FloatVector.broadcast(SPECIES, a[a2 + ap]);
            c20 = b0.fma(x, c20);
            c21 = b1.fma(x, c21);
            c22 = b2.fma(x, c22);
            c23 = b3.fma(x, c23);
            x = FloatVector.broadcast(SPECIES, a[a3 + ap]);
            c30 = b0.fma(x, c30);
            c31 = b1.fma(x, c31);
            c32 = b2.fma(x, c32);
            c33 = b3.fma(x, c33);
        }
        c00.intoArray(c, c0);
        c01.intoArray(c, c0 + LANES);
        c02.intoArray(c, c0 + 2 * LANES);
        c03.intoArray(c, c0 + 3 * LANES);
        c10.intoArray(c, c1);
        c11.intoArray(c, c1 + LANES);
        c12.intoArray(c, c1 + 2 * LANES);
        c13.intoArray(c, c1 + 3 * LANES);
        c20.intoArray(c, c2);
        c21.intoArray(c, c2 + LANES);
        c22.intoArray(c, c2 + 2 * LANES);
        c23.intoArray(c, c2 + 3 * LANES);
        c30.intoArray(c, c3);
        c31.intoArray(c, c3 + LANES);
        c32.intoArray(c, c3 + 2 * LANES);
        c33.intoArray(c, c3 + 3 * LANES);
    }

    /** Four rows of c times two vectors of columns: 8 accumulators, each loaded b vector feeds 4 FMAs. */
    private static void kernel4x2(int k, float[] a, int a0, int lda, int aStep, float[] b, int bp, int ldb,
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
        for (int p = 0, ap = 0; p < k; p++, ap += aStep, bp += ldb) {
            FloatVector b0 = FloatVector.fromArray(SPECIES, b, bp);
            FloatVector b1 = FloatVector.fromArray(SPECIES, b, bp + LANES);
            FloatVector x = FloatVector.broadcast(SPECIES, a[a0 + ap]);
            c00 = b0.fma(x, c00);
            c01 = b1.fma(x, c01);
            x = FloatVector.broadcast(SPECIES, a[a1 + ap]);
            c10 = b0.fma(x, c10);
            c11 = b1.fma(x, c11);
            x = FloatVector.broadcast(SPECIES, a[a2 + ap]);
            c20 = b0.fma(x, c20);
            c21 = b1.fma(x, c21);
            x = FloatVector.broadcast(SPECIES, a[a3 + ap]);
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

    private static void kernel1x2(int k, float[] a, int a0, int aStep, float[] b, int bp, int ldb,
                                  float[] c, int c0, boolean accumulate) {
        FloatVector c00 = accumulate ? FloatVector.fromArray(SPECIES, c, c0) : FloatVector.zero(SPECIES);
        FloatVector c01 = accumulate ? FloatVector.fromArray(SPECIES, c, c0 + LANES) : FloatVector.zero(SPECIES);
        for (int p = 0, ap = 0; p < k; p++, ap += aStep, bp += ldb) {
            FloatVector x = FloatVector.broadcast(SPECIES, a[a0 + ap]);
            c00 = FloatVector.fromArray(SPECIES, b, bp).fma(x, c00);
            c01 = FloatVector.fromArray(SPECIES, b, bp + LANES).fma(x, c01);
        }
        c00.intoArray(c, c0);
        c01.intoArray(c, c0 + LANES);
    }

    private static void kernel1x1(int k, float[] a, int a0, int aStep, float[] b, int bp, int ldb,
                                  float[] c, int c0, boolean accumulate) {
        FloatVector c00 = accumulate ? FloatVector.fromArray(SPECIES, c, c0) : FloatVector.zero(SPECIES);
        for (int p = 0, ap = 0; p < k; p++, ap += aStep, bp += ldb) {
            c00 = FloatVector.fromArray(SPECIES, b, bp).fma(FloatVector.broadcast(SPECIES, a[a0 + ap]), c00);
        }
        c00.intoArray(c, c0);
    }

    /**
     * e^x per lane, within 1 ulp where e^x is a normal float (Cephes expf: Cody-Waite reduction by
     * ln 2 and a degree-6 polynomial). x is clamped to [-88, 88]: at the bottom 2^n has a zero
     * exponent field, so -infinity (a masked score) gives exactly 0 and subnormal results may
     * flush to 0. Written out rather than VectorOperators.EXP so the bits do not depend on the
     * platform's SVML, and with no mask/blend (which C2 does not always intrinsify).
     */
    static FloatVector exp(FloatVector x) {
        FloatVector clamped = x.max(-88f).min(88f);
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
        // 2^n from the low bits of n + 127 shifted into the exponent field: n in [-127, 127], 0 for n = -127.
        FloatVector twoToN = ((IntVector) shifted.reinterpretAsInts())
                .lanewise(VectorOperators.LSHL, 23).add(127 << 23).reinterpretAsFloats();
        return e.mul(twoToN);
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
