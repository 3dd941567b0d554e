package nvlm.cuda;

import nvlm.kernels.DType;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static nvlm.cuda.bindings.cublas_api_h.*;

/**
 * A cuBLAS handle bound to one stream, with its own workspace, running row-major GEMMs
 * ({@link RowMajorGemm}) in BF16/F16/F32 with f32 accumulation. Scalars are passed by host
 * pointer. Not thread-safe: use one per stream.
 */
public final class Cublas implements AutoCloseable {
    /** Workspace for cuBLAS kernels: 32 MiB on Hopper (REFERENCE.md section 4, as PyTorch uses). */
    public static final long WORKSPACE_BYTES = 32L << 20;

    private final MemorySegment handle;
    private final CudaStream stream;
    private final DeviceBuffer workspace;
    // Host scalars of gemmColumnMajor, written before each call (cuBLAS reads them during the call).
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

    /** cuBLAS's version number, e.g. 130000 + ... for 13.x. */
    public int version() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment version = arena.allocate(C_INT);
            check(cublasGetVersion_v2(handle(), version), "cublasGetVersion_v2");
            return version.get(C_INT, 0);
        }
    }

    public CudaStream stream() {
        return stream;
    }

    /** C = alpha op(A) op(B) + beta C, row-major, queued on this handle's stream. */
    public void gemm(RowMajorGemm shape, DeviceBuffer a, DeviceBuffer b, DeviceBuffer c, DType inputType,
                     DType outputType, float alpha, float beta, GemmCompute compute) {
        GemmCompute.checkTypes(inputType, outputType);
        requireSize("A", a, shape.elementsA(), inputType);
        requireSize("B", b, shape.elementsB(), inputType);
        requireSize("C", c, shape.elementsC(), outputType);
        RowMajorGemm.CublasGemmArgs g = shape.toColumnMajor();
        int in = GemmCompute.cudaDataType(inputType);
        try (Arena arena = Arena.ofConfined()) {
            // cuBLAS A is the row-major B buffer and vice versa (RowMajorGemm.toColumnMajor).
            check(cublasGemmEx(handle(), g.transa(), g.transb(), g.m(), g.n(), g.k(),
                    arena.allocateFrom(C_FLOAT, alpha), pointer(b), in, g.lda(), pointer(a), in, g.ldb(),
                    arena.allocateFrom(C_FLOAT, beta), pointer(c), GemmCompute.cudaDataType(outputType), g.ldc(),
                    compute.cublasComputeType(inputType), CUBLAS_GEMM_DEFAULT()),
                    "cublasGemmEx(" + shape + ", " + inputType + "->" + outputType + ", " + compute + ")");
        }
    }

    /**
     * {@code batch} GEMMs of the same shape; matrix i of A starts {@code i * strideA} elements after
     * A's start (likewise B, C).
     */
    public void gemmStridedBatched(RowMajorGemm shape, int batch, long strideA, long strideB, long strideC,
                                   DeviceBuffer a, DeviceBuffer b, DeviceBuffer c, DType inputType, DType outputType,
                                   float alpha, float beta, GemmCompute compute) {
        GemmCompute.checkTypes(inputType, outputType);
        if (batch <= 0) {
            throw new IllegalArgumentException("batch count must be positive, got " + batch);
        }
        requireSize("A", a, (batch - 1) * strideA + shape.elementsA(), inputType);
        requireSize("B", b, (batch - 1) * strideB + shape.elementsB(), inputType);
        requireSize("C", c, (batch - 1) * strideC + shape.elementsC(), outputType);
        RowMajorGemm.CublasGemmArgs g = shape.toColumnMajor();
        int in = GemmCompute.cudaDataType(inputType);
        try (Arena arena = Arena.ofConfined()) {
            check(cublasGemmStridedBatchedEx(handle(), g.transa(), g.transb(), g.m(), g.n(), g.k(),
                    arena.allocateFrom(C_FLOAT, alpha), pointer(b), in, g.lda(), strideB, pointer(a), in, g.ldb(),
                    strideA, arena.allocateFrom(C_FLOAT, beta), pointer(c), GemmCompute.cudaDataType(outputType),
                    g.ldc(), strideC, batch, compute.cublasComputeType(inputType), CUBLAS_GEMM_DEFAULT()),
                    "cublasGemmStridedBatchedEx(" + shape + " x" + batch + ", " + inputType + "->" + outputType
                            + ", " + compute + ")");
        }
    }

    /**
     * A column-major GEMM on raw device addresses, cuBLAS's own terms: for each of {@code batch}
     * matrices C(m x n) = alpha op(A) op(B) + beta C, matrix i of A at {@code a + i * strideA}
     * elements (likewise B and C). One cublasGemmEx call for a single matrix, else one
     * cublasGemmStridedBatchedEx (a stride of 0 reuses a matrix). Nothing is allocated: the
     * path for a tensor backend issuing thousands of products.
     *
     * @param transa      {@code CUBLAS_OP_N} or {@code CUBLAS_OP_T}
     * @param computeType a {@code cublasComputeType_t} (see {@link GemmCompute#cublasComputeType})
     */
    public void gemmColumnMajor(int transa, int transb, int m, int n, int k, float alpha, long a, DType abType, int lda,
                                long strideA, long b, int ldb, long strideB, float beta, long c, DType cType, int ldc,
                                long strideC, int batch, int computeType) {
        alphaSlot.set(C_FLOAT, 0, alpha);
        betaSlot.set(C_FLOAT, 0, beta);
        int type = GemmCompute.cudaDataType(abType);
        int status = batch == 1
                ? cublasGemmEx(handle(), transa, transb, m, n, k, alphaSlot, MemorySegment.ofAddress(a), type, lda,
                        MemorySegment.ofAddress(b), type, ldb, betaSlot, MemorySegment.ofAddress(c),
                        GemmCompute.cudaDataType(cType), ldc, computeType, CUBLAS_GEMM_DEFAULT())
                : cublasGemmStridedBatchedEx(handle(), transa, transb, m, n, k, alphaSlot, MemorySegment.ofAddress(a), type,
                        lda, strideA, MemorySegment.ofAddress(b), type, ldb, strideB, betaSlot, MemorySegment.ofAddress(c),
                        GemmCompute.cudaDataType(cType), ldc, strideC, batch, computeType, CUBLAS_GEMM_DEFAULT());
        if (status != CUBLAS_STATUS_SUCCESS()) {
            check(status, (batch == 1 ? "cublasGemmEx" : "cublasGemmStridedBatchedEx") + "(op " + transa + "/" + transb
                    + ", m=" + m + " n=" + n + " k=" + k + ", " + abType + "->" + cType + ", lda=" + lda + " ldb=" + ldb
                    + " ldc=" + ldc + ", batch " + batch + ", compute " + computeType + ")");
        }
    }

    static void requireSize(String name, DeviceBuffer buffer, long elements, DType type) {
        long needed = elements * type.byteSize();
        if (buffer.byteSize() < needed) {
            throw new IllegalArgumentException("GEMM operand " + name + " needs " + needed + " bytes (" + elements
                    + " " + type + " elements), buffer has " + buffer.byteSize());
        }
    }

    static MemorySegment pointer(DeviceBuffer buffer) {
        return MemorySegment.ofAddress(buffer.address());
    }

    private MemorySegment handle() {
        if (closed) {
            throw new IllegalStateException("cuBLAS handle is closed");
        }
        return handle;
    }

    /** Throws a {@link CublasException} naming {@code call} when {@code status} is not CUBLAS_STATUS_SUCCESS. */
    public static void check(int status, String call) {
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
