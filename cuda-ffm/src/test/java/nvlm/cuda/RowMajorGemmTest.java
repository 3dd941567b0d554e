package nvlm.cuda;

import org.junit.jupiter.api.Test;

import static nvlm.cuda.bindings.cublas_api_h.CUBLAS_OP_N;
import static nvlm.cuda.bindings.cublas_api_h.CUBLAS_OP_T;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;

/**
 * The row-major to column-major mapping, checked by running the cuBLAS call it produces on a Java
 * model of column-major GEMM semantics and comparing with a naive row-major product.
 */
class RowMajorGemmTest {

    /** cuBLAS semantics: C(i,j) = alpha sum_p op(A)(i,p) op(B)(p,j) + beta C(i,j), column-major with leading dims. */
    static void columnMajorGemm(RowMajorGemm.CublasGemmArgs g, double alpha, double[] a, double[] b, double beta,
                                double[] c) {
        long[] storedA = g.storedA();
        long[] storedB = g.storedB();
        assertTrue(g.lda() >= storedA[0], "BLAS needs lda >= rows of stored A: " + g);
        assertTrue(g.ldb() >= storedB[0], "BLAS needs ldb >= rows of stored B: " + g);
        assertTrue(g.ldc() >= g.m(), "BLAS needs ldc >= m: " + g);
        for (int i = 0; i < g.m(); i++) {
            for (int j = 0; j < g.n(); j++) {
                double sum = 0;
                for (int p = 0; p < g.k(); p++) {
                    double av = g.transa() == CUBLAS_OP_N() ? a[i + p * g.lda()] : a[p + i * g.lda()];
                    double bv = g.transb() == CUBLAS_OP_N() ? b[p + j * g.ldb()] : b[j + p * g.ldb()];
                    sum += av * bv;
                }
                c[i + j * g.ldc()] = alpha * sum + beta * c[i + j * g.ldc()];
            }
        }
    }

    static double[] rowMajorReference(RowMajorGemm s, double alpha, double[] a, double[] b, double beta, double[] c0) {
        double[] c = c0.clone();
        for (int i = 0; i < s.m(); i++) {
            for (int j = 0; j < s.n(); j++) {
                double sum = 0;
                for (int p = 0; p < s.k(); p++) {
                    double av = s.transA() ? a[p * s.lda() + i] : a[i * s.lda() + p];
                    double bv = s.transB() ? b[j * s.ldb() + p] : b[p * s.ldb() + j];
                    sum += av * bv;
                }
                c[i * s.ldc() + j] = alpha * sum + beta * c[i * s.ldc() + j];
            }
        }
        return c;
    }

    @Test
    void columnMajorCallOnSwappedOperandsComputesTheRowMajorProduct() {
        qt().withExamples(300)
                .forAll(integers().between(1, 13), integers().between(1, 13), integers().between(1, 13),
                        integers().between(0, 15))
                .checkAssert((m, n, k, flags) -> {
                    boolean transA = (flags & 1) != 0;
                    boolean transB = (flags & 2) != 0;
                    int pad = flags >> 2;
                    var shape = new RowMajorGemm(transA, transB, m, n, k, (transA ? m : k) + pad,
                            (transB ? k : n) + 2 * pad, n + pad);
                    // Small integers: every product and sum is exact in double, so equality is exact.
                    var rng = new java.util.SplittableRandom(31L * m + 17L * n + k + (transA ? 1000 : 0) + (transB ? 2000 : 0));
                    double[] a = rng.doubles(shape.elementsA(), -4, 5).map(Math::floor).toArray();
                    double[] b = rng.doubles(shape.elementsB(), -4, 5).map(Math::floor).toArray();
                    double[] c = rng.doubles(shape.elementsC(), -4, 5).map(Math::floor).toArray();
                    double[] expected = rowMajorReference(shape, 2, a, b, -1, c);
                    double[] viaCublas = c.clone();
                    // The cuBLAS A argument is the row-major B buffer and vice versa.
                    columnMajorGemm(shape.toColumnMajor(), 2, b, a, -1, viaCublas);
                    assertArrayEquals(expected, viaCublas, shape.toString());
                });
    }

    @Test
    void recipesMatchReferenceSectionFour() {
        // Row-major C = A B (A MxK, B KxN): (N, N, m=N, n=M, k=K, lda=N, ldb=K, ldc=N).
        assertEquals(new RowMajorGemm.CublasGemmArgs(CUBLAS_OP_N(), CUBLAS_OP_N(), 7, 5, 3, 7, 3, 7),
                RowMajorGemm.of(5, 7, 3).toColumnMajor());
        // nn.Linear Y = X W^T (X MxK, W NxK): (T, N, m=N, n=M, k=K, lda=K, ldb=K, ldc=N).
        assertEquals(new RowMajorGemm.CublasGemmArgs(CUBLAS_OP_T(), CUBLAS_OP_N(), 7, 5, 3, 3, 3, 7),
                RowMajorGemm.linear(5, 7, 3).toColumnMajor());
    }

    @Test
    void operandExtentsCoverTheLastRowOnlyAsFarAsItGoes() {
        var shape = new RowMajorGemm(false, true, 4, 6, 5, 8, 7, 9);
        assertEquals(3 * 8 + 5, shape.elementsA());
        assertEquals(5 * 7 + 5, shape.elementsB());
        assertEquals(3 * 9 + 6, shape.elementsC());
    }

    @Test
    void leadingDimensionsShorterThanARowAreRejectedByName() {
        var error = assertThrows(IllegalArgumentException.class, () -> new RowMajorGemm(false, false, 4, 6, 5, 4, 6, 6));
        assertTrue(error.getMessage().contains("lda = 4"), error.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new RowMajorGemm(false, true, 4, 6, 5, 5, 4, 6));
        assertThrows(IllegalArgumentException.class, () -> RowMajorGemm.of(0, 1, 1));
    }

    @Test
    void gemmTypeCombinationsFollowGemmEx() {
        GemmCompute.checkTypes(nvlm.kernels.DType.BF16, nvlm.kernels.DType.BF16);
        GemmCompute.checkTypes(nvlm.kernels.DType.BF16, nvlm.kernels.DType.F32);
        GemmCompute.checkTypes(nvlm.kernels.DType.F16, nvlm.kernels.DType.F32);
        GemmCompute.checkTypes(nvlm.kernels.DType.F32, nvlm.kernels.DType.F32);
        assertThrows(IllegalArgumentException.class,
                () -> GemmCompute.checkTypes(nvlm.kernels.DType.F32, nvlm.kernels.DType.BF16));
        assertThrows(IllegalArgumentException.class,
                () -> GemmCompute.checkTypes(nvlm.kernels.DType.I32, nvlm.kernels.DType.I32));
        assertThrows(IllegalArgumentException.class, () -> GemmCompute.TF32.cublasComputeType(nvlm.kernels.DType.BF16));
        assertEquals(77, GemmCompute.TF32.cublasComputeType(nvlm.kernels.DType.F32));
        assertEquals(68, GemmCompute.F32.cublasComputeType(nvlm.kernels.DType.BF16));
        assertEquals(14, GemmCompute.cudaDataType(nvlm.kernels.DType.BF16));
    }
}
