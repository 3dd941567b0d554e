package nvlm.kernels.cpu;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * The register-tiled inner loop of {@link Gemm}: one MR x NR tile of A*B from an A panel and a
 * B panel laid out by {@link GemmPanels}. Each step over k loads NR/V vectors of B, broadcasts
 * MR elements of A and issues MR*NR/V independent fmas into accumulators that stay in
 * registers; the tile leaves the registers once, after the loop.
 *
 * <p>8x(2 vectors): 16 accumulators + 2 B vectors + 1 broadcast fit the 32 AVX-512 registers,
 * and 16 independent fma chains cover the fma latency on two fma pipes. Measured alone on this
 * Zen 5 (CPU time, kc = 256): about 190 GFLOP/s per core for 8x2, 12x2, 14x2 and 4x6 alike,
 * about 145 for 6x4 and 8x3; MR = 8 also suits the packing transpose ({@link GemmPanels}).
 */
final class GemmMicroKernel {
    static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    static final int V = SPECIES.length();
    static final int MR = 8;
    static final int NR = 2 * V;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    /** Bytes of one vector: the offset of a tile row's second vector. */
    private static final long V_BYTES = (long) V * Float.BYTES;

    private GemmMicroKernel() {
    }

    /**
     * C tile = alpha * (A panel * B panel) over a full MR x NR tile, C not read: the sums go from
     * the registers straight to C. Edge tiles of {@link Gemm} go through here too, with alpha 1
     * into a scratch tile that {@link #update} then writes to C's partial rows and columns; x * 1
     * is x, so both ways give C the same bits. Kept free of edge cases so the compiler keeps all
     * accumulators in registers.
     */
    static void multiplyStore(int kc, float[] a, int aOffset, float[] b, int bOffset,
                              MemorySegment c, long cByte, long ldcBytes, float alpha) {
        FloatVector c00 = FloatVector.zero(SPECIES), c01 = FloatVector.zero(SPECIES);
        FloatVector c10 = FloatVector.zero(SPECIES), c11 = FloatVector.zero(SPECIES);
        FloatVector c20 = FloatVector.zero(SPECIES), c21 = FloatVector.zero(SPECIES);
        FloatVector c30 = FloatVector.zero(SPECIES), c31 = FloatVector.zero(SPECIES);
        FloatVector c40 = FloatVector.zero(SPECIES), c41 = FloatVector.zero(SPECIES);
        FloatVector c50 = FloatVector.zero(SPECIES), c51 = FloatVector.zero(SPECIES);
        FloatVector c60 = FloatVector.zero(SPECIES), c61 = FloatVector.zero(SPECIES);
        FloatVector c70 = FloatVector.zero(SPECIES), c71 = FloatVector.zero(SPECIES);
        int ai = aOffset;
        int bi = bOffset;
        for (int p = 0; p < kc; p++, ai += MR, bi += NR) {
            FloatVector b0 = FloatVector.fromArray(SPECIES, b, bi);
            FloatVector b1 = FloatVector.fromArray(SPECIES, b, bi + V);
            FloatVector x;
            x = FloatVector.broadcast(SPECIES, a[ai + 0]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(SPECIES, a[ai + 1]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(SPECIES, a[ai + 2]);
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(SPECIES, a[ai + 3]);
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(SPECIES, a[ai + 4]);
            c40 = x.fma(b0, c40);
            c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(SPECIES, a[ai + 5]);
            c50 = x.fma(b0, c50);
            c51 = x.fma(b1, c51);
            x = FloatVector.broadcast(SPECIES, a[ai + 6]);
            c60 = x.fma(b0, c60);
            c61 = x.fma(b1, c61);
            x = FloatVector.broadcast(SPECIES, a[ai + 7]);
            c70 = x.fma(b0, c70);
            c71 = x.fma(b1, c71);
        }
        FloatVector alphas = FloatVector.broadcast(SPECIES, alpha);
        c00.mul(alphas).intoMemorySegment(c, cByte, ORDER);
        c01.mul(alphas).intoMemorySegment(c, cByte + V_BYTES, ORDER);
        c10.mul(alphas).intoMemorySegment(c, cByte + 1 * ldcBytes, ORDER);
        c11.mul(alphas).intoMemorySegment(c, cByte + 1 * ldcBytes + V_BYTES, ORDER);
        c20.mul(alphas).intoMemorySegment(c, cByte + 2 * ldcBytes, ORDER);
        c21.mul(alphas).intoMemorySegment(c, cByte + 2 * ldcBytes + V_BYTES, ORDER);
        c30.mul(alphas).intoMemorySegment(c, cByte + 3 * ldcBytes, ORDER);
        c31.mul(alphas).intoMemorySegment(c, cByte + 3 * ldcBytes + V_BYTES, ORDER);
        c40.mul(alphas).intoMemorySegment(c, cByte + 4 * ldcBytes, ORDER);
        c41.mul(alphas).intoMemorySegment(c, cByte + 4 * ldcBytes + V_BYTES, ORDER);
        c50.mul(alphas).intoMemorySegment(c, cByte + 5 * ldcBytes, ORDER);
        c51.mul(alphas).intoMemorySegment(c, cByte + 5 * ldcBytes + V_BYTES, ORDER);
        c60.mul(alphas).intoMemorySegment(c, cByte + 6 * ldcBytes, ORDER);
        c61.mul(alphas).intoMemorySegment(c, cByte + 6 * ldcBytes + V_BYTES, ORDER);
        c70.mul(alphas).intoMemorySegment(c, cByte + 7 * ldcBytes, ORDER);
        c71.mul(alphas).intoMemorySegment(c, cByte + 7 * ldcBytes + V_BYTES, ORDER);
    }

    /**
     * C tile = alpha * (A panel * B panel) + beta * C tile over a full MR x NR tile, the same
     * operations as {@link #multiplyStore} into a scratch tile then {@link #update}, so the same
     * bits. The loop repeats {@link #multiplyStore}'s: one method with both endings is past what C2
     * compiles with its vectors in registers (measured: 1 GFLOP/s, every vector boxed), and the
     * sixteen accumulators cannot be handed from one method to another without boxing them.
     */
    static void multiplyAccumulate(int kc, float[] a, int aOffset, float[] b, int bOffset,
                                   MemorySegment c, long cByte, long ldcBytes, float alpha, float beta) {
        FloatVector c00 = FloatVector.zero(SPECIES), c01 = FloatVector.zero(SPECIES);
        FloatVector c10 = FloatVector.zero(SPECIES), c11 = FloatVector.zero(SPECIES);
        FloatVector c20 = FloatVector.zero(SPECIES), c21 = FloatVector.zero(SPECIES);
        FloatVector c30 = FloatVector.zero(SPECIES), c31 = FloatVector.zero(SPECIES);
        FloatVector c40 = FloatVector.zero(SPECIES), c41 = FloatVector.zero(SPECIES);
        FloatVector c50 = FloatVector.zero(SPECIES), c51 = FloatVector.zero(SPECIES);
        FloatVector c60 = FloatVector.zero(SPECIES), c61 = FloatVector.zero(SPECIES);
        FloatVector c70 = FloatVector.zero(SPECIES), c71 = FloatVector.zero(SPECIES);
        int ai = aOffset;
        int bi = bOffset;
        for (int p = 0; p < kc; p++, ai += MR, bi += NR) {
            FloatVector b0 = FloatVector.fromArray(SPECIES, b, bi);
            FloatVector b1 = FloatVector.fromArray(SPECIES, b, bi + V);
            FloatVector x;
            x = FloatVector.broadcast(SPECIES, a[ai + 0]);
            c00 = x.fma(b0, c00);
            c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(SPECIES, a[ai + 1]);
            c10 = x.fma(b0, c10);
            c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(SPECIES, a[ai + 2]);
            c20 = x.fma(b0, c20);
            c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(SPECIES, a[ai + 3]);
            c30 = x.fma(b0, c30);
            c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(SPECIES, a[ai + 4]);
            c40 = x.fma(b0, c40);
            c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(SPECIES, a[ai + 5]);
            c50 = x.fma(b0, c50);
            c51 = x.fma(b1, c51);
            x = FloatVector.broadcast(SPECIES, a[ai + 6]);
            c60 = x.fma(b0, c60);
            c61 = x.fma(b1, c61);
            x = FloatVector.broadcast(SPECIES, a[ai + 7]);
            c70 = x.fma(b0, c70);
            c71 = x.fma(b1, c71);
        }
        FloatVector alphas = FloatVector.broadcast(SPECIES, alpha);
        c00.fma(alphas, FloatVector.fromMemorySegment(SPECIES, c, cByte, ORDER).mul(beta))
                .intoMemorySegment(c, cByte, ORDER);
        c01.fma(alphas, FloatVector.fromMemorySegment(SPECIES, c, cByte + V_BYTES, ORDER).mul(beta))
                .intoMemorySegment(c, cByte + V_BYTES, ORDER);
        c10.fma(alphas, FloatVector.fromMemorySegment(SPECIES, c, cByte + 1 * ldcBytes, ORDER).mul(beta))
                .intoMemorySegment(c, cByte + 1 * ldcBytes, ORDER);
        c11.fma(alphas, FloatVector.fromMemorySegment(SPECIES, c, cByte + 1 * ldcBytes + V_BYTES, ORDER).mul(beta))
                .intoMemorySegment(c, cByte + 1 * ldcBytes + V_BYTES, ORDER);
        c20.fma(alphas, FloatVector.fromMemorySegment(SPECIES, c, cByte + 2 * ldcBytes, ORDER).mul(beta))
                .intoMemorySegment(c, cByte + 2 * ldcBytes, ORDER);
        c21.fma(alphas, FloatVector.fromMemorySegment(SPECIES, c, cByte + 2 * ldcBytes + V_BYTES, ORDER).mul(beta))
                .intoMemorySegment(c, cByte + 2 * ldcBytes + V_BYTES, ORDER);
        c30.fma(alphas, FloatVector.fromMemorySegment(SPECIES, c, cByte + 3 * ldcBytes, ORDER).mul(beta))
                .intoMemorySegment(c, cByte + 3 * ldcBytes, ORDER);
        c31.fma(alphas, FloatVector.fromMemorySegment(SPECIES, c, cByte + 3 * ldcBytes + V_BYTES, ORDER).mul(beta))
                .intoMemorySegment(c, cByte + 3 * ldcBytes + V_BYTES, ORDER);
        c40.fma(alphas, FloatVector.fromMemorySegment(SPECIES, c, cByte + 4 * ldcBytes, ORDER).mul(beta))
                .intoMemorySegment(c, cByte + 4 * ldcBytes, ORDER);
        c41.fma(alphas, FloatVector.fromMemorySegment(SPECIES, c, cByte + 4 * ldcBytes + V_BYTES, ORDER).mul(beta))
                .intoMemorySegment(c, cByte + 4 * ldcBytes + V_BYTES, ORDER);
        c50.fma(alphas, FloatVector.fromMemorySegment(SPECIES, c, cByte + 5 * ldcBytes, ORDER).mul(beta))
                .intoMemorySegment(c, cByte + 5 * ldcBytes, ORDER);
        c51.fma(alphas, FloatVector.fromMemorySegment(SPECIES, c, cByte + 5 * ldcBytes + V_BYTES, ORDER).mul(beta))
                .intoMemorySegment(c, cByte + 5 * ldcBytes + V_BYTES, ORDER);
        c60.fma(alphas, FloatVector.fromMemorySegment(SPECIES, c, cByte + 6 * ldcBytes, ORDER).mul(beta))
                .intoMemorySegment(c, cByte + 6 * ldcBytes, ORDER);
        c61.fma(alphas, FloatVector.fromMemorySegment(SPECIES, c, cByte + 6 * ldcBytes + V_BYTES, ORDER).mul(beta))
                .intoMemorySegment(c, cByte + 6 * ldcBytes + V_BYTES, ORDER);
        c70.fma(alphas, FloatVector.fromMemorySegment(SPECIES, c, cByte + 7 * ldcBytes, ORDER).mul(beta))
                .intoMemorySegment(c, cByte + 7 * ldcBytes, ORDER);
        c71.fma(alphas, FloatVector.fromMemorySegment(SPECIES, c, cByte + 7 * ldcBytes + V_BYTES, ORDER).mul(beta))
                .intoMemorySegment(c, cByte + 7 * ldcBytes + V_BYTES, ORDER);
    }

    /**
     * C tile = alpha * tile + beta * C tile over its top-left {@code rows x cols}
     * ({@code beta == 0}: C is not read). C is addressed in bytes: (0, 0) at {@code cByte},
     * rows {@code ldcBytes} apart.
     */
    static void update(float[] tile, MemorySegment c, long cByte, long ldcBytes, int rows, int cols,
                       float alpha, float beta) {
        FloatVector alphas = FloatVector.broadcast(SPECIES, alpha);
        for (int r = 0; r < rows; r++) {
            long rowByte = cByte + r * ldcBytes;
            for (int v = 0; v < NR; v += V) {
                long at = rowByte + (long) v * Float.BYTES;
                FloatVector sum = FloatVector.fromArray(SPECIES, tile, r * NR + v);
                if (cols >= v + V) {
                    FloatVector result = beta == 0 ? sum.mul(alphas)
                            : sum.fma(alphas, FloatVector.fromMemorySegment(SPECIES, c, at, ORDER).mul(beta));
                    result.intoMemorySegment(c, at, ORDER);
                } else if (cols > v) {
                    VectorMask<Float> inside = SPECIES.indexInRange(v, cols);
                    FloatVector result = beta == 0 ? sum.mul(alphas)
                            : sum.fma(alphas, FloatVector.fromMemorySegment(SPECIES, c, at, ORDER, inside).mul(beta));
                    result.intoMemorySegment(c, at, ORDER, inside);
                }
            }
        }
    }
}
