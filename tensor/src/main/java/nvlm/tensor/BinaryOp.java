package nvlm.tensor;

/** Elementwise functions of two broadcast tensors (f32). */
public enum BinaryOp {
    ADD, SUB, MUL, DIV, MAX, MIN, POW
}
