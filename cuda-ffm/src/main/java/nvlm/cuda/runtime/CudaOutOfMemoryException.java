package nvlm.cuda.runtime;

import static nvlm.cuda.bindings.cuda_h.CUDA_ERROR_OUT_OF_MEMORY;

/** The device has no memory left for an allocation, even after the caching allocator emptied its cache. */
public final class CudaOutOfMemoryException extends CudaException {
    public CudaOutOfMemoryException(String call, String message) {
        super(call, CUDA_ERROR_OUT_OF_MEMORY(), message);
    }
}
