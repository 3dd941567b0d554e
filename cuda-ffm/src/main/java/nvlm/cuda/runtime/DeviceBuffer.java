package nvlm.cuda.runtime;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.function.Consumer;

import static nvlm.cuda.bindings.cuda_h.*;

/**
 * A range of device memory: address and size. Owned buffers free their memory (or return it to
 * the {@link CachingAllocator} that made them) when closed, never through the garbage collector.
 * Copies and memsets of device memory are queued on a {@link CudaStream}.
 */
public final class DeviceBuffer implements AutoCloseable {
    private final long address;
    private final long byteSize;
    private final Consumer<DeviceBuffer> release;
    private boolean closed;

    DeviceBuffer(long address, long byteSize, Consumer<DeviceBuffer> release) {
        this.address = address;
        this.byteSize = byteSize;
        this.release = release;
    }

    /** Device memory straight from cuMemAlloc_v2, freed by close. */
    public static DeviceBuffer allocate(long bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("device buffer size must be positive, got " + bytes);
        }
        long address = malloc(bytes);
        if (address == 0) {
            throw CudaDriverException.of(CUDA_ERROR_OUT_OF_MEMORY(), "cuMemAlloc_v2(" + bytes + " bytes)");
        }
        return new DeviceBuffer(address, bytes, b -> free(b.address));
    }

    /** cuMemAlloc_v2 in the current context: the device address, or 0 when the device is out of memory. */
    static long malloc(long bytes) {
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

    /** cuMemFree_v2 of an address {@link #malloc} returned. */
    static void free(long address) {
        CudaDriverException.check(cuMemFree_v2(address), "cuMemFree_v2(0x" + Long.toHexString(address) + ")");
    }

    /** The device address (CUdeviceptr), e.g. to pass as a kernel argument. */
    public long address() {
        if (closed) {
            throw new IllegalStateException("device buffer 0x" + Long.toHexString(address) + " (" + byteSize
                    + " bytes) is closed");
        }
        return address;
    }

    public long byteSize() {
        return byteSize;
    }

    public boolean isClosed() {
        return closed;
    }

    /** Frees the memory or returns it to its allocator. Idempotent. */
    @Override
    public void close() {
        Consumer<DeviceBuffer> action;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            action = release;
        }
        if (action != null) {
            action.accept(this);
        }
    }

    @Override
    public String toString() {
        return "DeviceBuffer[0x" + Long.toHexString(address) + ", " + byteSize + " bytes" + (closed ? ", closed" : "")
                + "]";
    }
}
