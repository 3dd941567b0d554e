package nvlm.cuda.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import nvlm.kernels.DType;
import nvlm.tensor.Device;
import nvlm.tensor.MemoryScope;
import nvlm.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** CUDA storages go back to the caching allocator when their scope closes, or when unreachable. */
class SimulatedMemoryTest {

    @Test
    void aClosedScopeReturnsEveryStorageToTheAllocator() throws Exception {
        SimulatedAccelerator device = new SimulatedAccelerator();
        try (AutoCloseable use = CudaBackend.useAccelerator(device)) {
            long before = device.memoryStats().allocatedBytes();
            Tensor kept;
            try (MemoryScope outer = MemoryScope.open()) {
                try (MemoryScope step = MemoryScope.open()) {
                    Tensor a = Tensor.zeros(Device.CUDA, DType.F32, 1000);
                    Tensor b = a.add(1).mul(3);
                    kept = MemoryScope.escape(b.sum());
                    assertTrue(device.memoryStats().allocatedBytes() > before);
                }
                assertEquals(3000f, kept.item());
            }
            assertEquals(before, device.memoryStats().allocatedBytes());
            assertThrows(IllegalStateException.class, kept::item, "a released tensor must not be readable");
        }
    }

    @Test
    void aTrainingLoopInScopesDoesNotGrowTheAllocation() throws Exception {
        SimulatedAccelerator device = new SimulatedAccelerator();
        try (AutoCloseable use = CudaBackend.useAccelerator(device)) {
            Tensor w = Tensor.randn(new java.util.Random(1), 16, 8).to(Device.CUDA).requiresGrad(true);
            long baseline = device.memoryStats().allocatedBytes();
            for (int step = 0; step < 4; step++) {
                try (MemoryScope scope = MemoryScope.open()) {
                    Tensor x = Tensor.randn(new java.util.Random(step), 5, 16).to(Device.CUDA);
                    Tensor loss = x.matmul(w).relu().sum();
                    loss.backward();
                }
                // The step's activations went back with the scope; the gradient lives in the
                // parameter's own (GC-managed) scope and goes back once dropped and collected.
                w.setGrad(null);
                assertEquals(baseline, settled(device, baseline), "allocated bytes after step " + step);
            }
            assertTrue(device.memoryStats().cacheHits() > 0, "blocks are reused from the cache");
        }
    }

    /** Allocated bytes once the cleaner has run (collecting until they reach {@code target}, for at most 10 s). */
    private static long settled(SimulatedAccelerator device, long target) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (device.memoryStats().allocatedBytes() > target && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(20);
        }
        return device.memoryStats().allocatedBytes();
    }

    @Test
    void storagesOutsideScopesAreReleasedWhenUnreachable() throws Exception {
        SimulatedAccelerator device = new SimulatedAccelerator();
        try (AutoCloseable use = CudaBackend.useAccelerator(device)) {
            long before = device.memoryStats().allocatedBytes();
            for (int i = 0; i < 10; i++) {
                Tensor.zeros(Device.CUDA, DType.F32, 1 << 16);
            }
            assertEquals(before, settled(device, before), "the cleaner returned every block");
        }
    }
}
