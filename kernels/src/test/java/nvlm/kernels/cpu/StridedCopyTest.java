package nvlm.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import nvlm.kernels.DType;
import nvlm.kernels.cpu.KernelFixtures.View;
import org.junit.jupiter.api.Test;
import org.quicktheories.generators.Generate;

class StridedCopyTest {

    /** Random source elements of the type: arbitrary bit patterns for floats (NaNs and infinities included). */
    private static void fill(Random r, MemorySegment seg, DType src, DType dst) {
        long n = seg.byteSize() / src.byteSize();
        for (long i = 0; i < n; i++) {
            switch (src) {
                case F32 -> seg.setAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i,
                        r.nextBoolean() ? r.nextInt() : Float.floatToIntBits((float) (r.nextGaussian() * 1e3)));
                case BF16, F16 -> seg.setAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i, (short) r.nextInt());
                case I32 -> seg.setAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i, r.nextBoolean() ? r.nextInt() : r.nextInt(2001) - 1000);
                case I64 -> seg.setAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, i,
                        dst == DType.I32 ? r.nextInt() : (r.nextBoolean() ? r.nextLong() : r.nextInt(2001) - 1000));
                case BOOL -> seg.set(ValueLayout.JAVA_BYTE, i, (byte) r.nextInt(2));
            }
        }
    }

    private static long[] shape(Random r) {
        if (r.nextInt(30) == 0) {
            return new long[] {150 + r.nextInt(200), 257 + r.nextInt(300)}; // threaded, and the transpose path
        }
        int rank = r.nextInt(6);
        long[] shape = new long[rank];
        int[] dims = {1, 2, 3, 5, 7, 16, 17, 31};
        for (int d = 0; d < rank; d++) {
            shape[d] = dims[r.nextInt(dims.length)];
        }
        return shape;
    }

    @Test
    void permutedSlicedAndExpandedViewsCopyLikeTheReferenceForEveryDtypePair() {
        qt().withExamples(250).forAll(Generate.enumValues(DType.class), Generate.enumValues(DType.class), KernelFixtures.seeds())
                .checkAssert((src, dst, seed) -> {
                    Random r = new Random(seed);
                    long[] shape = shape(r);
                    boolean[] expand = new boolean[shape.length];
                    for (int d = 0; d < shape.length; d++) {
                        expand[d] = r.nextInt(6) == 0;
                    }
                    View v = KernelFixtures.view(r, shape, expand, src.byteSize(), r.nextInt(3) == 0);
                    fill(r, v.seg(), src, dst);
                    long n = ReferenceKernels.numel(shape);
                    long dstOff = r.nextInt(3);
                    MemorySegment out = Arena.ofAuto().allocate((n + dstOff) * dst.byteSize(), 8);
                    MemorySegment expected = Arena.ofAuto().allocate((n + dstOff) * dst.byteSize(), 8);
                    StridedCopy.copy(src, shape, v.seg(), v.off(), v.strides(), dst, out, dstOff);
                    ReferenceKernels.stridedCopy(src, shape, v.seg(), v.off(), v.strides(), dst, expected, dstOff);
                    long at = expected.mismatch(out);
                    assertEquals(-1L, at, () -> src + " -> " + dst + " " + java.util.Arrays.toString(shape)
                            + " strides " + java.util.Arrays.toString(v.strides()) + ": first differing byte " + at);
                });
    }

    @Test
    void largeTransposeIsExact() {
        Random r = new Random(5);
        int rows = 513;
        int cols = 301;
        float[] a = KernelFixtures.gaussian(r, rows * cols, 1);
        MemorySegment src = MemorySegment.ofArray(a);
        for (DType dst : new DType[] {DType.F32, DType.BF16}) {
            // View [cols, rows] of the [rows, cols] matrix: strides {1, cols}.
            MemorySegment out = Arena.ofAuto().allocate((long) rows * cols * dst.byteSize());
            StridedCopy.copy(DType.F32, new long[] {cols, rows}, src, 0, new long[] {1, cols}, dst, out, 0);
            for (int j = 0; j < cols; j++) {
                for (int i = 0; i < rows; i++) {
                    float v = a[i * cols + j];
                    long k = (long) j * rows + i;
                    if (dst == DType.F32) {
                        assertEquals(Float.floatToRawIntBits(v), out.getAtIndex(ValueLayout.JAVA_INT, k));
                    } else {
                        assertEquals(DType.floatToBf16(v), out.getAtIndex(ValueLayout.JAVA_SHORT, k));
                    }
                }
            }
        }
    }

    @Test
    void negativeStridesReadAFlippedView() {
        MemorySegment src = MemorySegment.ofArray(new float[] {0, 1, 2, 3, 4, 5});
        MemorySegment out = MemorySegment.ofArray(new float[6]);
        // [2, 3] view of the row-major [2, 3] matrix with both axes flipped.
        StridedCopy.copy(DType.F32, new long[] {2, 3}, src, 5, new long[] {-3, -1}, DType.F32, out, 0);
        assertEquals(java.util.Arrays.toString(new float[] {5, 4, 3, 2, 1, 0}),
                java.util.Arrays.toString(out.toArray(ValueLayout.JAVA_FLOAT)));
    }

    @Test
    void i64ToI32OverflowNamesTheValue() {
        MemorySegment src = MemorySegment.ofArray(new long[] {1, 2, 5_000_000_000L});
        MemorySegment out = MemorySegment.ofArray(new int[3]);
        var e = assertThrows(IllegalArgumentException.class,
                () -> StridedCopy.copy(DType.I64, new long[] {3}, src, 0, new long[] {1}, DType.I32, out, 0));
        assertTrue(e.getMessage().contains("5000000000"), e.getMessage());
    }

    @Test
    void floatToIntTruncatesLikeAJavaCast() {
        MemorySegment src = MemorySegment.ofArray(new float[] {-2.7f, 2.7f, Float.NaN, 1e20f, -1e20f, -0.5f});
        MemorySegment out = MemorySegment.ofArray(new int[6]);
        StridedCopy.copy(DType.F32, new long[] {6}, src, 0, new long[] {1}, DType.I32, out, 0);
        assertEquals(java.util.Arrays.toString(new int[] {-2, 2, 0, Integer.MAX_VALUE, Integer.MIN_VALUE, 0}),
                java.util.Arrays.toString(out.toArray(ValueLayout.JAVA_INT)));
    }

    @Test
    void viewsReachingOutsideTheSourceAreRejected() {
        MemorySegment src = MemorySegment.ofArray(new float[10]);
        MemorySegment out = MemorySegment.ofArray(new float[20]);
        var e = assertThrows(IllegalArgumentException.class,
                () -> StridedCopy.copy(DType.F32, new long[] {4, 3}, src, 0, new long[] {3, 1}, DType.F32, out, 0));
        assertTrue(e.getMessage().startsWith("src:"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> StridedCopy.copy(DType.F32, new long[] {2, 5}, src, 0, new long[] {5, 1}, DType.I64, src, 0));
        assertTrue(e.getMessage().startsWith("dst:"), e.getMessage());
    }
}
