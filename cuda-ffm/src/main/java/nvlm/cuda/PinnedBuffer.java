package nvlm.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static nvlm.cuda.bindings.cuda_h.*;

/**
 * Page-locked host memory (cuMemHostAlloc, portable to every context): the staging area that makes
 * host-device copies truly asynchronous and faster than copies from pageable memory.
 */
public final class PinnedBuffer implements AutoCloseable {
    private final MemorySegment segment;
    private boolean closed;

    private PinnedBuffer(MemorySegment segment) {
        this.segment = segment;
    }

    public static PinnedBuffer allocate(long bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("pinned buffer size must be positive, got " + bytes);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pointer = arena.allocate(C_POINTER);
            CudaDriverException.check(cuMemHostAlloc(pointer, bytes, CU_MEMHOSTALLOC_PORTABLE()),
                    "cuMemHostAlloc(" + bytes + " bytes)");
            return new PinnedBuffer(pointer.get(C_POINTER, 0).reinterpret(bytes));
        }
    }

    /** The host memory; not to be used after {@link #close()}. */
    public MemorySegment segment() {
        if (closed) {
            throw new IllegalStateException("pinned buffer of " + segment.byteSize() + " bytes is closed");
        }
        return segment;
    }

    public long byteSize() {
        return segment.byteSize();
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            CudaDriverException.check(cuMemFreeHost(segment), "cuMemFreeHost");
        }
    }
}
