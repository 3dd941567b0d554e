package nvlm.kernels.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;
import nvlm.kernels.DType;
import nvlm.kernels.Parallel;

/**
 * Matrix-vector product for decoding, y = alpha * W x + beta * y, with W [rows, cols] stored
 * row-major in F32 or BF16 (a linear layer's weight, [out, in]) and x, y in F32. Decoding one token
 * reads every weight once and does two flops per weight, so it is bound by memory bandwidth: the
 * kernel reads W straight from its segment (BF16 widened in registers: shift the 16 bits up; four
 * rows at a time, see {@code rowsBf16}; F32 four rows at a time against one load of x), and splits
 * the rows over the threads. Tested against
 * {@link GemmReference}; each y element is summed in an order fixed by {@code cols} alone, so
 * results are the same bits for any thread count.
 */
public final class Gemv {
    private static final VectorSpecies<Float> F = GemmMicroKernel.SPECIES;
    private static final int V = F.length();
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, VectorShape.forBitSize(V * Integer.SIZE));
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
        float[] xs = wType == DType.BF16 ? splitEvenOdd(x, xOffset, cols) : null;
        Parallel.RangeBody body = (r0, r1) -> {
            if (wType == DType.BF16) {
                rowsBf16(r0, r1, cols, alpha, w, wOffset, ldw, x, xOffset, xs, beta, y, yOffset);
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

    /**
     * BF16 rows four at a time, each read front to back: each int of W holds two bf16 weights, the
     * even column in its low half and the odd one in its high half, so {@code bits << 16} is the
     * even columns as floats and {@code bits & 0xffff0000} the odd ones, against x split the same
     * way ({@link #splitEvenOdd}). Four rows share each load of x, and their fixed-order lane sums
     * (scalar adds) overlap the next rows' reads: measured in bench generate, one row at a time
     * with the same sums decoded 14.9-15.6 tokens/s, four rows 16.2-16.3. Every row is summed exactly
     * as it would be alone (its own even and odd accumulators, then {@link #rowBf16}'s
     * reduction), so the bits do not depend on how rows are grouped.
     */
    private static void rowsBf16(int r0, int r1, int cols, float alpha, MemorySegment w, long wOffset, long ldw,
                                 MemorySegment x, long xOffset, float[] xs, float beta, MemorySegment y, long yOffset) {
        int main = cols - cols % (2 * V);
        float[] lanes = LANES.get();
        int r = r0;
        for (; r + 4 <= r1; r += 4) {
            long w0 = (wOffset + r * ldw) * 2;
            long w1 = w0 + ldw * 2;
            long w2 = w1 + ldw * 2;
            long w3 = w2 + ldw * 2;
            FloatVector e0 = FloatVector.zero(F);
            FloatVector o0 = FloatVector.zero(F);
            FloatVector e1 = FloatVector.zero(F);
            FloatVector o1 = FloatVector.zero(F);
            FloatVector e2 = FloatVector.zero(F);
            FloatVector o2 = FloatVector.zero(F);
            FloatVector e3 = FloatVector.zero(F);
            FloatVector o3 = FloatVector.zero(F);
            for (int c = 0; c < main; c += 2 * V) {
                long cb = (long) c * 2;
                FloatVector xe = FloatVector.fromArray(F, xs, c);
                FloatVector xo = FloatVector.fromArray(F, xs, c + V);
                IntVector b0 = IntVector.fromMemorySegment(I, w, w0 + cb, LE);
                IntVector b1 = IntVector.fromMemorySegment(I, w, w1 + cb, LE);
                IntVector b2 = IntVector.fromMemorySegment(I, w, w2 + cb, LE);
                IntVector b3 = IntVector.fromMemorySegment(I, w, w3 + cb, LE);
                e0 = b0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xe, e0);
                o0 = b0.and(0xffff0000).reinterpretAsFloats().fma(xo, o0);
                e1 = b1.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xe, e1);
                o1 = b1.and(0xffff0000).reinterpretAsFloats().fma(xo, o1);
                e2 = b2.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xe, e2);
                o2 = b2.and(0xffff0000).reinterpretAsFloats().fma(xo, o2);
                e3 = b3.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(xe, e3);
                o3 = b3.and(0xffff0000).reinterpretAsFloats().fma(xo, o3);
            }
            // Lanes stored here and summed by a method that takes no vector (see tailBf16).
            e0.add(o0).intoArray(lanes, 0);
            e1.add(o1).intoArray(lanes, V);
            e2.add(o2).intoArray(lanes, 2 * V);
            e3.add(o3).intoArray(lanes, 3 * V);
            for (int i = 0; i < 4; i++) {
                long wi = w0 + i * ldw * 2;
                float s = tailBf16((float) VectorMath.sumStoredLanes(lanes, i * V, V), main, cols, w, wi, x, xOffset);
                store(y, yOffset + r + i, s, alpha, beta);
            }
        }
        for (; r < r1; r++) {
            long w0 = (wOffset + r * ldw) * 2;
            store(y, yOffset + r, rowBf16(main, cols, w, w0, x, xOffset, xs, lanes), alpha, beta);
        }
    }

    /** One BF16 row starting at byte {@code w0}: the sum {@link #rowsBf16} computes for each of its rows. */
    private static float rowBf16(int main, int cols, MemorySegment w, long w0, MemorySegment x, long xOffset,
                                 float[] xs, float[] lanes) {
        FloatVector even = FloatVector.zero(F);
        FloatVector odd = FloatVector.zero(F);
        for (int c = 0; c < main; c += 2 * V) {
            IntVector bits = IntVector.fromMemorySegment(I, w, w0 + (long) c * 2, LE);
            even = bits.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(F, xs, c), even);
            odd = bits.and(0xffff0000).reinterpretAsFloats().fma(FloatVector.fromArray(F, xs, c + V), odd);
        }
        return tailBf16((float) VectorMath.sumLanes(even.add(odd), lanes), main, cols, w, w0, x, xOffset);
    }

    /**
     * A row's sum {@code s} of its first {@code main} columns (even and odd partial sums, lanes
     * added in a fixed order by {@link VectorMath#sumLanes}: {@code reduceLanes(ADD)} gives other
     * bits once C2 compiles the method), plus its last {@code cols - main} columns. It takes the
     * sum, not the vectors: a vector passed to a method C2 does not inline is boxed, and the
     * four-row loop with four reductions inlined was past what C2 compiles with its vectors in
     * registers (350 MB of heap per decoded token, {@code KernelAllocationTest}).
     */
    private static float tailBf16(float s, int main, int cols, MemorySegment w, long w0, MemorySegment x, long xOffset) {
        for (int c = main; c < cols; c++) {
            s += bf16Scalar(w, w0 + c * 2L) * x.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, xOffset + c);
        }
        return s;
    }

    /**
     * x's first {@code cols - cols % 2V} elements in blocks of 2V, each block's even elements first,
     * then its odd ones, into a scratch array of the calling thread (workers read it after the fork).
     */
    private static float[] splitEvenOdd(MemorySegment x, long xOffset, int cols) {
        int main = cols - cols % (2 * V);
        float[] xs = SPLIT_X.get();
        if (xs.length < main) {
            xs = new float[main];
            SPLIT_X.set(xs);
        }
        for (int c = 0; c < main; c += 2 * V) {
            for (int j = 0; j < V; j++) {
                xs[c + j] = x.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, xOffset + c + 2 * j);
                xs[c + V + j] = x.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, xOffset + c + 2 * j + 1);
            }
        }
        return xs;
    }

    private static final ThreadLocal<float[]> SPLIT_X = ThreadLocal.withInitial(() -> new float[0]);
    /** Per-thread room for four vectors' lanes ({@link VectorMath#sumStoredLanes}). */
    private static final ThreadLocal<float[]> LANES = ThreadLocal.withInitial(() -> new float[4 * V]);

    private static void rowsF32(int r0, int r1, int cols, float alpha, MemorySegment w, long wOffset, long ldw,
                                MemorySegment x, long xOffset, float beta, MemorySegment y, long yOffset) {
        long xb = xOffset * Float.BYTES;
        int main = cols - cols % V;
        float[] lanes = LANES.get();
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
            float s0 = (float) VectorMath.sumLanes(a0, lanes);
            float s1 = (float) VectorMath.sumLanes(a1, lanes);
            float s2 = (float) VectorMath.sumLanes(a2, lanes);
            float s3 = (float) VectorMath.sumLanes(a3, lanes);
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
            float s0 = (float) VectorMath.sumLanes(a0, lanes);
            for (int c = main; c < cols; c++) {
                s0 += w.get(ValueLayout.JAVA_FLOAT_UNALIGNED, w0 + c * 4L) * x.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, xOffset + c);
            }
            store(y, yOffset + r, s0, alpha, beta);
        }
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
