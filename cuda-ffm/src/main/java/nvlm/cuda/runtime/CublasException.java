package nvlm.cuda.runtime;

/** A cuBLAS call failed: carries the cublasStatus_t with its name and text. */
public final class CublasException extends CudaException {
    public CublasException(String call, int code, String name, String text) {
        super(call, code, call + " failed: " + name + " (" + code + "): " + text);
    }
}
