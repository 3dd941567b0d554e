package nvlm.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import nvlm.kernels.DType;
import org.junit.jupiter.api.Test;

/** {@link Gemv} against {@link GemmReference} (one row of A times B stored [n, k]) on decoder and odd shapes. */
class GemvTest {
    private static final double U = 0x1p-24;

    @Test
    void matchesReferenceOnOddShapesBothDtypesAndScalars() {
        int[] rows = {1, 3, 4, 5, 17, 64, 67};
        int[] cols = {1, 7, 15, 16, 17, 33, 130};
        int variant = 0;
        for (int r : rows) {
            for (int c : cols) {
                for (DType type : new DType[] {DType.BF16, DType.F32}) {
                    float alpha = variant % 3 == 0 ? -0.75f : 1f;
                    float beta = variant % 4 == 0 ? 0f : variant % 4 == 1 ? 1f : 0.5f;
                    check(type, r, c, c + variant % 3, variant % 5, alpha, beta, variant++);
                }
            }
        }
    }

    @Test
    void matchesReferenceOnQwen2HalfBillionShapesOnTheThreadedPath() {
        // q_proj/o_proj 896x896, k/v 128x896, gate/up 4864x896, down 896x4864 (InternVL2-1B's decoder).
        int[][] shapes = {{896, 896}, {128, 896}, {4864, 896}, {896, 4864}};
        for (int i = 0; i < shapes.length; i++) {
            check(DType.BF16, shapes[i][0], shapes[i][1], shapes[i][1], 0, 1f, i == 0 ? 1f : 0f, 100 + i);
        }
        check(DType.F32, 896, 4864, 4864, 3, 1f, 0f, 200);
    }

    @Test
    void gemmRoutesOneRowTimesATransposedWeightHereWithTheSameBits() {
        int n = 300;
        int k = 130;
        SplittableRandom random = new SplittableRandom(5);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment w = values(DType.BF16, (long) n * k, random, arena);
            MemorySegment x = values(DType.F32, k, random, arena);
            MemorySegment viaGemm = arena.allocate((long) n * Float.BYTES);
            MemorySegment direct = arena.allocate((long) n * Float.BYTES);
            Gemm.gemm(DType.F32, DType.BF16, false, true, 1, 1, n, k, 1f, x, 0, k, 0, w, 0, k, 0, 0f, viaGemm, 0, n, 0);
            Gemv.gemv(DType.BF16, n, k, 1f, w, 0, k, x, 0, 0f, direct, 0);
            for (int j = 0; j < n; j++) {
                assertEquals(Float.floatToRawIntBits(direct.getAtIndex(ValueLayout.JAVA_FLOAT, j)),
                        Float.floatToRawIntBits(viaGemm.getAtIndex(ValueLayout.JAVA_FLOAT, j)), "element " + j);
            }
        }
    }

    @Test
    void eachRowHasTheSameBitsWhateverRowsItIsComputedWith() {
        // A row must not depend on the rows computed with it (the threads split rows into
        // chunks, and a kernel may take several rows at a time).
        int rows = 67;
        for (int cols : new int[] {31, 32, 130, 896}) {
            SplittableRandom random = new SplittableRandom(cols);
            try (Arena arena = Arena.ofShared()) {
                MemorySegment w = values(DType.BF16, (long) rows * cols, random, arena);
                MemorySegment x = values(DType.F32, cols, random, arena);
                MemorySegment all = arena.allocate((long) rows * Float.BYTES);
                MemorySegment alone = arena.allocate(Float.BYTES);
                Gemv.gemv(DType.BF16, rows, cols, 1f, w, 0, cols, x, 0, 0f, all, 0);
                for (int r = 0; r < rows; r++) {
                    Gemv.gemv(DType.BF16, 1, cols, 1f, w, (long) r * cols, cols, x, 0, 0f, alone, 0);
                    assertEquals(Float.floatToRawIntBits(alone.getAtIndex(ValueLayout.JAVA_FLOAT, 0)),
                            Float.floatToRawIntBits(all.getAtIndex(ValueLayout.JAVA_FLOAT, r)),
                            "row " + r + " of " + rows + "x" + cols);
                }
            }
        }
    }

    @Test
    void sameBitsBeforeAndAfterTheJitCompilesTheKernels() {
        // The first calls run interpreted, later ones compiled by C1 and then C2. A float lane sum
        // by reduceLanes(ADD) is reordered by C2's intrinsic, which gave a decoded token other bits
        // from one launch to the next; every call must give the first call's bits. Checked for the
        // GEMV (both dtypes) and for GEMM's few-row path (m <= 4, B stored n x k), which sums lanes too.
        int n = 24;
        int k = 96;
        SplittableRandom random = new SplittableRandom(11);
        try (Arena arena = Arena.ofShared()) {
            MemorySegment wBf16 = values(DType.BF16, (long) n * k, random, arena);
            MemorySegment wF32 = values(DType.F32, (long) n * k, random, arena);
            MemorySegment x = values(DType.F32, 3L * k, random, arena);
            MemorySegment gemv = arena.allocate(2L * n * Float.BYTES);
            MemorySegment gemm = arena.allocate(3L * n * Float.BYTES);
            int[] firstGemv = null;
            int[] firstGemm = null;
            for (int call = 0; call < 40_000; call++) {
                Gemv.gemv(DType.BF16, n, k, 1f, wBf16, 0, k, x, 0, 0f, gemv, 0);
                Gemv.gemv(DType.F32, n, k, 1f, wF32, 0, k, x, 0, 0f, gemv, n);
                Gemm.gemm(DType.F32, DType.BF16, false, true, 1, 3, n, k, 1f, x, 0, k, 0, wBf16, 0, k, 0, 0f,
                        gemm, 0, n, 0);
                int[] gemvBits = bitsOf(gemv, 2 * n);
                int[] gemmBits = bitsOf(gemm, 3 * n);
                if (call == 0) {
                    firstGemv = gemvBits;
                    firstGemm = gemmBits;
                    continue;
                }
                for (int e = 0; e < gemvBits.length; e++) {
                    if (gemvBits[e] != firstGemv[e]) {
                        fail("call " + call + ": GEMV (" + (e < n ? "BF16" : "F32") + ") row " + e % n
                                + " has other bits than in the first call");
                    }
                }
                for (int e = 0; e < gemmBits.length; e++) {
                    if (gemmBits[e] != firstGemm[e]) {
                        fail("call " + call + ": GEMM with m = 3, element " + e + ", has other bits than in the first call");
                    }
                }
            }
        }
    }

    private static int[] bitsOf(MemorySegment y, int count) {
        int[] bits = new int[count];
        for (int e = 0; e < count; e++) {
            bits[e] = Float.floatToRawIntBits(y.getAtIndex(ValueLayout.JAVA_FLOAT, e));
        }
        return bits;
    }

    @Test
    void rejectsBadArgumentsNamingThem() {
        MemorySegment w = MemorySegment.ofArray(new short[12]);
        MemorySegment x = MemorySegment.ofArray(new float[4]);
        MemorySegment y = MemorySegment.ofArray(new float[3]);
        assertMessage("W dtype must be F32 or BF16, got F16", () -> Gemv.gemv(DType.F16, 3, 4, 1f, w, 0, 4, x, 0, 0f, y, 0));
        assertMessage("ldw 3", () -> Gemv.gemv(DType.BF16, 3, 4, 1f, w, 0, 3, x, 0, 0f, y, 0));
        assertMessage("Gemv W: needs elements [1, 13)", () -> Gemv.gemv(DType.BF16, 3, 4, 1f, w, 1, 4, x, 0, 0f, y, 0));
        assertMessage("Gemv x: needs elements [1, 5)", () -> Gemv.gemv(DType.BF16, 3, 4, 1f, w, 0, 4, x, 1, 0f, y, 0));
        assertMessage("Gemv y: needs elements [0, 4)", () -> Gemv.gemv(DType.BF16, 4, 3, 1f, w, 0, 3, x, 0, 0f, y, 0));
    }

    private static void assertMessage(String expectedPart, Runnable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::run);
        assertTrue(e.getMessage().contains(expectedPart), "message '" + e.getMessage() + "' lacks '" + expectedPart + "'");
    }

    /**
     * y (offset yOff, NaN-poisoned when beta is 0) = alpha * W x + beta * y against the reference,
     * within the f32 summation bound (cols + 4) * u * (|alpha| sum|w||x| + |beta y|) (see GemmTest),
     * and nothing outside y's range written.
     */
    private static void check(DType type, int rows, int cols, int ldw, int offset, float alpha, float beta, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        long wElements = offset + (long) (rows - 1) * ldw + cols;
        try (Arena arena = Arena.ofShared()) {
            MemorySegment w = values(type, wElements, random, arena);
            MemorySegment x = values(DType.F32, offset + cols, random, arena);
            MemorySegment absW = arena.allocate(w.byteSize());
            MemorySegment absX = arena.allocate(x.byteSize());
            for (long e = 0; e < wElements; e++) {
                if (type == DType.BF16) {
                    absW.setAtIndex(ValueLayout.JAVA_SHORT, e, (short) (w.getAtIndex(ValueLayout.JAVA_SHORT, e) & 0x7fff));
                } else {
                    absW.setAtIndex(ValueLayout.JAVA_FLOAT, e, Math.abs(w.getAtIndex(ValueLayout.JAVA_FLOAT, e)));
                }
            }
            for (long e = 0; e < offset + cols; e++) {
                absX.setAtIndex(ValueLayout.JAVA_FLOAT, e, Math.abs(x.getAtIndex(ValueLayout.JAVA_FLOAT, e)));
            }
            float[] initial = new float[offset + rows + 2];
            for (int e = 0; e < initial.length; e++) {
                initial[e] = beta == 0 && e >= offset && e < offset + rows ? Float.NaN : (float) (random.nextDouble() * 2 - 1);
            }
            MemorySegment got = arena.allocateFrom(ValueLayout.JAVA_FLOAT, initial);
            float[] expected = initial.clone();
            float[] bound = new float[initial.length];
            Gemv.gemv(type, rows, cols, alpha, w, offset, ldw, x, offset, beta, got, offset);
            // The reference: C [1, rows] = A [1, cols] * B^T with B [rows, cols] stored with ld = ldw.
            GemmReference.gemm(DType.F32, type, false, true, 1, 1, rows, cols, alpha, x, offset, cols, 0, w, offset, ldw, 0,
                    beta, MemorySegment.ofArray(expected), offset, rows, 0);
            GemmReference.gemm(DType.F32, type, false, true, 1, 1, rows, cols, Math.abs(alpha), absX, offset, cols, 0, absW,
                    offset, ldw, 0, 0f, MemorySegment.ofArray(bound), offset, rows, 0);
            for (int e = 0; e < initial.length; e++) {
                float actual = got.getAtIndex(ValueLayout.JAVA_FLOAT, e);
                if (e < offset || e >= offset + rows) {
                    assertEquals(Float.floatToRawIntBits(initial[e]), Float.floatToRawIntBits(actual),
                            type + " " + rows + "x" + cols + ": y[" + e + "] outside the output was written");
                    continue;
                }
                double tolerance = (cols + 4) * U * (bound[e] + (beta == 0 ? 0 : Math.abs(beta * initial[e]))) + 1e-30;
                if (!(Math.abs(actual - expected[e]) <= tolerance)) {
                    fail(type + " " + rows + "x" + cols + " ldw " + ldw + " offset " + offset + " alpha " + alpha + " beta " + beta
                            + ": y[" + (e - offset) + "] = " + actual + ", reference " + expected[e] + ", tolerance " + tolerance);
                }
            }
        }
    }

    private static MemorySegment values(DType type, long n, SplittableRandom random, Arena arena) {
        MemorySegment s = arena.allocate(n * type.byteSize(), 64);
        for (long e = 0; e < n; e++) {
            float v = (float) (random.nextDouble() * 2 - 1);
            if (type == DType.BF16) {
                s.setAtIndex(ValueLayout.JAVA_SHORT, e, (short) (Float.floatToRawIntBits(v) >>> 16));
            } else {
                s.setAtIndex(ValueLayout.JAVA_FLOAT, e, v);
            }
        }
        return s;
    }
}
