package nvlm.cuda.runtime;

/** A CUDA library call returned an error status. The message names the call, the code and its meaning. */
public class CudaException extends RuntimeException {
    private final String call;
    private final int code;

    public CudaException(String call, int code, String message) {
        super(message);
        this.call = call;
        this.code = code;
    }

    /** The failing call, e.g. {@code cuMemAlloc_v2(1073741824 bytes)}. */
    public String call() {
        return call;
    }

    /** The status code the library returned. */
    public int code() {
        return code;
    }
}
