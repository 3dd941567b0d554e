package nvlm.kernels.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import nvlm.kernels.cpu.GemmPanels.Operand;
import nvlm.kernels.cpu.GemmPanels.Scratch;

/**
 * GEMM with only a few rows in op(A) (m <= 4: one token at a time in generation, a handful of
 * sequences): packing all of B for so few rows would cost more than the product itself, so B is
 * streamed once, straight from its stored layout. With B stored k x n, each row of B is scaled
 * into m rows of accumulators (axpy); with B stored n x k (a linear layer's weight), each C
 * element is a dot product of two contiguous runs.
 */
final class GemmSkinny {
    /**
     * Rows of op(A) up to which this path is used. Measured at n = 1536, k = 512, one thread:
     * 2-4x faster than packing at m = 1, even at m = 4, slower from m = 7 (the packed kernel
     * keeps its accumulators in registers, the axpy here keeps them in L1).
     */
    static final int MAX_M = 4;
    private static final VectorSpecies<Float> SPECIES = GemmMicroKernel.SPECIES;
    private static final int V = SPECIES.length();
    /** Columns of C accumulated at once when B is k x n: m x CHUNK accumulators stay in L1. */
    private static final int CHUNK = 512;

    private GemmSkinny() {
    }

    /** C[0:m, c0:c1] = alpha * op(A) * op(B)[:, c0:c1] + beta * C[0:m, c0:c1], on this thread. */
    static void gemm(Operand a, Operand b, int m, int k, float alpha, float beta,
                     MemorySegment c, long cBase, long ldc, int c0, int c1, Scratch scratch) {
        float[] rows = widenA(a, m, k, scratch);
        if (!b.transposed()) {
            float[] acc = scratch.part(m * CHUNK);
            float[] bRow = scratch.run(CHUNK);
            for (int j0 = c0; j0 < c1; j0 += CHUNK) {
                int w = Math.min(CHUNK, c1 - j0);
                Arrays.fill(acc, 0, m * CHUNK, 0f);
                for (int p = 0; p < k; p++) {
                    GemmPanels.readRun(b, b.base() + (long) p * b.ld() + j0, w, bRow, 0, scratch);
                    for (int r = 0; r < m; r++) {
                        axpy(rows[r * k + p], bRow, acc, r * CHUNK, w);
                    }
                }
                for (int r = 0; r < m; r++) {
                    for (int j = 0; j < w; j++) {
                        store(c, cBase + (long) r * ldc + j0 + j, acc[r * CHUNK + j], alpha, beta);
                    }
                }
            }
        } else {
            float[] bColumn = scratch.run(k);
            for (int j = c0; j < c1; j++) {
                GemmPanels.readRun(b, b.base() + (long) j * b.ld(), k, bColumn, 0, scratch);
                for (int r = 0; r < m; r++) {
                    store(c, cBase + (long) r * ldc + j, dot(rows, r * k, bColumn, k, scratch.lanes), alpha, beta);
                }
            }
        }
    }

    /** op(A) widened to f32, row-major m x k (in the scratch's third buffer). */
    private static float[] widenA(Operand a, int m, int k, Scratch scratch) {
        float[] rows = scratch.rows(m * k);
        if (!a.transposed()) {
            for (int r = 0; r < m; r++) {
                GemmPanels.readRun(a, a.base() + (long) r * a.ld(), k, rows, r * k, scratch);
            }
        } else {
            float[] column = scratch.part(m);
            for (int p = 0; p < k; p++) {
                GemmPanels.readRun(a, a.base() + (long) p * a.ld(), m, column, 0, scratch);
                for (int r = 0; r < m; r++) {
                    rows[r * k + p] = column[r];
                }
            }
        }
        return rows;
    }

    /** acc[offset : offset+w] += s * x[0 : w]. */
    private static void axpy(float s, float[] x, float[] acc, int offset, int w) {
        FloatVector scale = FloatVector.broadcast(SPECIES, s);
        int j = 0;
        for (; j + V <= w; j += V) {
            FloatVector.fromArray(SPECIES, x, j)
                    .fma(scale, FloatVector.fromArray(SPECIES, acc, offset + j))
                    .intoArray(acc, offset + j);
        }
        for (; j < w; j++) {
            acc[offset + j] = Math.fma(x[j], s, acc[offset + j]);
        }
    }

    /**
     * Sum of x[xOffset + p] * y[p] over p < k: four vector accumulators, then lanes (in a fixed
     * order, {@link VectorMath#sumLanes}: {@code reduceLanes(ADD)} gives other bits once C2
     * compiles the method), then the tail.
     */
    private static float dot(float[] x, int xOffset, float[] y, int k, float[] lanes) {
        FloatVector s0 = FloatVector.zero(SPECIES), s1 = s0, s2 = s0, s3 = s0;
        int p = 0;
        for (; p + 4 * V <= k; p += 4 * V) {
            s0 = FloatVector.fromArray(SPECIES, x, xOffset + p).fma(FloatVector.fromArray(SPECIES, y, p), s0);
            s1 = FloatVector.fromArray(SPECIES, x, xOffset + p + V).fma(FloatVector.fromArray(SPECIES, y, p + V), s1);
            s2 = FloatVector.fromArray(SPECIES, x, xOffset + p + 2 * V).fma(FloatVector.fromArray(SPECIES, y, p + 2 * V), s2);
            s3 = FloatVector.fromArray(SPECIES, x, xOffset + p + 3 * V).fma(FloatVector.fromArray(SPECIES, y, p + 3 * V), s3);
        }
        for (; p + V <= k; p += V) {
            s0 = FloatVector.fromArray(SPECIES, x, xOffset + p).fma(FloatVector.fromArray(SPECIES, y, p), s0);
        }
        float sum = (float) VectorMath.sumLanes(s0.add(s1).add(s2.add(s3)), lanes);
        for (; p < k; p++) {
            sum = Math.fma(x[xOffset + p], y[p], sum);
        }
        return sum;
    }

    private static void store(MemorySegment c, long index, float value, float alpha, float beta) {
        float result = beta == 0 ? alpha * value
                : Math.fma(alpha, value, beta * c.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, index));
        c.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, index, result);
    }
}
