package nvlm.cuda.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;

import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import nvlm.cuda.runtime.GemmCall;
import nvlm.kernels.DType;
import org.junit.jupiter.api.Test;

/**
 * The Backend's row-major batched matmul (views with row and batch strides, stride-0 broadcast,
 * transposes) mapped to one column-major cuBLAS call, checked by running that call through the
 * {@link ColumnMajorGemm} model of BLAS semantics and comparing with a naive row-major product.
 * Small integers keep every sum exact, so equality is exact.
 */
class GemmPlanTest {

    /** Test memory: arrays at made-up base addresses, indexed in elements. */
    private static final class Arrays implements ColumnMajorGemm.Memory {
        final Map<Long, double[]> arrays = new HashMap<>();

        @Override
        public double read(long address, DType type, long index) {
            return arrays.get(address)[Math.toIntExact(index)];
        }

        @Override
        public void write(long address, DType type, long index, float value) {
            arrays.get(address)[Math.toIntExact(index)] = value;
        }
    }

    /** Row-major reference: c[b][i][j] = alpha sum_p opA(b)[i][p] opB(b)[p][j] + beta c. */
    private static double[] reference(double[] a, long[] aStrides, boolean transA, double[] b, long[] bStrides,
                                      boolean transB, double[] c0, int batch, int m, int n, int k, double alpha,
                                      double beta) {
        double[] c = c0.clone();
        for (int t = 0; t < batch; t++) {
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double sum = 0;
                    for (int p = 0; p < k; p++) {
                        long ai = t * aStrides[0] + (transA ? p * aStrides[1] + i : i * aStrides[1] + p);
                        long bi = t * bStrides[0] + (transB ? j * bStrides[1] + p : p * bStrides[1] + j);
                        sum += a[(int) ai] * b[(int) bi];
                    }
                    int ci = (t * m + i) * n + j;
                    c[ci] = alpha * sum + beta * c[ci];
                }
            }
        }
        return c;
    }

    private static double[] smallIntegers(SplittableRandom rng, long n) {
        return rng.doubles(Math.max(1, n), -4, 5).map(Math::floor).toArray();
    }

    @Test
    void theColumnMajorCallComputesTheBatchedRowMajorProduct() {
        // flags: bits 0-1 transposes, 2-3 broadcast a/b over the batch, 4 beta, 5-6 row padding, 7-8 batch - 1.
        qt().withExamples(400)
                .forAll(integers().between(1, 9), integers().between(1, 9), integers().between(1, 9),
                        integers().between(0, 511))
                .checkAssert((m, n, k, flags) -> {
                    int batch = 1 + (flags >> 7);
                    boolean transA = (flags & 1) != 0;
                    boolean transB = (flags & 2) != 0;
                    boolean broadcastA = batch > 1 && (flags & 4) != 0;
                    boolean broadcastB = batch > 1 && (flags & 8) != 0;
                    int pad = (flags >> 5) & 3;
                    long[] aShape = {batch, transA ? k : m, transA ? m : k};
                    long[] bShape = {batch, transB ? n : k, transB ? k : n};
                    long aRow = aShape[2] + pad;
                    long bRow = bShape[2] + 2L * pad;
                    long[] aStrides = {broadcastA ? 0 : aShape[1] * aRow + pad, aRow, 1};
                    long[] bStrides = {broadcastB ? 0 : bShape[1] * bRow, bRow, 1};
                    SplittableRandom rng = new SplittableRandom(flags * 7919L + m * 31L + n * 17L + k + batch * 1000L);
                    double[] a = smallIntegers(rng, (batch - 1) * aStrides[0] + aShape[1] * aRow);
                    double[] b = smallIntegers(rng, (batch - 1) * bStrides[0] + bShape[1] * bRow);
                    double[] c = smallIntegers(rng, (long) batch * m * n);
                    double alpha = 2;
                    double beta = (flags & 16) != 0 ? -1 : 0;
                    double[] expected = reference(a, aStrides, transA, b, bStrides, transB, c, batch, m, n, k, alpha, beta);

                    GemmPlan plan = GemmPlan.of(aShape, aStrides, transA, bShape, bStrides, transB, batch);
                    Arrays memory = new Arrays();
                    memory.arrays.put(1000L, a);
                    memory.arrays.put(2000L, b);
                    double[] got = c.clone();
                    memory.arrays.put(3000L, got);
                    ColumnMajorGemm.run(plan.toColumnMajor(1000L, 2000L, DType.F32, 3000L, DType.F32, (float) alpha,
                            (float) beta, false), memory);
                    assertArrayEquals(expected, got, plan.toString());
                });
    }

    @Test
    void packedOperandsKeepTheProduct() {
        // After a dtype conversion an operand is packed (ld = cols, one matrix when broadcast).
        qt().withExamples(200)
                .forAll(integers().between(1, 7), integers().between(1, 7), integers().between(1, 7),
                        integers().between(0, 31))
                .checkAssert((m, n, k, flags) -> {
                    int batch = 1 + (flags >> 3);
                    boolean transA = (flags & 1) != 0;
                    boolean transB = (flags & 2) != 0;
                    boolean broadcastA = batch > 1 && (flags & 4) != 0;
                    long[] aShape = {batch, transA ? k : m, transA ? m : k};
                    long[] bShape = {batch, transB ? n : k, transB ? k : n};
                    long[] aStrides = {broadcastA ? 0 : aShape[1] * aShape[2], aShape[2], 1};
                    long[] bStrides = {bShape[1] * bShape[2], bShape[2], 1};
                    GemmPlan plan = GemmPlan.of(aShape, aStrides, transA, bShape, bStrides, transB, batch);
                    GemmPlan packed = plan.withPackedA().withPackedB();
                    // Already packed operands: packing changes nothing.
                    assertEquals(plan, packed);
                    assertEquals(broadcastA ? 1 : batch, plan.matricesA());
                });
    }

    @Test
    void singleRowsGetALegalLeadingDimension() {
        // A [1, 1, k] operand may carry a row stride of 1 (a column of a matrix): BLAS still needs ld >= k.
        GemmPlan plan = GemmPlan.of(new long[] {1, 1, 5}, new long[] {0, 1, 1}, false, new long[] {1, 5, 3},
                new long[] {0, 3, 1}, false, 1);
        assertEquals(5, plan.lda());
        GemmCall call = plan.toColumnMajor(8, 16, DType.BF16, 32, DType.F32, 1, 0, false);
        assertEquals(3, call.m());
        assertEquals(1, call.n());
        assertEquals(5, call.k());
    }

    @Test
    void mismatchedInnerDimensionsAndStridedColumnsAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> GemmPlan.of(new long[] {1, 2, 3}, new long[] {0, 3, 1}, false,
                new long[] {1, 4, 2}, new long[] {0, 2, 1}, false, 1));
        assertThrows(IllegalArgumentException.class, () -> GemmPlan.of(new long[] {1, 2, 3}, new long[] {0, 1, 2}, false,
                new long[] {1, 3, 2}, new long[] {0, 2, 1}, false, 1));
    }

    @Test
    void tf32RoundingKeepsTenMantissaBitsToNearestEven() {
        assertEquals(1.0f, ColumnMajorGemm.roundToTf32(1.0f + 0x1p-12f));
        assertEquals(1.0f + 0x1p-10f, ColumnMajorGemm.roundToTf32(1.0f + 0x1p-10f + 0x1p-12f));
        assertEquals(1.0f + 0x1p-9f, ColumnMajorGemm.roundToTf32(1.0f + 0x1p-10f + 0x1p-11f));
        assertEquals(Float.POSITIVE_INFINITY, ColumnMajorGemm.roundToTf32(Float.POSITIVE_INFINITY));
    }
}
