package nvlm.tensor;

/** Elementwise comparisons producing BOOL tensors. */
public enum CompareOp {
    EQ, NE, LT, LE, GT, GE
}
