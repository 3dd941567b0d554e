package nvlm.kernels.cpu;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import nvlm.kernels.DType;

/**
 * The slow, obvious GEMM that {@link Gemm} is tested against: a triple loop per batch index with
 * double accumulation, reading every element through its dtype's widening. Same signature and
 * argument checks as {@link Gemm#gemm}.
 */
public final class GemmReference {
    private GemmReference() {
    }

    /** See {@link Gemm#gemm}; computes the same thing one element at a time. */
    public static void gemm(DType aType, DType bType, boolean transA, boolean transB,
                            int batch, int m, int n, int k, float alpha,
                            MemorySegment a, long aOffset, long lda, long strideA,
                            MemorySegment b, long bOffset, long ldb, long strideB,
                            float beta,
                            MemorySegment c, long cOffset, long ldc, long strideC) {
        Gemm.checkArguments(aType, bType, transA, transB, batch, m, n, k,
                a, aOffset, lda, strideA, b, bOffset, ldb, strideB, c, cOffset, ldc, strideC);
        for (int i = 0; i < batch; i++) {
            long aBase = aOffset + i * strideA;
            long bBase = bOffset + i * strideB;
            long cBase = cOffset + i * strideC;
            // Widen op(A) and op(B) once, so the triple loop below is plain array arithmetic
            // (op(B) kept column by column, so the inner loop walks both arrays in order).
            double[][] opA = new double[m][k];
            double[][] opBColumns = new double[n][k];
            if (alpha != 0) {
                for (int r = 0; r < m; r++) {
                    for (int p = 0; p < k; p++) {
                        opA[r][p] = element(aType, a, transA ? aBase + p * lda + r : aBase + r * lda + p);
                    }
                }
                for (int p = 0; p < k; p++) {
                    for (int col = 0; col < n; col++) {
                        opBColumns[col][p] = element(bType, b, transB ? bBase + col * ldb + p : bBase + p * ldb + col);
                    }
                }
            }
            for (int r = 0; r < m; r++) {
                for (int col = 0; col < n; col++) {
                    double[] row = opA[r];
                    double[] column = opBColumns[col];
                    double sum = 0;
                    for (int p = 0; p < k; p++) {
                        sum += row[p] * column[p];
                    }
                    long cIndex = cBase + r * ldc + col;
                    double result = (double) alpha * sum;
                    if (beta != 0) {
                        result += (double) beta * c.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, cIndex);
                    }
                    c.setAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, cIndex, (float) result);
                }
            }
        }
    }

    /** Element {@code index} of a segment holding {@code type} values, widened to float. */
    static float element(DType type, MemorySegment segment, long index) {
        return switch (type) {
            case F32 -> segment.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, index);
            case BF16 -> DType.bf16ToFloat(segment.getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, index));
            case F16 -> DType.f16ToFloat(segment.getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, index));
            default -> throw new IllegalArgumentException("GEMM operand dtype must be F32, BF16 or F16, got " + type);
        };
    }
}
