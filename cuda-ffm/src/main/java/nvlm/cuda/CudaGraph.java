package nvlm.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static nvlm.cuda.bindings.cuda_h.*;

/**
 * A captured and instantiated CUDA graph: the kernels and copies queued on a stream during
 * {@link #capture} are recorded once and replayed with one launch. Replays reuse the captured
 * arguments and addresses, so buffers used inside must stay allocated while the graph lives
 * (allocate them before capturing).
 */
public final class CudaGraph implements AutoCloseable {
    private final MemorySegment graph;
    private final MemorySegment exec;
    private boolean closed;

    private CudaGraph(MemorySegment graph, MemorySegment exec) {
        this.graph = graph;
        this.exec = exec;
    }

    /**
     * Records the work {@code region} queues on {@code stream} (which must be a created stream, not
     * the legacy default one). Capture mode is thread-local: other threads may keep making
     * unrelated CUDA calls meanwhile.
     */
    public static CudaGraph capture(CudaStream stream, Runnable region) {
        CudaDriverException.check(cuStreamBeginCapture_v2(stream.handle(), CU_STREAM_CAPTURE_MODE_THREAD_LOCAL()),
                "cuStreamBeginCapture_v2");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment graph = arena.allocate(C_POINTER);
            Throwable failure = null;
            try {
                region.run();
            } catch (Throwable t) {
                failure = t;
            }
            int ended = cuStreamEndCapture(stream.handle(), graph);
            MemorySegment captured = graph.get(C_POINTER, 0);
            if (failure != null) {
                if (ended == CUDA_SUCCESS() && !captured.equals(MemorySegment.NULL)) {
                    cuGraphDestroy(captured);
                }
                if (failure instanceof RuntimeException e) {
                    throw e;
                }
                if (failure instanceof Error e) {
                    throw e;
                }
                throw new IllegalStateException("graph capture region failed", failure);
            }
            CudaDriverException.check(ended, "cuStreamEndCapture");
            MemorySegment exec = arena.allocate(C_POINTER);
            int instantiated = cuGraphInstantiateWithFlags(exec, captured, 0L);
            if (instantiated != CUDA_SUCCESS()) {
                cuGraphDestroy(captured);
                throw CudaDriverException.of(instantiated, "cuGraphInstantiateWithFlags");
            }
            return new CudaGraph(captured, exec.get(C_POINTER, 0));
        }
    }

    /** Queues one replay of the graph on {@code stream}. */
    public void launch(CudaStream stream) {
        if (closed) {
            throw new IllegalStateException("CUDA graph is closed");
        }
        CudaDriverException.check(cuGraphLaunch(exec, stream.handle()), "cuGraphLaunch");
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            CudaDriverException.check(cuGraphExecDestroy(exec), "cuGraphExecDestroy");
            CudaDriverException.check(cuGraphDestroy(graph), "cuGraphDestroy");
        }
    }
}
