package nvlm.cuda.backend;

import nvlm.cuda.runtime.GemmCall;
import nvlm.kernels.DType;
import nvlm.kernels.cpu.Parallel;

/**
 * What cublasGemmStridedBatchedEx computes for a {@link GemmCall}, in Java: the simulated device's
 * GEMM, and the model the argument mapping is tested against. Inputs are read as stored (bf16 and
 * f16 widen exactly; with {@code tf32} f32 inputs are first rounded to 10-bit mantissas, to
 * nearest even), products are summed in double and the result rounded once to f32.
 */
public final class ColumnMajorGemm {
    private ColumnMajorGemm() {
    }

    /** Element access by address, so the same model runs over device-like memory and over test arrays. */
    public interface Memory {
        /** Element {@code index} of dtype {@code type} (F32, BF16 or F16) of the array at {@code address}. */
        double read(long address, DType type, long index);

        /** Stores {@code value} as element {@code index} of dtype {@code type}, rounding to nearest even. */
        void write(long address, DType type, long index, float value);
    }

    /**
     * Runs the call. Per matrix, op(A) and op(B) are first gathered with BLAS's indexing into
     * dense rows (so the product loop is fast enough for whole-model tests), then each C element
     * is one dot product; columns of C are spread over the CPU pool.
     */
    public static void run(GemmCall g, Memory memory) {
        int m = g.m();
        int n = g.n();
        int k = g.k();
        double[] opA = new double[m * k];
        double[] opB = new double[n * k];
        for (int batch = 0; batch < g.batch(); batch++) {
            long a = batch * g.strideA();
            long b = batch * g.strideB();
            long c = batch * g.strideC();
            for (int i = 0; i < m; i++) {
                for (int p = 0; p < k; p++) {
                    long ai = a + (g.transA() ? p + (long) i * g.lda() : i + (long) p * g.lda());
                    opA[i * k + p] = input(g, memory, g.a(), ai);
                }
            }
            for (int j = 0; j < n; j++) {
                for (int p = 0; p < k; p++) {
                    long bi = b + (g.transB() ? j + (long) p * g.ldb() : p + (long) j * g.ldb());
                    opB[j * k + p] = input(g, memory, g.b(), bi);
                }
            }
            Parallel.forRange(n, Math.max(1, (1 << 16) / Math.max(1, m * k)), (start, end) -> {
                for (int j = start; j < end; j++) {
                    for (int i = 0; i < m; i++) {
                        double sum = 0;
                        for (int p = 0; p < k; p++) {
                            sum += opA[i * k + p] * opB[j * k + p];
                        }
                        long ci = c + i + (long) j * g.ldc();
                        // beta = 0 does not read C (it may hold NaN), as in BLAS.
                        double value = g.alpha() * sum
                                + (g.beta() == 0 ? 0 : g.beta() * memory.read(g.c(), g.outputType(), ci));
                        memory.write(g.c(), g.outputType(), ci, (float) value);
                    }
                }
            });
        }
    }

    private static double input(GemmCall g, Memory memory, long address, long index) {
        double v = memory.read(address, g.inputType(), index);
        return g.tf32() && g.inputType() == DType.F32 ? roundToTf32((float) v) : v;
    }

    /** f32 rounded to tf32's 10 mantissa bits, to nearest even (NaN and infinities unchanged). */
    public static float roundToTf32(float x) {
        if (!Float.isFinite(x)) {
            return x;
        }
        int bits = Float.floatToRawIntBits(x);
        bits += 0xfff + ((bits >>> 13) & 1);
        return Float.intBitsToFloat(bits & ~0x1fff);
    }
}
