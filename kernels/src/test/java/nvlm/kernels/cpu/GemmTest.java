package nvlm.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.quicktheories.QuickTheory.qt;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.SplittableRandom;
import nvlm.kernels.DType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.quicktheories.core.Gen;
import org.quicktheories.generators.Generate;

/** {@link Gemm} against {@link GemmReference} over random shapes, layouts, dtypes and scalars. */
class GemmTest {
    private static final double U = 0x1p-24; // unit roundoff of f32

    /** How one stored operand is laid out in its segment. */
    enum Layout {
        /** Rows exactly the row length apart, matrices back to back. */
        DENSE,
        /** ld larger than the row (a sub-matrix view), a gap between matrices, an offset. */
        PADDED,
        /** Batch index between row and column, as in a [seq, heads, dim] tensor (ld = batch*cols). */
        INTERLEAVED,
        /** One matrix for every batch index (stride 0); C falls back to PADDED. */
        BROADCAST
    }

    /** One GEMM to check. {@code heap}: segments over Java arrays instead of native memory. */
    record Case(DType aType, DType bType, boolean transA, boolean transB, int batch, int m, int n, int k,
                float alpha, float beta, Layout aLayout, Layout bLayout, Layout cLayout, boolean heap, long seed) {
    }

    /** Where a stored operand sits: element (i, r, c) at offset + i*stride + r*ld + c. */
    record Placement(long offset, long ld, long stride, long elements) {
        static Placement of(Layout layout, int batch, int rows, int cols) {
            return switch (layout) {
                case DENSE -> new Placement(0, cols, (long) rows * cols, (long) batch * rows * cols);
                case PADDED -> {
                    long ld = cols + 3;
                    long stride = rows * ld + 5;
                    yield new Placement(7, ld, stride, 7 + (batch - 1) * stride + (rows - 1) * ld + cols);
                }
                case INTERLEAVED -> {
                    long ld = (long) batch * cols + 1;
                    yield new Placement(2, ld, cols, 2 + (batch - 1L) * cols + (rows - 1) * ld + cols);
                }
                case BROADCAST -> new Placement(1, cols + 2, 0, 1 + (rows - 1L) * (cols + 2) + cols);
            };
        }
    }

    private static final Gen<Integer> SMALL_DIMS = Generate.pick(List.of(1, 2, 3, 5, 7, 8, 9, 13, 16, 17, 31, 32, 33, 47))
            .mix(Generate.range(1, 90), 40);
    private static final Gen<DType> TYPES = Generate.pick(List.of(DType.F32, DType.BF16, DType.F16));
    private static final Gen<Layout> LAYOUTS = Generate.enumValues(Layout.class);

    private static Gen<Case> cases(Gen<Integer> dims, Gen<Integer> depths, Gen<Integer> batches) {
        Gen<int[]> shapes = dims.zip(dims, depths, batches, (m, n, k, batch) -> new int[] {m, n, k, batch});
        Gen<DType[]> types = TYPES.zip(TYPES, (a, b) -> new DType[] {a, b});
        Gen<Layout[]> layouts = LAYOUTS.zip(LAYOUTS, LAYOUTS, (a, b, c) -> new Layout[] {a, b, c == Layout.BROADCAST ? Layout.PADDED : c});
        Gen<float[]> scalars = Generate.pick(List.of(1f, -0.75f, 2.5f, 0f)).mix(Generate.constant(1f), 50)
                .zip(Generate.pick(List.of(0f, 1f, 0.5f, -2f)), (alpha, beta) -> new float[] {alpha, beta});
        Gen<Integer> flags = Generate.range(0, 7);
        return shapes.zip(types, layouts, scalars, flags, (s, t, l, ab, f) -> new Case(t[0], t[1],
                (f & 1) != 0, (f & 2) != 0, s[3], s[0], s[1], s[2], ab[0], ab[1], l[0], l[1], l[2], (f & 4) != 0,
                31L * s[0] + 17L * s[1] * s[2] + f)); // values seeded by the case, so a failure reproduces
    }

    /**
     * Runs the kernels until the JIT has compiled them: interpreted, Vector API code is a
     * thousand times slower, and the first large shapes would otherwise dominate the run time.
     * Every layout and dtype path is exercised; rounds repeat until one is no faster than the
     * best so far three times in a row (or 15 s pass, on a very busy machine).
     */
    @BeforeAll
    static void compileKernels() {
        MemorySegment f32 = MemorySegment.ofArray(new float[64 * 64]);
        MemorySegment bits = MemorySegment.ofArray(new short[64 * 64]);
        MemorySegment c = MemorySegment.ofArray(new float[64 * 64]);
        long deadline = System.nanoTime() + 15_000_000_000L;
        long best = Long.MAX_VALUE;
        for (int stable = 0; stable < 3 && System.nanoTime() < deadline; ) {
            long start = System.nanoTime();
            for (int i = 0; i < 64; i++) {
                boolean ta = (i & 1) != 0, tb = (i & 2) != 0;
                MemorySegment a = (i & 4) != 0 ? bits : f32;
                DType type = (i & 4) != 0 ? ((i & 8) != 0 ? DType.F16 : DType.BF16) : DType.F32;
                int m = (i & 32) != 0 ? 40 : 3; // the packed and the skinny path
                Gemm.gemm(type, type, ta, tb, 1, m, 64, 48, 1f, a, 0, 64, 0, a, 0, 64, 0,
                        (i & 16) != 0 ? 0f : 0.5f, c, 0, 64, 0);
            }
            long took = System.nanoTime() - start;
            stable = took < best * 0.95 ? 0 : stable + 1;
            best = Math.min(best, took);
        }
    }

    @Test
    void matchesReferenceOnRandomShapesLayoutsAndDtypes() {
        qt().withExamples(300).withShrinkCycles(50)
                .forAll(cases(SMALL_DIMS, SMALL_DIMS, Generate.pick(List.of(1, 1, 2, 3))))
                .checkAssert(GemmTest::check);
    }

    @Test
    void matchesReferenceOnLargerShapesThatTakeTheThreadedPath() {
        // 2*m*n*k above Gemm.PARALLEL_MIN_FLOPS for most draws: slabs and batch tasks are
        // exercised, and k often spans several KC blocks (C accumulated over passes).
        qt().withExamples(8).withShrinkCycles(10)
                .forAll(cases(Generate.range(100, 170), Generate.range(100, 2 * Gemm.KC + 50), Generate.pick(List.of(1, 2, 3))))
                .checkAssert(GemmTest::check);
    }

    @Test
    void matchesReferenceAcrossCacheBlockBoundaries() {
        int kc = Gemm.KC, mc = Gemm.MC, nc = Gemm.NC, nb = Gemm.NB, mr = GemmPanels.MR, nr = GemmPanels.NR;
        int[][] shapes = {
            {mc - 1, nr + 1, kc + 1}, {mc + 1, 2 * nr - 1, kc}, {2 * mc + mr + 3, 3, kc - 1},
            {mr + 1, nc + 1, 3}, {3, nc - 1, 2 * kc + 5}, {1, 2 * nc + 7, 2}, {2 * mc + 1, nr, 1},
            {mr - 1, nr - 1, 3 * kc + 1}, {2, nb + nr + 3, 5}, {mr + 3, nb - 1, 2},
        };
        int variant = 0;
        for (int[] s : shapes) {
            for (int t = 0; t < 4; t++, variant++) {
                DType type = variant % 3 == 0 ? DType.BF16 : DType.F32;
                check(new Case(type, DType.F32, (t & 1) != 0, (t & 2) != 0, 1, s[0], s[1], s[2],
                        1f, variant % 2 == 0 ? 0f : 0.5f, Layout.PADDED, Layout.DENSE, Layout.PADDED,
                        variant % 4 == 1, variant));
            }
        }
    }

    @Test
    void fewRowProductsMatchReferenceIncludingTheThreadedPath() {
        // m <= GemmSkinny.MAX_M streams B unpacked; these sizes are large enough to split columns.
        int variant = 0;
        for (int m : new int[] {1, GemmSkinny.MAX_M, GemmSkinny.MAX_M + 1}) {
            for (int t = 0; t < 4; t++, variant++) {
                DType type = variant % 3 == 0 ? DType.BF16 : variant % 3 == 1 ? DType.F16 : DType.F32;
                check(new Case(DType.F32, type, (t & 1) != 0, (t & 2) != 0, 1 + variant % 2, m, 600 + variant, 300 - m,
                        variant % 2 == 0 ? 1f : -0.5f, variant % 4 == 0 ? 0f : 0.5f,
                        Layout.PADDED, Layout.DENSE, Layout.PADDED, variant % 2 == 1, variant));
            }
        }
    }

    @Test
    void attentionShapedBatchMatchesReference() {
        // batch 16 of 64x32x64, the scores/values products of multi-head attention over [seq, heads, dim].
        check(new Case(DType.F32, DType.F32, false, true, 16, 64, 64, 32, 0.125f, 0f,
                Layout.INTERLEAVED, Layout.INTERLEAVED, Layout.DENSE, false, 42));
        check(new Case(DType.BF16, DType.BF16, false, false, 16, 64, 32, 64, 1f, 0f,
                Layout.DENSE, Layout.INTERLEAVED, Layout.INTERLEAVED, true, 43));
    }

    @Test
    void batchedProductIsBitIdenticalToOneCallPerMatrixAndToARepeat() {
        int batch = 3, m = 150, n = 70, k = 300;
        SplittableRandom random = new SplittableRandom(7);
        float[] a = randomFloats(random, batch * m * k);
        float[] b = randomFloats(random, batch * k * n);
        float[] batched = new float[batch * m * n];
        float[] repeated = new float[batch * m * n];
        float[] single = new float[batch * m * n];
        MemorySegment sa = MemorySegment.ofArray(a), sb = MemorySegment.ofArray(b);
        Gemm.gemm(DType.F32, DType.F32, false, false, batch, m, n, k, 1f, sa, 0, k, (long) m * k,
                sb, 0, n, (long) k * n, 0f, MemorySegment.ofArray(batched), 0, n, (long) m * n);
        Gemm.gemm(DType.F32, DType.F32, false, false, batch, m, n, k, 1f, sa, 0, k, (long) m * k,
                sb, 0, n, (long) k * n, 0f, MemorySegment.ofArray(repeated), 0, n, (long) m * n);
        for (int i = 0; i < batch; i++) {
            Gemm.sgemm(false, false, m, n, k, 1f, sa, (long) i * m * k, k, sb, (long) i * k * n, n, 0f,
                    MemorySegment.ofArray(single), (long) i * m * n, n);
        }
        for (int e = 0; e < batched.length; e++) {
            assertEquals(Float.floatToRawIntBits(single[e]), Float.floatToRawIntBits(batched[e]), "element " + e);
            assertEquals(Float.floatToRawIntBits(repeated[e]), Float.floatToRawIntBits(batched[e]), "element " + e);
        }
    }

    @Test
    void resultsDoNotDependOnTheThreadCount() {
        // Segments confined to this thread make Gemm run on it alone; shared ones use the pool.
        int m = 300, n = 200, k = 700;
        SplittableRandom random = new SplittableRandom(11);
        float[] a = randomFloats(random, m * k);
        float[] b = randomFloats(random, k * n);
        float[][] results = new float[2][];
        for (int run = 0; run < 2; run++) {
            try (Arena arena = run == 0 ? Arena.ofConfined() : Arena.ofShared()) {
                MemorySegment sa = arena.allocateFrom(ValueLayout.JAVA_FLOAT, a);
                MemorySegment sb = arena.allocateFrom(ValueLayout.JAVA_FLOAT, b);
                MemorySegment sc = arena.allocate(ValueLayout.JAVA_FLOAT, (long) m * n);
                Gemm.sgemm(false, true, m, n, k, 1f, sa, 0, k, sb, 0, k, 0f, sc, 0, n);
                results[run] = sc.toArray(ValueLayout.JAVA_FLOAT);
            }
        }
        for (int e = 0; e < m * n; e++) {
            assertEquals(Float.floatToRawIntBits(results[0][e]), Float.floatToRawIntBits(results[1][e]), "element " + e);
        }
    }

    @Test
    void zeroKScalesCAndZeroBetaOverwritesNaN() {
        float[] c = {1f, 2f, Float.NaN, 4f};
        Gemm.sgemm(false, false, 2, 2, 0, 1f, MemorySegment.ofArray(new float[0]), 0, 0,
                MemorySegment.ofArray(new float[0]), 0, 2, 0.5f, MemorySegment.ofArray(c), 0, 2);
        assertEquals(0.5f, c[0]);
        assertEquals(1f, c[1]);
        assertTrue(Float.isNaN(c[2]), "beta != 0 reads C, so NaN stays NaN");
        Gemm.sgemm(false, false, 2, 2, 0, 1f, MemorySegment.ofArray(new float[0]), 0, 0,
                MemorySegment.ofArray(new float[0]), 0, 2, 0f, MemorySegment.ofArray(c), 0, 2);
        assertEquals(0f, c[2], "beta == 0 must not read C");
    }

    @Test
    void zeroAlphaDoesNotReadAOrB() {
        float[] a = {Float.NaN, Float.NaN};
        float[] b = {Float.NaN, Float.NaN};
        float[] c = {3f};
        Gemm.sgemm(false, false, 1, 1, 2, 0f, MemorySegment.ofArray(a), 0, 2, MemorySegment.ofArray(b), 0, 1,
                2f, MemorySegment.ofArray(c), 0, 1);
        assertEquals(6f, c[0]);
    }

    @Test
    void badArgumentsAreRejectedWithTheArgumentNamed() {
        MemorySegment a = MemorySegment.ofArray(new float[6]);
        MemorySegment b = MemorySegment.ofArray(new float[6]);
        MemorySegment c = MemorySegment.ofArray(new float[4]);
        assertMessage("m must be >= 0, got -1", () -> Gemm.sgemm(false, false, -1, 2, 3, 1f, a, 0, 3, b, 0, 2, 0f, c, 0, 2));
        assertMessage("k must be >= 0, got -3", () -> Gemm.sgemm(false, false, 2, 2, -3, 1f, a, 0, 3, b, 0, 2, 0f, c, 0, 2));
        assertMessage("lda = 2 is smaller than the row length 3 of A",
                () -> Gemm.sgemm(false, false, 2, 2, 3, 1f, a, 0, 2, b, 0, 2, 0f, c, 0, 2));
        assertMessage("ldb = 2 is smaller than the row length 3 of B (stored n x k (transB)",
                () -> Gemm.sgemm(false, true, 2, 2, 3, 1f, a, 0, 3, b, 0, 2, 0f, c, 0, 2));
        assertMessage("ldc = 1 is smaller than the row length 2 of C",
                () -> Gemm.sgemm(false, false, 2, 2, 3, 1f, a, 0, 3, b, 0, 2, 0f, c, 0, 1));
        assertMessage("A addresses element 6", () -> Gemm.sgemm(false, false, 2, 2, 3, 1f, a, 1, 3, b, 0, 2, 0f, c, 0, 2));
        assertMessage("B addresses element 7", () -> Gemm.sgemm(false, false, 2, 2, 3, 1f, a, 0, 3, b, 0, 3, 0f, c, 0, 2));
        assertMessage("C addresses element 4", () -> Gemm.sgemm(false, false, 2, 2, 3, 1f, a, 0, 3, b, 0, 2, 0f, c, 0, 3));
        assertMessage("aOffset must be >= 0, got -1", () -> Gemm.sgemm(false, false, 2, 2, 3, 1f, a, -1, 3, b, 0, 2, 0f, c, 0, 2));
        assertMessage("aType must be F32, BF16 or F16, got I32", () -> Gemm.gemm(DType.I32, DType.F32, false, false,
                1, 2, 2, 3, 1f, a, 0, 3, 0, b, 0, 2, 0, 0f, c, 0, 2, 0));
        assertMessage("strideB must be >= 0, got -6", () -> Gemm.gemm(DType.F32, DType.F32, false, false,
                1, 2, 2, 3, 1f, a, 0, 3, 0, b, 0, 2, -6, 0f, c, 0, 2, 4));
        assertMessage("strideC = 0 with batch = 2", () -> Gemm.gemm(DType.F32, DType.F32, false, false,
                2, 2, 2, 3, 1f, a, 0, 3, 0, b, 0, 2, 0, 0f, c, 0, 2, 0));
        assertMessage("A addresses element 11 (aOffset + (batch-1)*strideA",
                () -> Gemm.gemm(DType.F32, DType.F32, false, false, 2, 2, 2, 3, 1f, a, 0, 3, 6, b, 0, 2, 0, 0f,
                        MemorySegment.ofArray(new float[8]), 0, 2, 4));
        assertMessage("holds 3 BF16 elements (6 bytes)", () -> Gemm.gemm(DType.BF16, DType.F32, false, false,
                1, 2, 2, 3, 1f, MemorySegment.ofArray(new short[3]), 0, 3, 0, b, 0, 2, 0, 0f, c, 0, 2, 0));
        assertMessage("segment B is null", () -> Gemm.sgemm(false, false, 2, 2, 3, 1f, a, 0, 3, null, 0, 2, 0f, c, 0, 2));
        assertMessage("C segment is read-only", () -> Gemm.sgemm(false, false, 2, 2, 3, 1f, a, 0, 3, b, 0, 2, 0f,
                c.asReadOnly(), 0, 2));
        assertMessage("overflows a long", () -> Gemm.sgemm(false, false, 2, 2, 3, 1f, a, 0, Long.MAX_VALUE,
                b, 0, 2, 0f, c, 0, 2));
    }

    private static void assertMessage(String expectedPart, Runnable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::run);
        assertTrue(e.getMessage().contains(expectedPart), "message '" + e.getMessage() + "' lacks '" + expectedPart + "'");
    }

    /**
     * Runs the case through Gemm and GemmReference on identical inputs and compares every element
     * of C, and checks that elements of C's segment outside the addressed matrices are untouched.
     *
     * <p>Tolerance: Gemm sums k products in f32 in a blocked order, then applies alpha and beta.
     * For any summation order the error is at most about k * u * sum_p |a_p||b_p| (u = 2^-24,
     * Higham's gamma_k bound), plus a few roundings of alpha * sum and beta * C. So each element
     * may differ from the double-precision reference by (k + 4) * u * (|alpha| * sum|a||b| +
     * |beta * C|). A misplaced or missing term is about sum|a||b| / k, far outside that bound.
     */
    private static void check(Case t) {
        int aRows = t.transA() ? t.k() : t.m(), aCols = t.transA() ? t.m() : t.k();
        int bRows = t.transB() ? t.n() : t.k(), bCols = t.transB() ? t.k() : t.n();
        Placement pa = Placement.of(t.aLayout(), t.batch(), aRows, aCols);
        Placement pb = Placement.of(t.bLayout(), t.batch(), bRows, bCols);
        Placement pc = Placement.of(t.cLayout(), t.batch(), t.m(), t.n());
        SplittableRandom random = new SplittableRandom(t.seed());
        try (Arena arena = t.heap() || (t.seed() & 8) == 0 ? Arena.ofShared() : Arena.ofConfined()) {
            MemorySegment a = operand(t.aType(), pa.elements(), random, t.heap(), arena);
            MemorySegment b = operand(t.bType(), pb.elements(), random, t.heap(), arena);
            MemorySegment absA = operand(t.aType(), pa.elements(), random, t.heap(), arena);
            MemorySegment absB = operand(t.bType(), pb.elements(), random, t.heap(), arena);
            absCopy(t.aType(), a, absA);
            absCopy(t.bType(), b, absB);
            // beta == 0 must not read C: poison it with NaN so any read shows up in the result.
            float[] initial = new float[(int) pc.elements()];
            for (int e = 0; e < initial.length; e++) {
                initial[e] = t.beta() == 0 ? Float.NaN : (float) (random.nextDouble() * 2 - 1);
            }
            MemorySegment got = t.heap() ? MemorySegment.ofArray(initial.clone())
                    : arena.allocateFrom(ValueLayout.JAVA_FLOAT, initial);
            float[] expected = initial.clone();
            float[] bound = new float[initial.length];
            Gemm.gemm(t.aType(), t.bType(), t.transA(), t.transB(), t.batch(), t.m(), t.n(), t.k(), t.alpha(),
                    a, pa.offset(), pa.ld(), pa.stride(), b, pb.offset(), pb.ld(), pb.stride(), t.beta(),
                    got, pc.offset(), pc.ld(), pc.stride());
            GemmReference.gemm(t.aType(), t.bType(), t.transA(), t.transB(), t.batch(), t.m(), t.n(), t.k(), t.alpha(),
                    a, pa.offset(), pa.ld(), pa.stride(), b, pb.offset(), pb.ld(), pb.stride(), t.beta(),
                    MemorySegment.ofArray(expected), pc.offset(), pc.ld(), pc.stride());
            GemmReference.gemm(t.aType(), t.bType(), t.transA(), t.transB(), t.batch(), t.m(), t.n(), t.k(),
                    Math.abs(t.alpha()), absA, pa.offset(), pa.ld(), pa.stride(), absB, pb.offset(), pb.ld(),
                    pb.stride(), 0f, MemorySegment.ofArray(bound), pc.offset(), pc.ld(), pc.stride());
            boolean[] addressed = new boolean[initial.length];
            for (int i = 0; i < t.batch(); i++) {
                for (int r = 0; r < t.m(); r++) {
                    for (int col = 0; col < t.n(); col++) {
                        int e = (int) (pc.offset() + i * pc.stride() + r * pc.ld() + col);
                        addressed[e] = true;
                        float actual = got.getAtIndex(ValueLayout.JAVA_FLOAT, e);
                        double tolerance = (t.k() + 4) * U * (bound[e] + (t.beta() == 0 ? 0 : Math.abs(t.beta() * initial[e]))) + 1e-30;
                        if (!(Math.abs(actual - expected[e]) <= tolerance)) {
                            fail(t + ": C[" + i + "][" + r + "][" + col + "] = " + actual + ", reference "
                                    + expected[e] + ", tolerance " + tolerance);
                        }
                    }
                }
            }
            for (int e = 0; e < initial.length; e++) {
                if (!addressed[e]) {
                    assertEquals(Float.floatToRawIntBits(initial[e]),
                            Float.floatToRawIntBits(got.getAtIndex(ValueLayout.JAVA_FLOAT, e)),
                            t + ": element " + e + " of C's segment lies outside every C matrix but was written");
                }
            }
        }
    }

    /** Random values in [-1, 1), rounded to the operand's dtype. */
    private static MemorySegment operand(DType type, long elements, SplittableRandom random, boolean heap,
                                         Arena arena) {
        int count = (int) elements;
        if (type == DType.F32) {
            float[] values = randomFloats(random, count);
            return heap ? MemorySegment.ofArray(values) : arena.allocateFrom(ValueLayout.JAVA_FLOAT, values);
        }
        short[] bits = new short[count];
        for (int i = 0; i < count; i++) {
            float value = (float) (random.nextDouble() * 2 - 1);
            bits[i] = type == DType.BF16 ? DType.floatToBf16(value) : DType.floatToF16(value);
        }
        return heap ? MemorySegment.ofArray(bits) : arena.allocateFrom(ValueLayout.JAVA_SHORT, bits);
    }

    /** dst = |src| elementwise (clearing the sign bit is exact in every dtype). */
    private static void absCopy(DType type, MemorySegment src, MemorySegment dst) {
        if (type == DType.F32) {
            for (long i = 0; i < src.byteSize() / 4; i++) {
                dst.setAtIndex(ValueLayout.JAVA_FLOAT, i, Math.abs(src.getAtIndex(ValueLayout.JAVA_FLOAT, i)));
            }
        } else {
            for (long i = 0; i < src.byteSize() / 2; i++) {
                dst.setAtIndex(ValueLayout.JAVA_SHORT, i, (short) (src.getAtIndex(ValueLayout.JAVA_SHORT, i) & 0x7fff));
            }
        }
    }

    private static float[] randomFloats(SplittableRandom random, int count) {
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = (float) (random.nextDouble() * 2 - 1);
        }
        return values;
    }
}
