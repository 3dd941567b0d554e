package nvlm.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ParallelTest {

    /** Every index of [0, n) is run exactly once, in contiguous chunks at least {@code grain} long (but for a lone chunk). */
    @Test
    void everyIndexRunsExactlyOnceInContiguousChunks() {
        qt().withExamples(300).forAll(integers().between(0, 5000), integers().between(1, 700)).checkAssert((n, grain) -> {
            AtomicIntegerArray visits = new AtomicIntegerArray(Math.max(1, n));
            List<int[]> ranges = Collections.synchronizedList(new ArrayList<>());
            Parallel.forRange(n, grain, (start, end) -> {
                ranges.add(new int[] {start, end});
                for (int i = start; i < end; i++) {
                    visits.incrementAndGet(i);
                }
            });
            for (int i = 0; i < n; i++) {
                assertEquals(1, visits.get(i), "index " + i + " of " + n);
            }
            assertTrue(ranges.size() <= Parallel.threads(), ranges.size() + " chunks");
            if (ranges.size() > 1) {
                for (int[] r : ranges) {
                    assertTrue(r[1] - r[0] >= grain, "chunk " + r[0] + ".." + r[1] + " shorter than grain " + grain);
                }
            }
        });
    }

    @Test
    void chunkBoundariesDependOnlyOnTheSize() {
        List<String> first = chunks(1000, 1);
        for (int i = 0; i < 50; i++) {
            assertEquals(first, chunks(1000, 1));
        }
    }

    private static List<String> chunks(int n, int grain) {
        List<String> out = Collections.synchronizedList(new ArrayList<>());
        Parallel.forRange(n, grain, (start, end) -> out.add(start + ".." + end));
        return out.stream().sorted().toList();
    }

    @Test
    void aChunksExceptionReachesTheCallerAfterEveryChunkFinishedAndThePoolStillWorks() {
        int n = 4 * Parallel.threads();
        AtomicIntegerArray visits = new AtomicIntegerArray(n);
        IllegalArgumentException boom = new IllegalArgumentException("boom");
        var thrown = assertThrows(IllegalArgumentException.class, () -> Parallel.forRange(n, 1, (start, end) -> {
            for (int i = start; i < end; i++) {
                visits.incrementAndGet(i);
            }
            if (end == n) {
                throw boom;
            }
        }));
        assertSame(boom, thrown);
        for (int i = 0; i < n; i++) {
            assertEquals(1, visits.get(i), "every chunk ran to its end before the call returned");
        }
        int[] sum = new int[1];
        Parallel.forRange(1, 1, (start, end) -> sum[0] += end - start);
        assertEquals(1, sum[0]);
    }

    @Test
    void nestedCallsRunInlineWithoutDeadlock() {
        int n = 64;
        AtomicIntegerArray visits = new AtomicIntegerArray(n * n);
        Parallel.forRange(n, 1, (start, end) -> {
            for (int i = start; i < end; i++) {
                int row = i;
                Parallel.forRange(n, 1, (s, e) -> {
                    for (int j = s; j < e; j++) {
                        visits.incrementAndGet(row * n + j);
                    }
                });
            }
        });
        for (int i = 0; i < n * n; i++) {
            assertEquals(1, visits.get(i));
        }
    }

    @Test
    void callersOnSeveralThreadsEachGetTheirWholeRange() throws InterruptedException {
        int callers = 4;
        int n = 20_000;
        long[] sums = new long[callers];
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < callers; t++) {
            int id = t;
            threads.add(Thread.ofPlatform().start(() -> {
                for (int round = 0; round < 200; round++) {
                    AtomicLong sum = new AtomicLong();
                    Parallel.forRange(n, 16, (start, end) -> {
                        long s = 0;
                        for (int i = start; i < end; i++) {
                            s += i;
                        }
                        sum.addAndGet(s);
                    });
                    sums[id] += sum.get();
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        for (long s : sums) {
            assertEquals(200L * n * (n - 1) / 2, s);
        }
    }
}
