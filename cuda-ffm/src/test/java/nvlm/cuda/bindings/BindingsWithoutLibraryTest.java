package nvlm.cuda.bindings;

import nvlm.cuda.runtime.CudaLibraries;
import nvlm.cuda.runtime.CudaLibrary;
import nvlm.cuda.runtime.CudaLibraryNotFoundException;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/**
 * Without the CUDA libraries (as on the build machines) the binding classes load, their
 * descriptors and constants work, and the first call fails with the search report, on every
 * call rather than once.
 */
class BindingsWithoutLibraryTest {

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
    void driverClassLoadsAndDescribesItselfWithoutLibcuda() {
        assumeAbsent(CudaLibrary.DRIVER);
        assertEquals(0, cuda_h.CUDA_SUCCESS());
        assertEquals(16, cuda_h.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT());
        assertEquals(1L, cuda_h.CU_STREAM_LEGACY().address());
        assertEquals(cuda_h.C_INT, cuda_h.cuMemAlloc_v2$descriptor().returnLayout().orElseThrow());
        assertEquals(2, cuda_h.cuMemAlloc_v2$descriptor().argumentLayouts().size());
    }

    @Test
    void firstDriverCallFailsWithTheSearchReportAndSoDoesEveryLaterOne() {
        assumeAbsent(CudaLibrary.DRIVER);
        var first = assertThrows(CudaLibraryNotFoundException.class, () -> cuda_h.cuInit(0));
        assertSearchReport(first, "libcuda.so.1");
        var second = assertThrows(CudaLibraryNotFoundException.class, () -> cuda_h.cuInit(0));
        assertEquals(first.getMessage(), second.getMessage());
        assertThrows(CudaLibraryNotFoundException.class, cuda_h::cuMemAlloc_v2$handle);
        assertThrows(CudaLibraryNotFoundException.class, () -> cuda_h.cuCtxSynchronize());
    }

    @Test
    void nvrtcAndCublasCallsFailWithTheirSonames() {
        assumeAbsent(CudaLibrary.NVRTC);
        assumeAbsent(CudaLibrary.CUBLAS);
        assertSearchReport(assertThrows(CudaLibraryNotFoundException.class,
                () -> nvrtc_h.nvrtcVersion(MemorySegment.NULL, MemorySegment.NULL)), "libnvrtc.so.13");
        assertSearchReport(assertThrows(CudaLibraryNotFoundException.class,
                () -> cublas_api_h.cublasCreate_v2(MemorySegment.NULL)), "libcublas.so.13");
        assertEquals(77, cublas_api_h.CUBLAS_COMPUTE_32F_FAST_TF32());
    }

    @Test
    void unavailabilityIsReportedNotThrownByTheProbe() {
        assumeAbsent(CudaLibrary.DRIVER);
        assertTrue(!CudaLibraries.isAvailable(CudaLibrary.DRIVER));
        String reason = CudaLibraries.unavailableReason(CudaLibrary.DRIVER).orElseThrow();
        assertTrue(reason.contains("libcuda.so.1"), reason);
        assertTrue(CudaLibraries.location(CudaLibrary.DRIVER).isEmpty());
    }
}
