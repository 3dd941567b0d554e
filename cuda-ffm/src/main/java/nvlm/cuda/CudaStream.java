package nvlm.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static nvlm.cuda.bindings.cuda_h.*;

/**
 * A CUDA stream: work queued on it runs in order. {@link #create()} makes an owned, non-blocking
 * stream (it does not synchronise with the legacy default stream); {@link #wrap} adopts a handle
 * made elsewhere (another library's stream, or the legacy default stream 0) without owning it.
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

    /** The legacy default stream (handle 0), which cannot be captured into a graph. */
    public static CudaStream legacyDefault() {
        return wrap(0);
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

    /** Whether all work queued so far has finished. */
    public boolean isDone() {
        int result = cuStreamQuery(handle());
        if (result == CUDA_ERROR_NOT_READY()) {
            return false;
        }
        CudaDriverException.check(result, "cuStreamQuery");
        return true;
    }

    /** Makes later work on this stream wait until {@code event} has completed. */
    public void waitFor(CudaEvent event) {
        CudaDriverException.check(cuStreamWaitEvent(handle(), event.handle(), CU_EVENT_WAIT_DEFAULT()),
                "cuStreamWaitEvent");
    }

    /** Records a new event at the current end of this stream. */
    public CudaEvent record() {
        CudaEvent event = CudaEvent.create(false);
        event.record(this);
        return event;
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
