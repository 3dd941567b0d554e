package nvlm.cuda.runtime;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static nvlm.cuda.bindings.cuda_h.C_POINTER;
import static nvlm.cuda.bindings.cuda_h.CUDA_SUCCESS;
import static nvlm.cuda.bindings.cuda_h.cuGetErrorName;
import static nvlm.cuda.bindings.cuda_h.cuGetErrorString;

/** A CUDA driver call failed: carries the CUresult with its name and text (cuGetErrorName/String). */
public class CudaDriverException extends CudaException {
    private final String errorName;

    public CudaDriverException(String call, int code, String errorName, String text) {
        super(call, code, call + " failed: " + errorName + " (" + code + "): " + text);
        this.errorName = errorName;
    }

    /** The CUresult's name, e.g. {@code CUDA_ERROR_OUT_OF_MEMORY}. */
    public String errorName() {
        return errorName;
    }

    /** Throws when {@code result} is not CUDA_SUCCESS. */
    public static void check(int result, String call) {
        if (result != CUDA_SUCCESS()) {
            throw of(result, call);
        }
    }

    /** The exception for a failed call's {@code result}, with CUDA's name and text for it. */
    public static CudaDriverException of(int result, String call) {
        return new CudaDriverException(call, result, describe(result, true), describe(result, false));
    }

    /** cuGetErrorName / cuGetErrorString; an unknown code gives a placeholder rather than a second error. */
    static String describe(int result, boolean name) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment text = arena.allocate(C_POINTER);
            int status = name ? cuGetErrorName(result, text) : cuGetErrorString(result, text);
            MemorySegment string = text.get(C_POINTER, 0);
            if (status == CUDA_SUCCESS() && !string.equals(MemorySegment.NULL)) {
                return string.getString(0);
            }
        } catch (RuntimeException | LinkageError e) {
            // Describing an error must not hide it.
        }
        return name ? "CUresult " + result : "unknown CUresult";
    }
}
