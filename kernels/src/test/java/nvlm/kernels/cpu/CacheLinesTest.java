package nvlm.kernels.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** {@link CacheLines}: the start index it gives, and that GEMM's results do not depend on it. */
class CacheLinesTest {
    @Test
    void startIndexIsInsideOneLineAndFollowsTheArraysAddress() {
        // Arrays of sizes that are not multiples of 16 floats land at different offsets within a
        // cache line; the answer must vary with them (a constant would mean the address is not read).
        Set<Integer> seen = new HashSet<>();
        float[][] keep = new float[64][];
        for (int i = 0; i < keep.length; i++) {
            keep[i] = new float[1 + 3 * i];
            int start = CacheLines.floatsToBoundary(keep[i]);
            assertTrue(start >= 0 && start < CacheLines.SLACK_FLOATS, "start " + start + " for length " + keep[i].length);
            seen.add(start);
        }
        assertTrue(seen.size() >= 2, "64 arrays of different lengths all got start " + seen
                + ": the address was not read (is native access enabled for the tests?)");
        assertEquals(0, CacheLines.floatsToBoundary(new float[0]));
    }

    @Test
    void gemmGivesTheSameBitsWhateverItsWorkspaceAlignment() {
        // The workspace arrays are reallocated when a larger product needs more room, so running a
        // small product, a large one, then the small one again packs into arrays at other addresses.
        int m = 67;
        int n = 131;
        int k = 601; // two k blocks, so beta = 1 for the second
        try (Arena arena = Arena.ofShared()) {
            MemorySegment a = random(arena, (long) m * k, 1);
            MemorySegment b = random(arena, (long) k * n, 2);
            MemorySegment first = arena.allocate((long) m * n * Float.BYTES);
            MemorySegment again = arena.allocate((long) m * n * Float.BYTES);
            Gemm.sgemm(false, false, m, n, k, 1f, a, 0, k, b, 0, n, 0f, first, 0, n);
            int big = 700;
            MemorySegment x = random(arena, (long) big * big, 3);
            MemorySegment y = arena.allocate((long) big * big * Float.BYTES);
            Gemm.sgemm(false, false, big, big, big, 1f, x, 0, big, x, 0, big, 0f, y, 0, big);
            Gemm.sgemm(false, false, m, n, k, 1f, a, 0, k, b, 0, n, 0f, again, 0, n);
            assertEquals(-1L, first.mismatch(again), "the same product gave other bits after the workspace moved");
        }
    }

    private static MemorySegment random(Arena arena, long count, long seed) {
        MemorySegment s = arena.allocate(count * Float.BYTES);
        java.util.SplittableRandom random = new java.util.SplittableRandom(seed);
        for (long i = 0; i < count; i++) {
            s.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) random.nextDouble(-1, 1));
        }
        return s;
    }
}
