package nvlm.kernels.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;
import nvlm.kernels.DType;
import nvlm.kernels.Parallel;

/**
 * Matrix-vector product for decoding, y = alpha * W x + beta * y, with W [rows, cols] stored
 * row-major in F32 or BF16 (a linear layer's weight, [out, in]) and x, y in F32. Decoding one token
 * reads every weight once and does two flops per weight, so it is bound by memory bandwidth: the
 * kernel reads W straight from its segment (BF16 widened in registers: shift the 16 bits up),
 * four rows at a time against one load of x, and splits the rows over the threads. Tested against
 * {@link GemmReference}; each y element is summed in an order fixed by {@code cols} alone, so
 * results are the same bits for any thread count.
 */
public final class Gemv {
    private static final VectorSpecies<Float> F = GemmMicroKernel.SPECIES;
    private static final int V = F.length();
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, VectorShape.forBitSize(V * Integer.SIZE));
    /** V BF16 bit patterns: one load widens into one float vector. */
    private static final VectorSpecies<Short> S = VectorSpecies.of(short.class, VectorShape.forBitSize(V * Short.SIZE));
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    /** Rows per task handed to a thread: 64 rows of a 896-wide BF16 weight are 112 KiB. */
    private static final int GRAIN = 64;
    /** Below this many weights one thread is faster than waking another. */
    private static final long PARALLEL_MIN_WEIGHTS = 1L << 16;

    private Gemv() {
    }

    /**
     * y[yOffset + r] = alpha * sum_c W[wOffset + r*ldw + c] * x[xOffset + c] + beta * y[yOffset + r]
     * for r in [0, rows). Offsets and ldw count elements. beta 0 ignores y's old contents (NaN
     * included), as BLAS does.
     *
     * @throws IllegalArgumentException naming the argument when a size or dtype is invalid or a
     *     segment is too small for the addressed range
     */
    public static void gemv(DType wType, int rows, int cols, float alpha, MemorySegment w, long wOffset, long ldw,
                            MemorySegment x, long xOffset, float beta, MemorySegment y, long yOffset) {
        if (wType != DType.F32 && wType != DType.BF16) {
            throw new IllegalArgumentException("Gemv: W dtype must be F32 or BF16, got " + wType);
        }
        if (rows < 0 || cols < 0 || ldw < cols) {
            throw new IllegalArgumentException("Gemv: rows " + rows + ", cols " + cols + ", ldw " + ldw
                    + " (need rows, cols >= 0 and ldw >= cols)");
        }
        if (rows == 0) {
            return;
        }
        Arguments.requireRange("Gemv W", w, wOffset, (rows - 1) * ldw + cols, wType.byteSize());
        Arguments.requireRange("Gemv x", x, xOffset, cols, Float.BYTES);
        Arguments.requireRange("Gemv y", y, yOffset, rows, Float.BYTES);
        Parallel.RangeBody body = (r0, r1) -> {
            if (wType == DType.BF16) {
                rowsBf16(r0, r1, cols, alpha, w, wOffset, ldw, x, xOffset, beta, y, yOffset);
            } else {
                rowsF32(r0, r1, cols, alpha, w, wOffset, ldw, x, xOffset, beta, y, yOffset);
            }
        };
        if ((long) rows * cols < PARALLEL_MIN_WEIGHTS) {
            body.run(0, rows);
        } else {
            Parallel.forRange(rows, GRAIN, body);
        }
    }

    private static void rowsBf16(int r0, int r1, int cols, float alpha, MemorySegment w, long wOffset, long ldw,
                                 MemorySegment x, long xOffset, float beta, MemorySegment y, long yOffset) {
        long xb = xOffset * Float.BYTES;
        int main = cols - cols % V;
        int r = r0;
        for (; r + 4 <= r1; r += 4) {
            long w0 = (wOffset + r * ldw) * 2;
            long w1 = w0 + ldw * 2;
            long w2 = w1 + ldw * 2;
            long w3 = w2 + ldw * 2;
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = FloatVector.zero(F);
            FloatVector a2 = FloatVector.zero(F);
            FloatVector a3 = FloatVector.zero(F);
            for (int c = 0; c < main; c += V) {
                FloatVector xv = FloatVector.fromMemorySegment(F, x, xb + (long) c * Float.BYTES, LE);
                long cb = (long) c * 2;
                a0 = bf16(w, w0 + cb).fma(xv, a0);
                a1 = bf16(w, w1 + cb).fma(xv, a1);
                a2 = bf16(w, w2 + cb).fma(xv, a2);
                a3 = bf16(w, w3 + cb).fma(xv, a3);
            }
            float s0 = a0.reduceLanes(VectorOperators.ADD);
            float s1 = a1.reduceLanes(VectorOperators.ADD);
            float s2 = a2.reduceLanes(VectorOperators.ADD);
            float s3 = a3.reduceLanes(VectorOperators.ADD);
            for (int c = main; c < cols; c++) {
                float xc = x.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, xOffset + c);
                s0 += bf16Scalar(w, w0 + c * 2L) * xc;
                s1 += bf16Scalar(w, w1 + c * 2L) * xc;
                s2 += bf16Scalar(w, w2 + c * 2L) * xc;
                s3 += bf16Scalar(w, w3 + c * 2L) * xc;
            }
            store(y, yOffset + r, s0, alpha, beta);
            store(y, yOffset + r + 1, s1, alpha, beta);
            store(y, yOffset + r + 2, s2, alpha, beta);
            store(y, yOffset + r + 3, s3, alpha, beta);
        }
        for (; r < r1; r++) {
            long w0 = (wOffset + r * ldw) * 2;
            FloatVector a0 = FloatVector.zero(F);
            for (int c = 0; c < main; c += V) {
                a0 = bf16(w, w0 + (long) c * 2).fma(FloatVector.fromMemorySegment(F, x, xb + (long) c * Float.BYTES, LE), a0);
            }
            float s0 = a0.reduceLanes(VectorOperators.ADD);
            for (int c = main; c < cols; c++) {
                s0 += bf16Scalar(w, w0 + c * 2L) * x.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, xOffset + c);
            }
            store(y, yOffset + r, s0, alpha, beta);
        }
    }

    private static void rowsF32(int r0, int r1, int cols, float alpha, MemorySegment w, long wOffset, long ldw,
                                MemorySegment x, long xOffset, float beta, MemorySegment y, long yOffset) {
        long xb = xOffset * Float.BYTES;
        int main = cols - cols % V;
        int r = r0;
        for (; r + 4 <= r1; r += 4) {
            long w0 = (wOffset + r * ldw) * Float.BYTES;
            long w1 = w0 + ldw * Float.BYTES;
            long w2 = w1 + ldw * Float.BYTES;
            long w3 = w2 + ldw * Float.BYTES;
            FloatVector a0 = FloatVector.zero(F);
            FloatVector a1 = FloatVector.zero(F);
            FloatVector a2 = FloatVector.zero(F);
            FloatVector a3 = FloatVector.zero(F);
            for (int c = 0; c < main; c += V) {
                long cb = (long) c * Float.BYTES;
                FloatVector xv = FloatVector.fromMemorySegment(F, x, xb + cb, LE);
                a0 = FloatVector.fromMemorySegment(F, w, w0 + cb, LE).fma(xv, a0);
                a1 = FloatVector.fromMemorySegment(F, w, w1 + cb, LE).fma(xv, a1);
                a2 = FloatVector.fromMemorySegment(F, w, w2 + cb, LE).fma(xv, a2);
                a3 = FloatVector.fromMemorySegment(F, w, w3 + cb, LE).fma(xv, a3);
            }
            float s0 = a0.reduceLanes(VectorOperators.ADD);
            float s1 = a1.reduceLanes(VectorOperators.ADD);
            float s2 = a2.reduceLanes(VectorOperators.ADD);
            float s3 = a3.reduceLanes(VectorOperators.ADD);
            for (int c = main; c < cols; c++) {
                float xc = x.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, xOffset + c);
                s0 += w.get(ValueLayout.JAVA_FLOAT_UNALIGNED, w0 + c * 4L) * xc;
                s1 += w.get(ValueLayout.JAVA_FLOAT_UNALIGNED, w1 + c * 4L) * xc;
                s2 += w.get(ValueLayout.JAVA_FLOAT_UNALIGNED, w2 + c * 4L) * xc;
                s3 += w.get(ValueLayout.JAVA_FLOAT_UNALIGNED, w3 + c * 4L) * xc;
            }
            store(y, yOffset + r, s0, alpha, beta);
            store(y, yOffset + r + 1, s1, alpha, beta);
            store(y, yOffset + r + 2, s2, alpha, beta);
            store(y, yOffset + r + 3, s3, alpha, beta);
        }
        for (; r < r1; r++) {
            long w0 = (wOffset + r * ldw) * Float.BYTES;
            FloatVector a0 = FloatVector.zero(F);
            for (int c = 0; c < main; c += V) {
                long cb = (long) c * Float.BYTES;
                a0 = FloatVector.fromMemorySegment(F, w, w0 + cb, LE).fma(FloatVector.fromMemorySegment(F, x, xb + cb, LE), a0);
            }
            float s0 = a0.reduceLanes(VectorOperators.ADD);
            for (int c = main; c < cols; c++) {
                s0 += w.get(ValueLayout.JAVA_FLOAT_UNALIGNED, w0 + c * 4L) * x.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, xOffset + c);
            }
            store(y, yOffset + r, s0, alpha, beta);
        }
    }

    /** V BF16 weights at byte offset {@code at}, widened to f32: bf16 is the top half of an f32. */
    private static FloatVector bf16(MemorySegment w, long at) {
        return ((IntVector) ShortVector.fromMemorySegment(S, w, at, LE)
                .convertShape(VectorOperators.ZERO_EXTEND_S2I, I, 0))
                .lanewise(VectorOperators.LSHL, 16)
                .reinterpretAsFloats();
    }

    private static float bf16Scalar(MemorySegment w, long at) {
        return Float.intBitsToFloat((w.get(ValueLayout.JAVA_SHORT_UNALIGNED, at) & 0xffff) << 16);
    }

    private static void store(MemorySegment y, long index, float sum, float alpha, float beta) {
        float value = alpha * sum;
        if (beta != 0f) {
            value += beta * y.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, index);
        }
        y.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, index, value);
    }
}
