package nvlm.tensor;

/** Elementwise functions of one tensor (f32). The backward of each is {@code gy * f'(x)}. */
public enum UnaryOp {
    NEG, EXP, LOG, SQRT, RSQRT, ABS, SQUARE, RECIPROCAL, TANH, SIGMOID, RELU,
    /** Exact GELU, {@code 0.5 x (1 + erf(x / sqrt 2))} (InternViT, projector: docs/model.md §2, §4). */
    GELU_ERF,
    /** Tanh-approximated GELU. */
    GELU_TANH,
    /** {@code x * sigmoid(x)} (SwiGLU: docs/model.md §5). */
    SILU, SIN, COS
}
