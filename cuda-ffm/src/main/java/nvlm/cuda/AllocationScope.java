package nvlm.cuda;

import java.util.ArrayList;
import java.util.List;

/**
 * Allocations that end together, like an {@link java.lang.foreign.Arena}: closing the scope closes
 * every buffer allocated through it that is still open (their memory goes back to the allocator).
 */
public final class AllocationScope implements AutoCloseable {
    private final CachingAllocator allocator;
    private final CudaStream stream;
    private final List<DeviceBuffer> buffers = new ArrayList<>();
    private boolean closed;

    AllocationScope(CachingAllocator allocator, CudaStream stream) {
        this.allocator = allocator;
        this.stream = stream;
    }

    public synchronized DeviceBuffer allocate(long bytes) {
        if (closed) {
            throw new IllegalStateException("allocation scope is closed");
        }
        DeviceBuffer buffer = allocator.allocate(bytes, stream);
        buffers.add(buffer);
        return buffer;
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            for (DeviceBuffer buffer : buffers.reversed()) {
                buffer.close();
            }
            buffers.clear();
        }
    }
}
