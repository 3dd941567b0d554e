package nvlm.kernels.cpu;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

/**
 * The register-tiled inner loop of {@link Gemm}: one MR x NR tile of C from an A panel and a B
 * panel laid out by {@link GemmPanels}. Each step over k loads NR/V vectors of B, broadcasts MR
 * elements of A and issues MR*NR/V independent fmas into accumulators that stay in registers;
 * C is touched once, after the loop.
 *
 * <p>8x(2 vectors): 16 accumulators + 2 B vectors + 1 broadcast fit the 32 AVX-512 registers
 * with room to spare, and 16 independent fma chains cover the fma latency (4 cycles) on two
 * fma pipes.
 */
final class GemmMicroKernel {
    static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    static final int V = SPECIES.length();
    static final int MR = 8;
    static final int NR = 2 * V;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    private GemmMicroKernel() {
    }

    /**
     * C tile = alpha * (A panel x B panel) + beta * C tile, for the top-left {@code rows x cols}
     * of the MR x NR tile ({@code beta == 0}: C is not read). {@code c} is addressed in bytes:
     * the tile's (0, 0) at {@code cByte}, rows {@code ldcBytes} apart.
     */
    static void tile(int kc, float[] a, int aOffset, float[] b, int bOffset,
                     MemorySegment c, long cByte, long ldcBytes, int rows, int cols,
                     float alpha, float beta) {
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
        if (cols == NR) {
            store(c00, c01, c, cByte, alpha, beta);
            if (rows > 1) {
                store(c10, c11, c, cByte + 1 * ldcBytes, alpha, beta);
            }
            if (rows > 2) {
                store(c20, c21, c, cByte + 2 * ldcBytes, alpha, beta);
            }
            if (rows > 3) {
                store(c30, c31, c, cByte + 3 * ldcBytes, alpha, beta);
            }
            if (rows > 4) {
                store(c40, c41, c, cByte + 4 * ldcBytes, alpha, beta);
            }
            if (rows > 5) {
                store(c50, c51, c, cByte + 5 * ldcBytes, alpha, beta);
            }
            if (rows > 6) {
                store(c60, c61, c, cByte + 6 * ldcBytes, alpha, beta);
            }
            if (rows > 7) {
                store(c70, c71, c, cByte + 7 * ldcBytes, alpha, beta);
            }
        } else {
            VectorMask<Float> m0 = SPECIES.indexInRange(0, cols);
            VectorMask<Float> m1 = SPECIES.indexInRange(V, cols);
            store(c00, c01, m0, m1, c, cByte, alpha, beta);
            if (rows > 1) {
                store(c10, c11, m0, m1, c, cByte + 1 * ldcBytes, alpha, beta);
            }
            if (rows > 2) {
                store(c20, c21, m0, m1, c, cByte + 2 * ldcBytes, alpha, beta);
            }
            if (rows > 3) {
                store(c30, c31, m0, m1, c, cByte + 3 * ldcBytes, alpha, beta);
            }
            if (rows > 4) {
                store(c40, c41, m0, m1, c, cByte + 4 * ldcBytes, alpha, beta);
            }
            if (rows > 5) {
                store(c50, c51, m0, m1, c, cByte + 5 * ldcBytes, alpha, beta);
            }
            if (rows > 6) {
                store(c60, c61, m0, m1, c, cByte + 6 * ldcBytes, alpha, beta);
            }
            if (rows > 7) {
                store(c70, c71, m0, m1, c, cByte + 7 * ldcBytes, alpha, beta);
            }
        }
    }

    private static void store(FloatVector acc0, FloatVector acc1, MemorySegment c, long at,
                              float alpha, float beta) {
        long at1 = at + (long) V * Float.BYTES;
        if (beta == 0) {
            acc0.mul(alpha).intoMemorySegment(c, at, ORDER);
            acc1.mul(alpha).intoMemorySegment(c, at1, ORDER);
        } else {
            FloatVector old0 = FloatVector.fromMemorySegment(SPECIES, c, at, ORDER);
            FloatVector old1 = FloatVector.fromMemorySegment(SPECIES, c, at1, ORDER);
            acc0.fma(FloatVector.broadcast(SPECIES, alpha), beta == 1 ? old0 : old0.mul(beta)).intoMemorySegment(c, at, ORDER);
            acc1.fma(FloatVector.broadcast(SPECIES, alpha), beta == 1 ? old1 : old1.mul(beta)).intoMemorySegment(c, at1, ORDER);
        }
    }

    private static void store(FloatVector acc0, FloatVector acc1, VectorMask<Float> m0, VectorMask<Float> m1,
                              MemorySegment c, long at, float alpha, float beta) {
        long at1 = at + (long) V * Float.BYTES;
        if (beta == 0) {
            acc0.mul(alpha).intoMemorySegment(c, at, ORDER, m0);
            acc1.mul(alpha).intoMemorySegment(c, at1, ORDER, m1);
        } else {
            FloatVector old0 = FloatVector.fromMemorySegment(SPECIES, c, at, ORDER, m0);
            FloatVector old1 = FloatVector.fromMemorySegment(SPECIES, c, at1, ORDER, m1);
            acc0.fma(FloatVector.broadcast(SPECIES, alpha), beta == 1 ? old0 : old0.mul(beta)).intoMemorySegment(c, at, ORDER, m0);
            acc1.fma(FloatVector.broadcast(SPECIES, alpha), beta == 1 ? old1 : old1.mul(beta)).intoMemorySegment(c, at1, ORDER, m1);
        }
    }
}
