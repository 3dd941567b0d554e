package nvlm.cuda.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import nvlm.cuda.bindings.cublas_api_h;
import nvlm.cuda.bindings.cuda_h;
import nvlm.cuda.bindings.nvrtc_h;
import org.junit.jupiter.api.Test;

/**
 * Without the CUDA libraries (as on the build machines) the binding classes load and their
 * constants work, and the runtime's entry points fail with the search report, on every call
 * rather than once.
 */
class WithoutLibrariesTest {

    private static void assumeAbsent(CudaLibrary library) {
        assumeFalse(CudaLibraries.isAvailable(library), library + " is installed here: nothing to check");
    }

    private static void assertSearchReport(CudaLibraryNotFoundException e, String soname) {
        String message = e.getMessage();
        assertTrue(message.contains(soname), message);
        assertTrue(message.contains("LD_LIBRARY_PATH"), message);
        assertTrue(message.contains("/usr/local/cuda/lib64"), message);
        assertTrue(message.contains("/usr/local/nvidia/lib64"), message);
        assertTrue(message.contains("nvidia/cu13/lib") || message.contains("-Dnvlm.cuda.libpath"), message);
        assertTrue(message.contains("-Dnvlm.cuda.libpath=DIR"), message);
    }

    @Test
    void bindingClassesLoadAndGiveTheirConstantsWithoutLibraries() {
        assumeAbsent(CudaLibrary.DRIVER);
        assertEquals(0, cuda_h.CUDA_SUCCESS());
        assertEquals(2, cuda_h.CUDA_ERROR_OUT_OF_MEMORY());
        assertEquals(0, nvrtc_h.NVRTC_SUCCESS());
        assertEquals(77, cublas_api_h.CUBLAS_COMPUTE_32F_FAST_TF32());
        assertEquals(14, cublas_api_h.CUDA_R_16BF());
    }

    @Test
    void theDriverFailsWithTheSearchReportOnEveryCall() {
        assumeAbsent(CudaLibrary.DRIVER);
        var first = assertThrows(CudaLibraryNotFoundException.class, Cuda::init);
        assertSearchReport(first, "libcuda.so.1");
        var second = assertThrows(CudaLibraryNotFoundException.class, Cuda::init);
        assertEquals(first.getMessage(), second.getMessage());
        assertThrows(CudaLibraryNotFoundException.class, () -> CudaDevice.open(0));
    }

    @Test
    void nvrtcAndCublasFailWithTheirSonames() {
        assumeAbsent(CudaLibrary.NVRTC);
        assumeAbsent(CudaLibrary.CUBLAS);
        assertSearchReport(assertThrows(CudaLibraryNotFoundException.class, Nvrtc::version), "libnvrtc.so.13");
        assertSearchReport(assertThrows(CudaLibraryNotFoundException.class,
                () -> Nvrtc.compile("", "empty.cu", java.util.List.of())), "libnvrtc.so.13");
        assertSearchReport(assertThrows(CudaLibraryNotFoundException.class, () -> Cublas.create(CudaStream.wrap(0))),
                "libcublas.so.13");
    }

    @Test
    void unavailabilityIsReportedNotThrownByTheProbe() {
        assumeAbsent(CudaLibrary.DRIVER);
        assertTrue(!Cuda.isAvailable());
        String reason = CudaLibraries.unavailableReason(CudaLibrary.DRIVER).orElseThrow();
        assertTrue(reason.contains("libcuda.so.1"), reason);
        assertEquals(reason, Cuda.unavailableReason().orElseThrow());
        assertTrue(CudaLibraries.location(CudaLibrary.DRIVER).isEmpty());
    }
}
