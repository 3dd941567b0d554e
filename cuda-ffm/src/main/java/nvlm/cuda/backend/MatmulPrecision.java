package nvlm.cuda.backend;

import java.util.Locale;

/**
 * How the CUDA backend's matrix products treat f32 operands. Every mode accumulates in f32 and
 * writes f32 (the Backend's contract); 16-bit operands go to the tensor cores as they are.
 * Chosen with {@code -Dnvlm.cuda.matmul=bf16|tf32|f32} or {@code NVLM_CUDA_MATMUL}; BF16 by
 * default.
 */
public enum MatmulPrecision {
    /**
     * f32 operands are rounded to bfloat16 (round to nearest even) into scratch memory from the
     * caching allocator, one launch each, and multiplied on the tensor cores: the weights stay f32
     * masters, as in mixed-precision training. Relative error about 1e-3 to 1e-2.
     */
    BF16,
    /** f32 operands on the tensor cores with 10-bit mantissas (CUBLAS_COMPUTE_32F_FAST_TF32): about 1e-3. */
    TF32,
    /** Exact f32 products (CUBLAS_COMPUTE_32F without tensor-op math). */
    F32;

    public static final String PROPERTY = "nvlm.cuda.matmul";
    public static final String ENV = "NVLM_CUDA_MATMUL";

    /** bf16, tf32 or f32, any case. */
    public static MatmulPrecision parse(String name) {
        return switch (name.strip().toLowerCase(Locale.ROOT)) {
            case "bf16", "bfloat16" -> BF16;
            case "tf32" -> TF32;
            case "f32", "fp32", "float32" -> F32;
            default -> throw new IllegalArgumentException("unknown matmul precision '" + name + "' in -D" + PROPERTY
                    + " or " + ENV + " (expected bf16, tf32 or f32)");
        };
    }

    /** The property, else the environment variable, else BF16. */
    public static MatmulPrecision configured() {
        String value = System.getProperty(PROPERTY, System.getenv(ENV));
        return value == null || value.isBlank() ? BF16 : parse(value);
    }
}
