package nvlm.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;

import static nvlm.cuda.bindings.cuda_h.*;

/** The CUDA driver as the caching allocator's {@link CachingAllocator.Driver}; events are pooled. */
public final class DriverMemory implements CachingAllocator.Driver {
    private final ArrayDeque<Long> idleEvents = new ArrayDeque<>();

    DriverMemory() {
    }

    @Override
    public long malloc(long bytes) {
        return allocate(bytes);
    }

    @Override
    public void free(long address) {
        release(address);
    }

    /** cuMemAlloc in the current context: the device address, or 0 when the device is out of memory. */
    public static long allocate(long bytes) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pointer = arena.allocate(C_LONG_LONG);
            int result = cuMemAlloc_v2(pointer, bytes);
            if (result == CUDA_ERROR_OUT_OF_MEMORY()) {
                return 0;
            }
            CudaDriverException.check(result, "cuMemAlloc_v2(" + bytes + " bytes)");
            return pointer.get(C_LONG_LONG, 0);
        }
    }

    /** cuMemFree of an address {@link #allocate} returned. */
    public static void release(long address) {
        CudaDriverException.check(cuMemFree_v2(address), "cuMemFree_v2(0x" + Long.toHexString(address) + ")");
    }

    @Override
    public long recordEvent(long stream) {
        long event;
        if (idleEvents.isEmpty()) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment handle = arena.allocate(C_POINTER);
                CudaDriverException.check(cuEventCreate(handle, CU_EVENT_DISABLE_TIMING()), "cuEventCreate");
                event = handle.get(C_POINTER, 0).address();
            }
        } else {
            event = idleEvents.pop();
        }
        CudaDriverException.check(cuEventRecord(MemorySegment.ofAddress(event), MemorySegment.ofAddress(stream)),
                "cuEventRecord");
        return event;
    }

    @Override
    public boolean eventDone(long event) {
        int result = cuEventQuery(MemorySegment.ofAddress(event));
        if (result == CUDA_ERROR_NOT_READY()) {
            return false;
        }
        CudaDriverException.check(result, "cuEventQuery");
        return true;
    }

    @Override
    public void destroyEvent(long event) {
        idleEvents.push(event);
    }

    @Override
    public void synchronize() {
        CudaDriverException.check(cuCtxSynchronize(), "cuCtxSynchronize");
    }
}
