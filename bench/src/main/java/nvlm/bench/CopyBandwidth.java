package nvlm.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import nvlm.kernels.Parallel;

/**
 * Memory bandwidth as a copy of a buffer far larger than the caches, split over the kernel
 * threads: bytes read plus bytes written per second. A decoded token reads every weight once, so
 * this bandwidth over the bytes of weights is its ceiling (the roofline).
 */
final class CopyBandwidth {
    private static final long BYTES = 256L << 20;

    private CopyBandwidth() {
    }

    /** The best of a few copies (a ceiling, so the best and not the median). */
    static double measure() {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment from = arena.allocate(BYTES, 64);
            MemorySegment to = arena.allocate(BYTES, 64);
            from.fill((byte) 1);
            to.fill((byte) 2);
            double best = 0;
            for (int i = 0; i < 6; i++) {
                long start = System.nanoTime();
                int chunks = Parallel.threads() * 16;
                long chunk = BYTES / chunks;
                Parallel.forRange(chunks, 1, (c0, c1) -> MemorySegment.copy(from, c0 * chunk, to, c0 * chunk, (c1 - c0) * chunk));
                double seconds = (System.nanoTime() - start) / 1e9;
                best = Math.max(best, 2.0 * BYTES / seconds);
            }
            return best;
        }
    }
}
