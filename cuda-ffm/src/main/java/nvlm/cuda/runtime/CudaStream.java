package nvlm.cuda.runtime;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static nvlm.cuda.bindings.cuda_h.*;

/**
 * A CUDA stream: work queued on it runs in order. {@link #create()} makes an owned, non-blocking
 * stream (it does not synchronise with the legacy default stream); {@link #wrap} adopts a handle
 * made elsewhere without owning it. Copies and memsets take device addresses and are queued: only
 * {@link #copyToHost} and {@link #synchronize} wait.
 */
public final class CudaStream implements AutoCloseable {
    private final MemorySegment handle;
    private final boolean owned;
    private boolean closed;

    private CudaStream(MemorySegment handle, boolean owned) {
        this.handle = handle;
        this.owned = owned;
    }

    public static CudaStream create() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment stream = arena.allocate(C_POINTER);
            CudaDriverException.check(cuStreamCreate(stream, CU_STREAM_NON_BLOCKING()), "cuStreamCreate");
            return new CudaStream(stream.get(C_POINTER, 0), true);
        }
    }

    /** A stream handle owned elsewhere; closing the wrapper does nothing. */
    public static CudaStream wrap(long handle) {
        return new CudaStream(MemorySegment.ofAddress(handle), false);
    }

    /** The CUstream handle to pass to driver and library calls. */
    public MemorySegment handle() {
        if (closed) {
            throw new IllegalStateException("CUDA stream 0x" + Long.toHexString(handle.address()) + " is closed");
        }
        return handle;
    }

    /** The raw handle value, used as the stream's identity by the caching allocator. */
    public long address() {
        return handle.address();
    }

    public void synchronize() {
        CudaDriverException.check(cuStreamSynchronize(handle()), "cuStreamSynchronize");
    }

    /** As {@link #synchronize()}; an asynchronous fault reported here names {@code what} it follows. */
    public void synchronizeAfter(String what) {
        CudaDriverException.check(cuStreamSynchronize(handle()), "cuStreamSynchronize after " + what);
    }

    /**
     * Queues a copy of all of {@code src} to device address {@code dst}. From pageable memory the
     * driver stages the bytes before returning, so {@code src} (or the staging copy of a heap
     * segment) may be reused at once.
     */
    public void copyFromHost(MemorySegment src, long dst) {
        long bytes = src.byteSize();
        if (src.isNative()) {
            CudaDriverException.check(cuMemcpyHtoDAsync_v2(dst, src, bytes, handle()),
                    "cuMemcpyHtoDAsync_v2(" + bytes + " bytes)");
            return;
        }
        try (Arena staging = Arena.ofConfined()) {
            copyFromHost(staging.allocate(bytes, 16).copyFrom(src), dst);
        }
    }

    /** Copies {@code dst.byteSize()} bytes from device address {@code src} into host memory, waiting for the stream. */
    public void copyToHost(long src, MemorySegment dst) {
        long bytes = dst.byteSize();
        if (dst.isNative()) {
            CudaDriverException.check(cuMemcpyDtoHAsync_v2(dst, src, bytes, handle()),
                    "cuMemcpyDtoHAsync_v2(" + bytes + " bytes)");
            synchronizeAfter("a copy to the host");
            return;
        }
        try (Arena staging = Arena.ofConfined()) {
            MemorySegment copy = staging.allocate(bytes, 16);
            copyToHost(src, copy);
            dst.copyFrom(copy);
        }
    }

    public void copyOnDevice(long dst, long src, long bytes) {
        CudaDriverException.check(cuMemcpyDtoDAsync_v2(dst, src, bytes, handle()), "cuMemcpyDtoDAsync_v2(" + bytes
                + " bytes)");
    }

    /** Sets {@code count} bytes to {@code value}. */
    public void memset8(long dst, byte value, long count) {
        CudaDriverException.check(cuMemsetD8Async(dst, value, count, handle()), "cuMemsetD8Async(" + count + ")");
    }

    /** Sets {@code count} 4-byte words (dst 4-byte aligned) to {@code value}. */
    public void memset32(long dst, int value, long count) {
        CudaDriverException.check(cuMemsetD32Async(dst, value, count, handle()), "cuMemsetD32Async(" + count + ")");
    }

    @Override
    public synchronized void close() {
        if (!closed && owned) {
            CudaDriverException.check(cuStreamDestroy_v2(handle), "cuStreamDestroy_v2");
        }
        closed = true;
    }

    @Override
    public String toString() {
        return "CudaStream[0x" + Long.toHexString(handle.address()) + "]";
    }
}
