package nvlm.cuda.runtime;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static nvlm.cuda.bindings.cuda_h.*;

/** A loaded CUBIN, fatbin or PTX image (cuModuleLoadDataEx) in the current context. */
public final class CudaModule implements AutoCloseable {
    private static final int LOG_BYTES = 16 * 1024;

    private final MemorySegment handle;
    private final String description;
    private boolean closed;

    private CudaModule(MemorySegment handle, String description) {
        this.handle = handle;
        this.description = description;
    }

    /** Loads an image; PTX text gets the terminating NUL the driver needs if it lacks one. JIT errors carry the log. */
    public static CudaModule load(byte[] image, String description) {
        byte[] bytes = isElf(image) || (image.length > 0 && image[image.length - 1] == 0) ? image : withNul(image);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment module = arena.allocate(C_POINTER);
            MemorySegment log = arena.allocate(LOG_BYTES);
            MemorySegment options = arena.allocateFrom(C_INT, CU_JIT_ERROR_LOG_BUFFER(),
                    CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES());
            MemorySegment values = arena.allocate(C_POINTER, 2);
            values.setAtIndex(C_POINTER, 0, log);
            // The size is an unsigned value carried in the pointer-sized slot (REFERENCE.md section 2).
            values.setAtIndex(C_POINTER, 1, MemorySegment.ofAddress(LOG_BYTES));
            MemorySegment data = arena.allocate(bytes.length, 16).copyFrom(MemorySegment.ofArray(bytes));
            int result = cuModuleLoadDataEx(module, data, 2, options, values);
            if (result != CUDA_SUCCESS()) {
                String jitLog = log.getString(0).strip();
                CudaDriverException error = CudaDriverException.of(result, "cuModuleLoadDataEx(" + description + ")");
                throw jitLog.isEmpty() ? error : new CudaDriverException(error.call(), result, error.errorName(),
                        CudaDriverException.describe(result, false) + "\n" + jitLog);
            }
            return new CudaModule(module.get(C_POINTER, 0), description);
        }
    }

    static boolean isElf(byte[] image) {
        return image.length >= 4 && image[0] == 0x7f && image[1] == 'E' && image[2] == 'L' && image[3] == 'F';
    }

    private static byte[] withNul(byte[] ptx) {
        byte[] copy = new byte[ptx.length + 1];
        System.arraycopy(ptx, 0, copy, 0, ptx.length);
        return copy;
    }

    /** The {@code extern "C"} kernel {@code name} in this module. */
    public CudaFunction function(String name) {
        if (closed) {
            throw new IllegalStateException("module " + description + " is closed");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment function = arena.allocate(C_POINTER);
            CudaDriverException.check(cuModuleGetFunction(function, handle, arena.allocateFrom(name)),
                    "cuModuleGetFunction(" + name + " in " + description + ")");
            return new CudaFunction(function.get(C_POINTER, 0), name);
        }
    }

    public String description() {
        return description;
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            CudaDriverException.check(cuModuleUnload(handle), "cuModuleUnload(" + description + ")");
        }
    }
}
