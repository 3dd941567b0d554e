package nvlm.cuda;

import static nvlm.cuda.bindings.cublasLt_h.*;

/**
 * What cuBLASLt applies to the product before storing it (cublasLtEpilogue_t, REFERENCE.md
 * section 5). The bias is a vector of length n (one per output column of the row-major result,
 * the {@code nn.Linear} bias), broadcast over the m rows.
 */
public enum Epilogue {
    NONE(CUBLASLT_EPILOGUE_DEFAULT(), false),
    BIAS(CUBLASLT_EPILOGUE_BIAS(), true),
    RELU(CUBLASLT_EPILOGUE_RELU(), false),
    RELU_BIAS(CUBLASLT_EPILOGUE_RELU_BIAS(), true),
    GELU(CUBLASLT_EPILOGUE_GELU(), false),
    GELU_BIAS(CUBLASLT_EPILOGUE_GELU_BIAS(), true);

    private final int value;
    private final boolean hasBias;

    Epilogue(int value, boolean hasBias) {
        this.value = value;
        this.hasBias = hasBias;
    }

    /** The cublasLtEpilogue_t value. */
    public int value() {
        return value;
    }

    public boolean hasBias() {
        return hasBias;
    }
}
