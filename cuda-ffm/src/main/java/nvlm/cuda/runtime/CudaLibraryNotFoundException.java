package nvlm.cuda.runtime;

/**
 * A CUDA library could not be found or loaded. The message lists every place searched and how
 * to point the search elsewhere. It is an {@link UnsatisfiedLinkError}, like
 * {@link System#loadLibrary} failing, so code that probes for optional native libraries treats
 * it the usual way.
 */
public final class CudaLibraryNotFoundException extends UnsatisfiedLinkError {
    private final CudaLibrary library;

    public CudaLibraryNotFoundException(CudaLibrary library, String message) {
        super(message);
        this.library = library;
    }

    public CudaLibrary library() {
        return library;
    }
}
