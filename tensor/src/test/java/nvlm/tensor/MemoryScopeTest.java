package nvlm.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class MemoryScopeTest {

    @Test
    void closingAScopeReleasesItsTensorsAndLaterUseIsAClearError() {
        Tensor inside;
        try (var scope = MemoryScope.open()) {
            inside = Tensor.ones(1000);
            assertTrue(scope.bytes() >= 4000);
        }
        Tensor released = inside;
        var e = assertThrows(IllegalStateException.class, released::toFloatArray);
        assertTrue(e.getMessage().contains("MemoryScope"), e.getMessage());
    }

    @Test
    void escapedTensorsSurviveTheirScope() {
        Tensor kept;
        try (var outer = MemoryScope.open()) {
            try (var inner = MemoryScope.open()) {
                kept = MemoryScope.escape(Tensor.full(3, 4));
            }
            assertArrayEquals(new float[] {3, 3, 3, 3}, kept.toFloatArray());
        }
        assertTrue(kept.storage().isReleased(), "escaped to the outer scope, released with it");
    }

    @Test
    void gradientsLiveWithTheirParameterNotTheStepScope() {
        Tensor w = Tensor.ones(4).requiresGrad(true); // outside any scope
        for (int step = 0; step < 3; step++) {
            try (var s = MemoryScope.open()) {
                w.mul(w).sum().backward();
            }
        }
        assertArrayEquals(new float[] {6, 6, 6, 6}, w.grad().toFloatArray());
    }

    @Test
    void recycledGradientIsDroppedAndTheNextBackwardReusesItsMemory() {
        Tensor w = Tensor.randn(new java.util.Random(2), 5, 3).requiresGrad(true); // outside any scope, like a parameter
        try (var s = MemoryScope.open()) {
            w.mul(w).sum().backward();
        }
        Storage first = w.grad().storage();
        float[] twice = w.mul(2).toFloatArray();
        assertArrayEquals(twice, w.grad().toFloatArray());
        w.recycleGrad(); // what Parameter.zeroGrad and the optimizers' zeroGrad do
        assertEquals(null, w.grad(), "a parameter no gradient reaches must stay without one (optimizers skip it)");
        try (var s = MemoryScope.open()) {
            w.mul(w).mul(3).sum().backward();
        }
        assertTrue(w.grad().storage() == first, "the recycled buffer holds the new gradient");
        float[] six = w.mul(6).toFloatArray();
        assertArrayEquals(six, w.grad().toFloatArray(), "written, not added to the old gradient");
    }

    @Test
    void everyStorageOfAStepIsReleasedWhenItsScopeCloses() {
        java.util.List<Storage> made = new java.util.ArrayList<>();
        try (var s = MemoryScope.open()) {
            Tensor a = Tensor.randn(new java.util.Random(1), 64, 64).requiresGrad(true);
            Tensor loss = a.matmul(Tensor.ones(64, 8)).relu().sum();
            loss.backward();
            for (Tensor t : java.util.List.of(a, loss, a.grad())) {
                made.add(t.storage());
            }
            assertTrue(made.stream().noneMatch(Storage::isReleased));
        }
        assertTrue(made.stream().allMatch(Storage::isReleased));
    }

    @Test
    void releasedBlocksAreReusedForTheSameBucket() {
        CpuMemoryPool pool = new CpuMemoryPool(1L << 20);
        CpuMemoryPool.Block first = pool.acquire(10_000);
        pool.release(first);
        assertEquals(pool.cachedBytes(), CpuMemoryPool.bucket(10_000));
        CpuMemoryPool.Block second = pool.acquire(9_500); // same bucket
        assertTrue(first.segment().address() == second.segment().address(), "the cached block is handed out again");
        assertEquals(0, pool.cachedBytes());
        pool.release(second);
        CpuMemoryPool.Block big = pool.acquire(2 << 20); // above the cache limit: freed on release
        pool.release(big);
        assertEquals(CpuMemoryPool.bucket(10_000), pool.cachedBytes());
        pool.emptyCache();
        assertEquals(0, pool.cachedBytes());
    }

    @Test
    void releasingABlockTwiceIsRefusedInsteadOfAliasingItsMemory() {
        CpuMemoryPool pool = new CpuMemoryPool(1L << 20);
        CpuMemoryPool.Block block = pool.acquire(10_000);
        pool.release(block);
        IllegalStateException twice = assertThrows(IllegalStateException.class, () -> pool.release(block));
        assertTrue(twice.getMessage().contains("released twice"), twice.getMessage());
        CpuMemoryPool.Block big = pool.acquire(2 << 20); // freed for real on release (over the cache limit)
        pool.release(big);
        assertThrows(IllegalStateException.class, () -> pool.release(big));
        assertEquals(0, pool.allocatedBytes());
    }

    @Test
    void theBudgetBoundsMemoryInUseAndSaysSoWhenPassed() {
        CpuMemoryPool pool = new CpuMemoryPool(1L << 20, 4L << 20);
        CpuMemoryPool.Block a = pool.acquire(3L << 20);
        OutOfMemoryError over = assertThrows(OutOfMemoryError.class, () -> pool.acquire(2L << 20));
        assertTrue(over.getMessage().startsWith("CPU tensor memory: 3.0 MiB in use and 2.0 MiB more asked, past the budget of 4.0 MiB"
                + " (NVLM_CPU_MEMORY)"), over.getMessage());
        pool.release(a);
        // the cached block does not count against the budget: it is freed to make room
        CpuMemoryPool.Block b = pool.acquire(4L << 20);
        assertEquals(4L << 20, pool.allocatedBytes());
        pool.release(b);
    }

    @Test
    void aMissTakesTheSmallestFreeBlockOfAtMostTwiceItsBucket() {
        CpuMemoryPool pool = new CpuMemoryPool(1L << 24);
        CpuMemoryPool.Block small = pool.acquire(20_000);
        CpuMemoryPool.Block mid = pool.acquire(30_000);
        CpuMemoryPool.Block large = pool.acquire(100_000);
        pool.release(large);
        pool.release(mid);
        pool.release(small);
        CpuMemoryPool.Block got = pool.acquire(14_000); // bucket 14,336 is empty: 20,480 is the smallest fit
        assertEquals(small.segment().address(), got.segment().address());
        CpuMemoryPool.Block got2 = pool.acquire(25_000); // bucket 28,672 is empty: 30,720 is the smallest fit
        assertEquals(mid.segment().address(), got2.segment().address());
        CpuMemoryPool.Block fresh = pool.acquire(40_000); // 114,688 free, more than twice the 40,960 bucket: not taken
        assertTrue(fresh.segment().address() != large.segment().address());
        assertEquals(CpuMemoryPool.bucket(100_000), pool.cachedBytes());
        assertEquals(CpuMemoryPool.bucket(20_000) + CpuMemoryPool.bucket(30_000) + CpuMemoryPool.bucket(40_000),
                pool.allocatedBytes());
    }

    @Test
    void randomAcquireReleaseSequencesKeepBlocksDisjointLargeEnoughAndCounted() {
        qt().withExamples(40).forAll(integers().between(0, 1_000_000)).checkAssert(seed -> {
            CpuMemoryPool pool = new CpuMemoryPool(1L << 22);
            SplittableRandom rng = new SplittableRandom(seed);
            List<CpuMemoryPool.Block> live = new ArrayList<>();
            for (int op = 0; op < 300; op++) {
                if (live.isEmpty() || rng.nextInt(3) > 0) {
                    long bytes = 1 + rng.nextLong(rng.nextBoolean() ? 5_000 : 300_000);
                    CpuMemoryPool.Block b = pool.acquire(bytes);
                    long size = b.segment().byteSize();
                    assertTrue(size >= CpuMemoryPool.bucket(bytes) && size <= 2 * CpuMemoryPool.bucket(bytes),
                            "request " + bytes + " got " + size + " bytes");
                    live.add(b);
                } else {
                    int i = rng.nextInt(live.size());
                    pool.release(live.remove(i));
                }
                long total = 0;
                for (int i = 0; i < live.size(); i++) {
                    CpuMemoryPool.Block a = live.get(i);
                    total += a.segment().byteSize();
                    for (int j = i + 1; j < live.size(); j++) {
                        CpuMemoryPool.Block c = live.get(j);
                        boolean apart = a.segment().address() + a.segment().byteSize() <= c.segment().address()
                                || c.segment().address() + c.segment().byteSize() <= a.segment().address();
                        assertTrue(apart, "two live blocks overlap");
                    }
                }
                assertEquals(total, pool.allocatedBytes());
                assertTrue(pool.cachedBytes() <= 1L << 22);
            }
            live.forEach(pool::release);
            pool.emptyCache();
            assertEquals(0, pool.allocatedBytes());
            assertEquals(0, pool.cachedBytes());
        });
    }

    @Test
    void bucketsWasteAtMostAQuarter() {
        for (long bytes = 1; bytes < (1L << 30); bytes = bytes * 3 / 2 + 1) {
            long b = CpuMemoryPool.bucket(bytes);
            assertTrue(b >= bytes && (bytes <= 4096 || b <= bytes * 1.25 + 64), bytes + " -> " + b);
        }
    }
}
