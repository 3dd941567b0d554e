package nvlm.cuda.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import nvlm.cuda.runtime.Cuda;
import nvlm.kernels.DType;
import nvlm.tensor.Backend;
import nvlm.tensor.Device;
import nvlm.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** Where there is no GPU: the backend is found and loads, and using it says clearly what is missing. */
class CudaBackendWithoutGpuTest {

    @Test
    void theServiceLoaderFindsTheCudaBackend() {
        Backend backend = Backend.of(Device.CUDA);
        assertInstanceOf(CudaBackend.class, backend);
        assertEquals(Device.CUDA, backend.device());
        assertEquals(backend, CudaBackend.instance());
    }

    @Test
    void usingTheGpuWithoutCudaFailsWithTheLibrarySearchReport() {
        assumeFalse(Cuda.isAvailable(), "a GPU is present: nothing to check about its absence");
        String reason = Cuda.unavailableReason().orElseThrow();
        Throwable error = assertThrows(Throwable.class, () -> Tensor.zeros(Device.CUDA, DType.F32, 4));
        assertTrue(error.getMessage().contains("libcuda") || error.getMessage().equals(reason),
                "expected the missing-library message, got: " + error);
        // Moving a CPU tensor fails the same way, and the CPU path is untouched.
        assertThrows(Throwable.class, () -> Tensor.of(new float[] {1, 2}).to(Device.CUDA));
        assertEquals(3f, Tensor.of(new float[] {1, 2}).sum().item());
    }
}
