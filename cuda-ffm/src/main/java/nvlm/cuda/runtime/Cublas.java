package nvlm.cuda.runtime;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import nvlm.kernels.DType;

import static nvlm.cuda.bindings.cublas_api_h.*;

/**
 * A cuBLAS handle bound to one stream, with its own workspace, running {@link GemmCall}s with f32
 * accumulation. Scalars are passed by host pointer. Not thread-safe: use one per stream.
 */
public final class Cublas implements AutoCloseable {
    /** Workspace for cuBLAS kernels: 32 MiB on Hopper (REFERENCE.md section 4, as PyTorch uses). */
    public static final long WORKSPACE_BYTES = 32L << 20;

    private final MemorySegment handle;
    private final CudaStream stream;
    private final DeviceBuffer workspace;
    // Host scalars of gemm, written before each call (cuBLAS reads them during the call).
    private final Arena scalarArena = Arena.ofShared();
    private final MemorySegment alphaSlot = scalarArena.allocate(C_FLOAT);
    private final MemorySegment betaSlot = scalarArena.allocate(C_FLOAT);
    private boolean closed;

    private Cublas(MemorySegment handle, CudaStream stream, DeviceBuffer workspace) {
        this.handle = handle;
        this.stream = stream;
        this.workspace = workspace;
    }

    public static Cublas create(CudaStream stream) {
        CudaLibraries.require(CudaLibrary.CUBLAS);
        MemorySegment handle;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(C_POINTER);
            check(cublasCreate_v2(out), "cublasCreate_v2");
            handle = out.get(C_POINTER, 0);
        }
        DeviceBuffer workspace = null;
        try {
            check(cublasSetStream_v2(handle, stream.handle()), "cublasSetStream_v2");
            workspace = DeviceBuffer.allocate(WORKSPACE_BYTES);
            check(cublasSetWorkspace_v2(handle, MemorySegment.ofAddress(workspace.address()), WORKSPACE_BYTES),
                    "cublasSetWorkspace_v2");
            check(cublasSetPointerMode_v2(handle, CUBLAS_POINTER_MODE_HOST()), "cublasSetPointerMode_v2");
            // TF32 is chosen per call through the compute type, never by the handle's math mode.
            check(cublasSetMathMode(handle, CUBLAS_DEFAULT_MATH()), "cublasSetMathMode");
            return new Cublas(handle, stream, workspace);
        } catch (RuntimeException e) {
            if (workspace != null) {
                workspace.close();
            }
            cublasDestroy_v2(handle);
            throw e;
        }
    }

    /**
     * Queues the call on this handle's stream: one cublasGemmEx for a single matrix, else one
     * cublasGemmStridedBatchedEx (a stride of 0 reuses a matrix). Nothing is allocated: the path
     * for a tensor backend issuing thousands of products.
     */
    public void gemm(GemmCall g) {
        alphaSlot.set(C_FLOAT, 0, g.alpha());
        betaSlot.set(C_FLOAT, 0, g.beta());
        int transA = g.transA() ? CUBLAS_OP_T() : CUBLAS_OP_N();
        int transB = g.transB() ? CUBLAS_OP_T() : CUBLAS_OP_N();
        int in = cudaDataType(g.inputType());
        int out = cudaDataType(g.outputType());
        int compute = g.tf32() ? CUBLAS_COMPUTE_32F_FAST_TF32() : CUBLAS_COMPUTE_32F();
        MemorySegment a = MemorySegment.ofAddress(g.a());
        MemorySegment b = MemorySegment.ofAddress(g.b());
        MemorySegment c = MemorySegment.ofAddress(g.c());
        int status = g.batch() == 1
                ? cublasGemmEx(handle(), transA, transB, g.m(), g.n(), g.k(), alphaSlot, a, in, g.lda(), b, in, g.ldb(),
                        betaSlot, c, out, g.ldc(), compute, CUBLAS_GEMM_DEFAULT())
                : cublasGemmStridedBatchedEx(handle(), transA, transB, g.m(), g.n(), g.k(), alphaSlot, a, in, g.lda(),
                        g.strideA(), b, in, g.ldb(), g.strideB(), betaSlot, c, out, g.ldc(), g.strideC(), g.batch(),
                        compute, CUBLAS_GEMM_DEFAULT());
        if (status != CUBLAS_STATUS_SUCCESS()) {
            check(status, (g.batch() == 1 ? "cublasGemmEx(" : "cublasGemmStridedBatchedEx(") + g + ")");
        }
    }

    /** The cudaDataType_t of a storage dtype (REFERENCE.md section 4): F32 0, F16 2, BF16 14. */
    static int cudaDataType(DType type) {
        return switch (type) {
            case F32 -> CUDA_R_32F();
            case F16 -> CUDA_R_16F();
            case BF16 -> CUDA_R_16BF();
            default -> throw new IllegalArgumentException("no cuBLAS floating-point type for " + type);
        };
    }

    private MemorySegment handle() {
        if (closed) {
            throw new IllegalStateException("cuBLAS handle is closed");
        }
        return handle;
    }

    /** Throws a {@link CublasException} naming {@code call} when {@code status} is not CUBLAS_STATUS_SUCCESS. */
    static void check(int status, String call) {
        if (status != CUBLAS_STATUS_SUCCESS()) {
            throw new CublasException(call, status, text(cublasGetStatusName(status)), text(cublasGetStatusString(status)));
        }
    }

    static String text(MemorySegment string) {
        return string.equals(MemorySegment.NULL) ? "?" : string.getString(0);
    }

    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            try {
                // The workspace is freed below: queued GEMMs must have finished with it.
                stream.synchronize();
                check(cublasDestroy_v2(handle), "cublasDestroy_v2");
            } finally {
                workspace.close();
                scalarArena.close();
            }
        }
    }
}
