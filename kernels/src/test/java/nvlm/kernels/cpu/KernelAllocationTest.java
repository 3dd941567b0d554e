package nvlm.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import nvlm.kernels.DType;
import org.junit.jupiter.api.Test;

/**
 * Once the JIT has compiled them, the GEMV (every linear layer of every decoded token) and the
 * GEMM's register-tiled kernels must allocate nothing per call: a vector that C2 keeps boxed
 * (passed to a method it does not inline, or in a method too large for it) allocates an object
 * per operation, which cost 350 MB of heap per decoded token at InternVL2-1B's shape, and a GEMM
 * kernel with both of its C endings in one method ran at 1 GFLOP/s that way. Measured with the
 * JVM's per-thread allocation counters over every live thread (the caller and the pool's workers).
 */
class KernelAllocationTest {

    @Test
    void compiledGemvAllocatesNothingPerCall() {
        int rows = 512;
        int cols = 896 + 5; // a tail past the last full block, as well
        Arena arena = Arena.ofAuto();
        MemorySegment wBf16 = arena.allocate((long) rows * cols * 2, 64);
        MemorySegment wF32 = arena.allocate((long) rows * cols * 4, 64);
        MemorySegment x = arena.allocate((long) cols * 4, 64);
        MemorySegment y = arena.allocate((long) rows * 4, 64);
        for (long i = 0; i < (long) rows * cols; i++) {
            wBf16.setAtIndex(ValueLayout.JAVA_SHORT, i, (short) (0x3c00 + i % 97));
            wF32.setAtIndex(ValueLayout.JAVA_FLOAT, i, (i % 13) / 13f);
        }
        for (int c = 0; c < cols; c++) {
            x.setAtIndex(ValueLayout.JAVA_FLOAT, c, c % 7 - 3f);
        }
        long perCall = bytesPerCallOnceCompiled(() -> {
            Gemv.gemv(DType.BF16, rows, cols, 1f, wBf16, 0, cols, x, 0, 0f, y, 0);
            Gemv.gemv(DType.F32, rows, cols, 1f, wF32, 0, cols, x, 0, 0.5f, y, 0);
        });
        assertTrue(perCall <= 1024, "a compiled GEMV call still allocates " + perCall + " bytes (boxed vectors?)");
    }

    @Test
    void compiledGemmAllocatesNothingPerCall() {
        // Full tiles (C read and not read) and edge tiles (n and m not multiples of the tile).
        int m = 4 * GemmPanels.MR + 3;
        int n = 3 * GemmPanels.NR + 5;
        int k = 200;
        Arena arena = Arena.ofAuto();
        MemorySegment a = arena.allocate((long) m * k * 4, 64);
        MemorySegment b = arena.allocate((long) k * n * 4, 64);
        MemorySegment c = arena.allocate((long) m * n * 4, 64);
        for (long i = 0; i < (long) m * k; i++) {
            a.setAtIndex(ValueLayout.JAVA_FLOAT, i, (i % 11) / 11f);
        }
        for (long i = 0; i < (long) k * n; i++) {
            b.setAtIndex(ValueLayout.JAVA_FLOAT, i, (i % 7) / 7f);
        }
        long perCall = bytesPerCallOnceCompiled(() -> {
            Gemm.sgemm(false, false, m, n, k, 1f, a, 0, k, b, 0, n, 0f, c, 0, n);
            Gemm.sgemm(false, false, m, n, k, 0.5f, a, 0, k, b, 0, n, 1f, c, 0, n);
        });
        assertTrue(perCall <= 1024, "a compiled GEMM call still allocates " + perCall + " bytes (boxed vectors?)");
    }

    /**
     * Bytes allocated per kernel call (a pair of calls here) once it stops allocating, or after a
     * minute of trying: until C2 compiles a kernel, the Vector API runs as Java code that allocates
     * an object per operation, so the pair is called until a call allocates at most 1 KiB.
     */
    private static long bytesPerCallOnceCompiled(Runnable pairOfCalls) {
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assertTrue(threads.isThreadAllocatedMemorySupported() && threads.isThreadAllocatedMemoryEnabled());
        long deadline = System.nanoTime() + 60_000_000_000L;
        long perCall;
        do {
            long start = threads.getTotalThreadAllocatedBytes();
            for (int i = 0; i < 10; i++) {
                pairOfCalls.run();
            }
            perCall = (threads.getTotalThreadAllocatedBytes() - start) / 20;
        } while (perCall > 1024 && System.nanoTime() < deadline);
        return perCall;
    }
}
