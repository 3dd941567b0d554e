package nvlm.cuda.backend;

import nvlm.cuda.runtime.GemmCall;
import nvlm.kernels.DType;

/**
 * The Backend's batched matmul in row-major terms, as {@link nvlm.tensor.Backend#matmul} receives
 * it: c[i] = alpha op(a[i]) op(b[i]) + beta c[i] for [batch, rows, cols] views a and b with unit
 * column stride, a row stride and a batch stride (0 broadcasts), and c contiguous [batch, m, n].
 * {@link #toColumnMajor} turns it into the cuBLAS call: a row-major buffer is the column-major
 * transpose, so C^T = op(B)^T op(A)^T, with cuBLAS's A the row-major B and its B the row-major A
 * (REFERENCE.md section 4).
 *
 * @param lda          row stride of a as stored ([k, m] when transA, else [m, k])
 * @param batchStrideA elements between the matrices of a (0: one matrix for every batch entry)
 */
public record GemmPlan(int batch, int m, int n, int k, boolean transA, boolean transB,
                       long lda, long batchStrideA, long ldb, long batchStrideB) {

    /**
     * The plan for views of shapes {@code aShape}, {@code bShape} ([batch or 1, rows, cols]) and
     * strides; {@code batch} is c's first extent.
     */
    public static GemmPlan of(long[] aShape, long[] aStrides, boolean transA, long[] bShape, long[] bStrides,
                              boolean transB, long batch) {
        int m = Math.toIntExact(transA ? aShape[2] : aShape[1]);
        int k = Math.toIntExact(transA ? aShape[1] : aShape[2]);
        int n = Math.toIntExact(transB ? bShape[1] : bShape[2]);
        int kb = Math.toIntExact(transB ? bShape[2] : bShape[1]);
        if (kb != k) {
            throw new IllegalArgumentException("matmul: inner dimensions differ: op(a) is " + m + "x" + k
                    + ", op(b) is " + kb + "x" + n);
        }
        requireUnitColumns("a", aShape, aStrides);
        requireUnitColumns("b", bShape, bStrides);
        return new GemmPlan(Math.toIntExact(batch), m, n, k, transA, transB,
                rowStride(aShape, aStrides), batchStride(aShape, aStrides, batch),
                rowStride(bShape, bStrides), batchStride(bShape, bStrides, batch));
    }

    private static void requireUnitColumns(String name, long[] shape, long[] strides) {
        if (shape[2] > 1 && strides[2] != 1) {
            throw new IllegalArgumentException("matmul: operand " + name + " needs unit stride in its last dimension, got"
                    + " strides " + java.util.Arrays.toString(strides));
        }
    }

    /** A single row may carry any row stride; BLAS wants at least the row length. */
    private static long rowStride(long[] shape, long[] strides) {
        return shape[1] <= 1 ? Math.max(1, shape[2]) : Math.max(strides[1], 1);
    }

    private static long batchStride(long[] shape, long[] strides, long batch) {
        return batch <= 1 || shape[0] == 1 ? 0 : strides[0];
    }

    /** Rows and columns of a as stored. */
    public long[] storedA() {
        return transA ? new long[] {k, m} : new long[] {m, k};
    }

    public long[] storedB() {
        return transB ? new long[] {n, k} : new long[] {k, n};
    }

    /** The same product with a packed into [batch or 1, rows, cols] (ld = cols), as after a dtype conversion. */
    public GemmPlan withPackedA() {
        long[] s = storedA();
        return new GemmPlan(batch, m, n, k, transA, transB, s[1], batchStrideA == 0 ? 0 : s[0] * s[1], ldb, batchStrideB);
    }

    public GemmPlan withPackedB() {
        long[] s = storedB();
        return new GemmPlan(batch, m, n, k, transA, transB, lda, batchStrideA, s[1], batchStrideB == 0 ? 0 : s[0] * s[1]);
    }

    /** Matrices a holds (1 when broadcast over the batch). */
    public int matricesA() {
        return batchStrideA == 0 ? 1 : batch;
    }

    public int matricesB() {
        return batchStrideB == 0 ? 1 : batch;
    }

    /**
     * The cuBLAS call for device addresses a, b (first element of each, inputs of {@code inputType})
     * and c (contiguous [batch, m, n] of {@code outputType}).
     */
    public GemmCall toColumnMajor(long a, long b, DType inputType, long c, DType outputType, float alpha, float beta,
                                  boolean tf32) {
        return new GemmCall(transB, transA, n, m, k, alpha, b, inputType, Math.toIntExact(ldb), batchStrideB,
                a, Math.toIntExact(lda), batchStrideA, beta, c, outputType, n, (long) m * n, batch, tf32);
    }
}
