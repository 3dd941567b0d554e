package nvlm.cuda;

import nvlm.cuda.bindings.cublasLtMatmulAlgo_t;
import nvlm.cuda.bindings.cublasLtMatmulHeuristicResult_t;
import nvlm.kernels.DType;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;

import static nvlm.cuda.bindings.cublasLt_h.*;

/**
 * cuBLASLt matmuls with fused epilogues (bias, GELU, ReLU) on one stream. Row-major operands are
 * mapped to column-major exactly as in {@link Cublas} ({@link RowMajorGemm#toColumnMajor()}), so
 * the epilogue's bias (length rows(D) in cuBLASLt's terms) is the row-major result's n columns.
 * The algorithm for each distinct problem is chosen once by cublasLtMatmulAlgoGetHeuristic (its
 * fastest applicable result) and reused. Not thread-safe: use one per stream.
 */
public final class CublasLt implements AutoCloseable {
    public static final long WORKSPACE_BYTES = Cublas.WORKSPACE_BYTES;

    /** Everything that selects a plan; pointer alignments matter because heuristics assume them. */
    private record PlanKey(RowMajorGemm shape, DType inputType, DType outputType, Epilogue epilogue, DType biasType,
                           GemmCompute compute, int alignA, int alignB, int alignD) {
    }

    /** Descriptors and chosen algorithm for one problem, alive until close. */
    private record Plan(MemorySegment desc, MemorySegment layoutA, MemorySegment layoutB, MemorySegment layoutD,
                        MemorySegment algo) {
    }

    private final MemorySegment handle;
    private final CudaStream stream;
    private final DeviceBuffer workspace;
    private final Arena arena = Arena.ofShared();
    private final Map<PlanKey, Plan> plans = new HashMap<>();
    private boolean closed;

    private CublasLt(MemorySegment handle, CudaStream stream, DeviceBuffer workspace) {
        this.handle = handle;
        this.stream = stream;
        this.workspace = workspace;
    }

    public static CublasLt create(CudaStream stream) {
        try (Arena scratch = Arena.ofConfined()) {
            MemorySegment out = scratch.allocate(C_POINTER);
            check(cublasLtCreate(out), "cublasLtCreate");
            MemorySegment handle = out.get(C_POINTER, 0);
            try {
                return new CublasLt(handle, stream, DeviceBuffer.allocate(WORKSPACE_BYTES));
            } catch (RuntimeException e) {
                cublasLtDestroy(handle);
                throw e;
            }
        }
    }

    /** cuBLASLt's version number (cublasLtGetVersion). */
    public static long version() {
        return cublasLtGetVersion();
    }

    /**
     * D = epilogue(op(A) op(B) [+ bias]) in row-major terms, queued on this object's stream.
     * {@code bias} (length n, of {@code biasType} F32 or the output type) is required exactly when
     * the epilogue has one; pass null otherwise.
     */
    public void matmul(RowMajorGemm shape, DeviceBuffer a, DeviceBuffer b, DeviceBuffer d, DType inputType,
                       DType outputType, Epilogue epilogue, DeviceBuffer bias, DType biasType, GemmCompute compute) {
        GemmCompute.checkTypes(inputType, outputType);
        Cublas.requireSize("A", a, shape.elementsA(), inputType);
        Cublas.requireSize("B", b, shape.elementsB(), inputType);
        Cublas.requireSize("D", d, shape.elementsC(), outputType);
        if (epilogue.hasBias() != (bias != null)) {
            throw new IllegalArgumentException("epilogue " + epilogue + (epilogue.hasBias()
                    ? " needs a bias vector" : " takes no bias vector, got one"));
        }
        if (bias != null) {
            Cublas.requireSize("bias", bias, shape.n(), biasType);
        }
        var key = new PlanKey(shape, inputType, outputType, epilogue, bias == null ? null : biasType, compute,
                alignment(a), alignment(b), alignment(d));
        Plan plan = plans.computeIfAbsent(key, this::plan);
        try (Arena scratch = Arena.ofConfined()) {
            if (bias != null) {
                setDescAttribute(plan.desc(), CUBLASLT_MATMUL_DESC_BIAS_POINTER(),
                        scratch.allocateFrom(C_POINTER, Cublas.pointer(bias)), "BIAS_POINTER");
            }
            MemorySegment dPointer = Cublas.pointer(d);
            // The A/B swap of RowMajorGemm.toColumnMajor: cuBLASLt's A is the row-major B buffer.
            check(cublasLtMatmul(handle(), plan.desc(), scratch.allocateFrom(C_FLOAT, 1f), Cublas.pointer(b),
                    plan.layoutA(), Cublas.pointer(a), plan.layoutB(), scratch.allocateFrom(C_FLOAT, 0f), dPointer,
                    plan.layoutD(), dPointer, plan.layoutD(), plan.algo(), Cublas.pointer(workspace), WORKSPACE_BYTES,
                    stream.handle()), "cublasLtMatmul(" + key + ")");
        }
    }

    private Plan plan(PlanKey key) {
        RowMajorGemm.CublasGemmArgs g = key.shape().toColumnMajor();
        int in = GemmCompute.cudaDataType(key.inputType());
        int out = GemmCompute.cudaDataType(key.outputType());
        try (Arena scratch = Arena.ofConfined()) {
            MemorySegment handleOut = scratch.allocate(C_POINTER);
            check(cublasLtMatmulDescCreate(handleOut, key.compute().cublasComputeType(key.inputType()), CUDA_R_32F()),
                    "cublasLtMatmulDescCreate");
            MemorySegment desc = handleOut.get(C_POINTER, 0);
            setDescAttribute(desc, CUBLASLT_MATMUL_DESC_TRANSA(), scratch.allocateFrom(C_INT, g.transa()), "TRANSA");
            setDescAttribute(desc, CUBLASLT_MATMUL_DESC_TRANSB(), scratch.allocateFrom(C_INT, g.transb()), "TRANSB");
            setDescAttribute(desc, CUBLASLT_MATMUL_DESC_EPILOGUE(), scratch.allocateFrom(C_INT, key.epilogue().value()),
                    "EPILOGUE");
            if (key.biasType() != null) {
                setDescAttribute(desc, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE(),
                        scratch.allocateFrom(C_INT, GemmCompute.cudaDataType(key.biasType())), "BIAS_DATA_TYPE");
            }
            long[] storedA = g.storedA();
            long[] storedB = g.storedB();
            MemorySegment layoutA = layout(scratch, in, storedA[0], storedA[1], g.lda());
            MemorySegment layoutB = layout(scratch, in, storedB[0], storedB[1], g.ldb());
            MemorySegment layoutD = layout(scratch, out, g.m(), g.n(), g.ldc());
            try {
                return new Plan(desc, layoutA, layoutB, layoutD, chooseAlgorithm(scratch, key, desc, layoutA, layoutB,
                        layoutD));
            } catch (RuntimeException e) {
                cublasLtMatrixLayoutDestroy(layoutA);
                cublasLtMatrixLayoutDestroy(layoutB);
                cublasLtMatrixLayoutDestroy(layoutD);
                cublasLtMatmulDescDestroy(desc);
                throw e;
            }
        }
    }

    /** The fastest applicable heuristic result that fits the workspace, copied into this object's arena. */
    private MemorySegment chooseAlgorithm(Arena scratch, PlanKey key, MemorySegment desc, MemorySegment layoutA,
                                          MemorySegment layoutB, MemorySegment layoutD) {
        MemorySegment handleOut = scratch.allocate(C_POINTER);
        check(cublasLtMatmulPreferenceCreate(handleOut), "cublasLtMatmulPreferenceCreate");
        MemorySegment preference = handleOut.get(C_POINTER, 0);
        try {
            setPreference(preference, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES(),
                    scratch.allocateFrom(C_LONG_LONG, WORKSPACE_BYTES));
            // cuBLAS's A is our B buffer (the swap); alignments follow the buffers.
            setPreference(preference, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES(),
                    scratch.allocateFrom(C_INT, key.alignB()));
            setPreference(preference, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES(),
                    scratch.allocateFrom(C_INT, key.alignA()));
            setPreference(preference, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES(),
                    scratch.allocateFrom(C_INT, key.alignD()));
            setPreference(preference, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES(),
                    scratch.allocateFrom(C_INT, key.alignD()));
            int requested = 8;
            MemorySegment results = cublasLtMatmulHeuristicResult_t.allocateArray(requested, scratch);
            MemorySegment returned = scratch.allocate(C_INT);
            check(cublasLtMatmulAlgoGetHeuristic(handle(), desc, layoutA, layoutB, layoutD, layoutD, preference,
                    requested, results, returned), "cublasLtMatmulAlgoGetHeuristic(" + key + ")");
            for (int i = 0; i < returned.get(C_INT, 0); i++) {
                MemorySegment result = cublasLtMatmulHeuristicResult_t.asSlice(results, i);
                if (cublasLtMatmulHeuristicResult_t.state(result) == CUBLAS_STATUS_SUCCESS()
                        && cublasLtMatmulHeuristicResult_t.workspaceSize(result) <= WORKSPACE_BYTES) {
                    MemorySegment algo = cublasLtMatmulAlgo_t.allocate(arena);
                    algo.copyFrom(cublasLtMatmulHeuristicResult_t.algo(result));
                    return algo;
                }
            }
            throw new CublasException("cublasLtMatmulAlgoGetHeuristic(" + key + ")", CUBLAS_STATUS_NOT_SUPPORTED(),
                    "CUBLAS_STATUS_NOT_SUPPORTED", "no applicable algorithm among "
                    + returned.get(C_INT, 0) + " heuristic results");
        } finally {
            cublasLtMatmulPreferenceDestroy(preference);
        }
    }

    private static MemorySegment layout(Arena scratch, int type, long rows, long cols, long ld) {
        MemorySegment out = scratch.allocate(C_POINTER);
        check(cublasLtMatrixLayoutCreate(out, type, rows, cols, ld),
                "cublasLtMatrixLayoutCreate(type " + type + ", " + rows + "x" + cols + ", ld " + ld + ")");
        return out.get(C_POINTER, 0);
    }

    private static void setDescAttribute(MemorySegment desc, int attribute, MemorySegment value, String name) {
        check(cublasLtMatmulDescSetAttribute(desc, attribute, value, value.byteSize()),
                "cublasLtMatmulDescSetAttribute(" + name + ")");
    }

    private static void setPreference(MemorySegment preference, int attribute, MemorySegment value) {
        check(cublasLtMatmulPreferenceSetAttribute(preference, attribute, value, value.byteSize()),
                "cublasLtMatmulPreferenceSetAttribute(" + attribute + ")");
    }

    /** The largest power of two up to 256 dividing the buffer's address. */
    static int alignment(DeviceBuffer buffer) {
        long address = buffer.address();
        return (int) Math.min(256, address == 0 ? 256 : Long.lowestOneBit(address));
    }

    private MemorySegment handle() {
        if (closed) {
            throw new IllegalStateException("cuBLASLt handle is closed");
        }
        return handle;
    }

    static void check(int status, String call) {
        if (status != CUBLAS_STATUS_SUCCESS()) {
            throw new CublasException(call, status, Cublas.text(cublasLtGetStatusName(status)),
                    Cublas.text(cublasLtGetStatusString(status)));
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            // The workspace is freed below: queued matmuls must have finished with it.
            stream.synchronize();
            for (Plan plan : plans.values()) {
                cublasLtMatrixLayoutDestroy(plan.layoutA());
                cublasLtMatrixLayoutDestroy(plan.layoutB());
                cublasLtMatrixLayoutDestroy(plan.layoutD());
                cublasLtMatmulDescDestroy(plan.desc());
            }
            plans.clear();
            check(cublasLtDestroy(handle), "cublasLtDestroy");
        } finally {
            arena.close();
            workspace.close();
        }
    }
}
