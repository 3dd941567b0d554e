package nvlm.comm;

/** A collective or a library call of MPI or NCCL failed: names the call, the code and its text. */
public class CommException extends RuntimeException {
    public CommException(String message) {
        super(message);
    }

    public CommException(String message, Throwable cause) {
        super(message, cause);
    }
}
