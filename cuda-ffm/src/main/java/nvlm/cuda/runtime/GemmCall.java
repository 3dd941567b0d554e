package nvlm.cuda.runtime;

import nvlm.kernels.DType;

/**
 * One strided-batched GEMM in cuBLAS's column-major terms (cublasGemmStridedBatchedEx):
 * for each of {@code batch} matrices, C(m x n) = alpha op(A)(m x k) op(B)(k x n) + beta C, with
 * matrix i of A at {@code a + i * strideA} elements (likewise B and C; a stride of 0 reuses one
 * matrix). A and B have one dtype, F32, BF16 or F16; C is F32 or that dtype; products accumulate
 * in f32. Addresses are device addresses.
 *
 * @param transA {@code op(A) = A^T} (CUBLAS_OP_T), else A (CUBLAS_OP_N)
 * @param tf32   f32 inputs may round to tf32 on the tensor cores (CUBLAS_COMPUTE_32F_FAST_TF32)
 */
public record GemmCall(boolean transA, boolean transB, int m, int n, int k, float alpha,
                       long a, DType inputType, int lda, long strideA,
                       long b, int ldb, long strideB,
                       float beta, long c, DType outputType, int ldc, long strideC, int batch, boolean tf32) {

    public GemmCall {
        if (m <= 0 || n <= 0 || k <= 0 || batch <= 0) {
            throw new IllegalArgumentException("GEMM sizes must be positive: m=" + m + " n=" + n + " k=" + k
                    + " batch=" + batch);
        }
        if (inputType != DType.F32 && inputType != DType.BF16 && inputType != DType.F16) {
            throw new IllegalArgumentException("GEMM inputs must be F32, BF16 or F16, got " + inputType);
        }
        if (outputType != DType.F32 && outputType != inputType) {
            throw new IllegalArgumentException("GEMM output must be F32 or the input dtype, got " + inputType
                    + " inputs with " + outputType + " output");
        }
        if (tf32 && inputType != DType.F32) {
            throw new IllegalArgumentException("TF32 compute applies to F32 inputs, got " + inputType);
        }
        // BLAS's leading-dimension rules: at least the rows of the matrix as stored.
        requireLd("lda", lda, transA ? k : m);
        requireLd("ldb", ldb, transB ? n : k);
        requireLd("ldc", ldc, m);
        if (strideA < 0 || strideB < 0 || strideC < 0) {
            throw new IllegalArgumentException("GEMM batch strides must not be negative");
        }
    }

    private static void requireLd(String name, int ld, int rows) {
        if (ld < Math.max(1, rows)) {
            throw new IllegalArgumentException(name + " = " + ld + " is below the stored rows " + rows);
        }
    }

    /** Floating-point operations: 2 m n k per matrix. */
    public double flops() {
        return 2.0 * m * n * k * batch;
    }
}
