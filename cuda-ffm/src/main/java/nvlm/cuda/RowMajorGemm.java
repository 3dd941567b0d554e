package nvlm.cuda;

import static nvlm.cuda.bindings.cublas_api_h.CUBLAS_OP_N;
import static nvlm.cuda.bindings.cublas_api_h.CUBLAS_OP_T;

/**
 * A row-major GEMM, C[m x n] = op(A)[m x k] * op(B)[k x n], as the rest of the project stores
 * matrices. A is stored m x k ({@code transA} false) or k x m (true); B is k x n or n x k (as
 * {@code nn.Linear}'s weight is); {@code lda}, {@code ldb}, {@code ldc} are row strides in elements.
 */
public record RowMajorGemm(boolean transA, boolean transB, int m, int n, int k, int lda, int ldb, int ldc) {

    public RowMajorGemm {
        if (m <= 0 || n <= 0 || k <= 0) {
            throw new IllegalArgumentException("GEMM sizes must be positive: m=" + m + " n=" + n + " k=" + k);
        }
        requireLd("lda", lda, transA ? m : k);
        requireLd("ldb", ldb, transB ? k : n);
        requireLd("ldc", ldc, n);
    }

    private static void requireLd(String name, int ld, int columns) {
        if (ld < columns) {
            throw new IllegalArgumentException(name + " = " + ld + " is below the stored row length " + columns);
        }
    }

    /** C = A B with packed rows. */
    public static RowMajorGemm of(int m, int n, int k) {
        return of(false, false, m, n, k);
    }

    /** Packed rows: lda = transA ? m : k, ldb = transB ? k : n, ldc = n. */
    public static RowMajorGemm of(boolean transA, boolean transB, int m, int n, int k) {
        return new RowMajorGemm(transA, transB, m, n, k, transA ? m : k, transB ? k : n, n);
    }

    /** {@code nn.Linear}: Y[m x n] = X[m x k] W[n x k]^T. */
    public static RowMajorGemm linear(int m, int n, int k) {
        return of(false, true, m, n, k);
    }

    /** Elements A spans (rows x stride, last row only as long as it is). */
    public long elementsA() {
        return transA ? span(k, m, lda) : span(m, k, lda);
    }

    public long elementsB() {
        return transB ? span(n, k, ldb) : span(k, n, ldb);
    }

    public long elementsC() {
        return span(m, n, ldc);
    }

    private static long span(int rows, int columns, int ld) {
        return (long) (rows - 1) * ld + columns;
    }

    /**
     * The column-major cuBLAS call computing this product (REFERENCE.md section 4): a row-major
     * buffer is the column-major transpose, so C^T = op(B)^T op(A)^T; cuBLAS's A argument is this
     * B buffer and its B argument this A buffer.
     */
    public CublasGemmArgs toColumnMajor() {
        return new CublasGemmArgs(transB ? CUBLAS_OP_T() : CUBLAS_OP_N(), transA ? CUBLAS_OP_T() : CUBLAS_OP_N(),
                n, m, k, ldb, lda, ldc);
    }

    /**
     * Arguments of cublasGemmEx in cuBLAS's column-major terms: C(m x n) = op(A) op(B), where the
     * cuBLAS A is the row-major B buffer and the cuBLAS B is the row-major A buffer.
     */
    public record CublasGemmArgs(int transa, int transb, int m, int n, int k, int lda, int ldb, int ldc) {
        /** Rows and columns of the cuBLAS A matrix as stored (before op), for cuBLASLt layouts. */
        public long[] storedA() {
            return transa == CUBLAS_OP_N() ? new long[] {m, k} : new long[] {k, m};
        }

        public long[] storedB() {
            return transb == CUBLAS_OP_N() ? new long[] {k, n} : new long[] {n, k};
        }
    }
}
