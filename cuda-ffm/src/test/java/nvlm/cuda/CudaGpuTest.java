package nvlm.cuda;

import nvlm.kernels.DType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The runtime on a real GPU: the same checks as {@link DeviceCheck} (which the GPU machine runs
 * without Maven). Skipped where CUDA is unavailable, with the reason (e.g. the places searched
 * for libcuda.so.1).
 */
class CudaGpuTest {
    private static DeviceCheck check;

    @BeforeAll
    static void openDevice() throws Exception {
        if (Cuda.isAvailable()) {
            check = new DeviceCheck();
        }
    }

    /** Each test skips (rather than the class vanishing from the report) with the reason CUDA is missing. */
    private static void assumeGpu() {
        assumeTrue(check != null, () -> "CUDA unavailable: " + Cuda.unavailableReason().orElse("?"));
    }

    @AfterAll
    static void closeDevice() {
        if (check != null) {
            check.close();
        }
    }

    private static void passes(String name) {
        assumeGpu();
        var result = DeviceCheck.run(check, name, check.checks().get(name));
        assertTrue(result.passed(), result.line());
    }

    @Test
    void deviceReportsItsAttributes() {
        passes("device");
    }

    @Test
    void hostDeviceCopiesAndMemsetsRoundTrip() {
        passes("copy-round-trip");
    }

    @Test
    void nvrtcImagesAreCachedAndReloaded() {
        passes("nvrtc-cache");
    }

    @Test
    void vectorAddMatchesJavaExactly() {
        passes("vector-add");
    }

    @Test
    void scalarArgumentsReachTheKernel() {
        passes("scalar-args");
    }

    @Test
    void deviceFillMatchesTheJavaHash() {
        passes("random-fill");
    }

    @Test
    void launchesAboveFortyEightKibOfSharedMemoryOptIn() {
        passes("dynamic-shared-64k");
    }

    @Test
    void eventsTimeGpuWork() {
        passes("event-timing");
    }

    @Test
    void capturedGraphReplaysTheWork() {
        passes("graph-replay");
    }

    @Test
    void cachingAllocatorReusesBlocksByStreamOrder() {
        passes("caching-allocator");
    }

    @Test
    void gemmF32MatchesJavaToOneInAHundredThousand() {
        passes("gemm-f32");
    }

    @Test
    void gemmTf32MatchesJavaWithinTf32Rounding() {
        passes("gemm-tf32");
    }

    @Test
    void gemmBf16MatchesJavaWithFloatAndBf16Outputs() {
        passes("gemm-bf16-f32out");
        passes("gemm-bf16-bf16out");
        passes("gemm-f16-f32out");
    }

    @Test
    void stridedBatchedGemmMatchesPerMatrixReferences() {
        passes("gemm-strided-batched");
    }

    @Test
    void cublasLtBiasAndGeluEpiloguesMatchJava() {
        passes("lt-bias-f32");
        passes("lt-gelu-bias-f32");
        passes("lt-gelu-bias-bf16");
    }

    @Test
    void cublasLtAcceptsF32BiasWithBf16Output() {
        passes("lt-bias-bf16-f32bias");
    }

    @Test
    void tf32ComputeRejectsNonF32Inputs() {
        assumeGpu();
        try {
            GemmCompute.TF32.cublasComputeType(DType.BF16);
            assertTrue(false, "expected rejection");
        } catch (IllegalArgumentException expected) {
            assertTrue(expected.getMessage().contains("BF16"));
        }
    }
}
