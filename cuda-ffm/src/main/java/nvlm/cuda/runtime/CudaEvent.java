package nvlm.cuda.runtime;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static nvlm.cuda.bindings.cuda_h.*;

/** A marker in a stream: to wait on, to order streams, and (when timing) to measure elapsed GPU time. */
public final class CudaEvent implements AutoCloseable {
    private final MemorySegment handle;
    private boolean closed;

    private CudaEvent(MemorySegment handle) {
        this.handle = handle;
    }

    /** An event; {@code timing} false makes it cheaper (CU_EVENT_DISABLE_TIMING) but not usable for elapsed times. */
    public static CudaEvent create(boolean timing) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment event = arena.allocate(C_POINTER);
            CudaDriverException.check(cuEventCreate(event, timing ? CU_EVENT_DEFAULT() : CU_EVENT_DISABLE_TIMING()),
                    "cuEventCreate");
            return new CudaEvent(event.get(C_POINTER, 0));
        }
    }

    public MemorySegment handle() {
        if (closed) {
            throw new IllegalStateException("CUDA event 0x" + Long.toHexString(handle.address()) + " is closed");
        }
        return handle;
    }

    public CudaEvent record(CudaStream stream) {
        CudaDriverException.check(cuEventRecord(handle(), stream.handle()), "cuEventRecord");
        return this;
    }

    public void synchronize() {
        CudaDriverException.check(cuEventSynchronize(handle()), "cuEventSynchronize");
    }

    /** Milliseconds of GPU time from {@code start} to this event (both recorded with timing, both complete). */
    public float elapsedMillisSince(CudaEvent start) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment millis = arena.allocate(C_FLOAT);
            CudaDriverException.check(cuEventElapsedTime_v2(millis, start.handle(), handle()), "cuEventElapsedTime_v2");
            return millis.get(C_FLOAT, 0);
        }
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            CudaDriverException.check(cuEventDestroy_v2(handle), "cuEventDestroy_v2");
        }
    }
}
