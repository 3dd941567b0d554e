package nvlm.cuda;

import nvlm.kernels.DType;

import static nvlm.cuda.bindings.cublas_api_h.CUBLAS_COMPUTE_32F;
import static nvlm.cuda.bindings.cublas_api_h.CUBLAS_COMPUTE_32F_FAST_TF32;
import static nvlm.cuda.bindings.cublas_api_h.CUDA_R_16BF;
import static nvlm.cuda.bindings.cublas_api_h.CUDA_R_16F;
import static nvlm.cuda.bindings.cublas_api_h.CUDA_R_32F;

/**
 * How a GEMM accumulates. Both accumulate in f32 (the project's rule); TF32 lets f32 inputs run
 * on tensor cores with 10-bit mantissas (about 1e-3 relative error), as PyTorch's
 * {@code allow_tf32} does.
 */
public enum GemmCompute {
    /** CUBLAS_COMPUTE_32F: f32 products for f32 inputs; tensor cores for bf16/f16 inputs. */
    F32,
    /** CUBLAS_COMPUTE_32F_FAST_TF32: f32 inputs rounded to tf32 on tensor cores. */
    TF32;

    /** The cublasComputeType_t for inputs of {@code inputType}; TF32 is only meaningful for F32 inputs. */
    public int cublasComputeType(DType inputType) {
        if (this == TF32 && inputType != DType.F32) {
            throw new IllegalArgumentException("TF32 compute applies to F32 inputs, got " + inputType);
        }
        return this == TF32 ? CUBLAS_COMPUTE_32F_FAST_TF32() : CUBLAS_COMPUTE_32F();
    }

    /** The cudaDataType_t of a storage dtype (REFERENCE.md section 4): F32 0, F16 2, BF16 14. */
    public static int cudaDataType(DType type) {
        return switch (type) {
            case F32 -> CUDA_R_32F();
            case F16 -> CUDA_R_16F();
            case BF16 -> CUDA_R_16BF();
            default -> throw new IllegalArgumentException("no cuBLAS floating-point type for " + type);
        };
    }

    /** The input/output pairs GemmEx supports with f32 compute: same type in and out, or f32 out. */
    public static void checkTypes(DType inputType, DType outputType) {
        boolean ok = inputType.isFloatingPoint()
                && (outputType == DType.F32 || outputType == inputType);
        if (!ok) {
            throw new IllegalArgumentException("unsupported GEMM types: " + inputType + " inputs with " + outputType
                    + " output (supported: F32->F32, BF16->BF16|F32, F16->F16|F32)");
        }
    }
}
